using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae.Model;

namespace MLNet.Vae.Data;

/// <summary>
/// The single-row path that <c>PredictionEngine</c> uses: each output getter scores the current input row once (cached
/// by row position) with a one-row forward pass, giving the same values as the batched cursor.
/// </summary>
internal sealed class VaeRowMapper : IRowToRowMapper
{
    private readonly VaeOutputSchema _schema;
    private readonly VaeEnsemble _models;
    private readonly ScoringSettings _settings;

    public VaeRowMapper(VaeOutputSchema schema, VaeEnsemble models, ScoringSettings settings)
    {
        _schema = schema;
        _models = models;
        _settings = settings;
    }

    public DataViewSchema InputSchema => _schema.Input;
    public DataViewSchema OutputSchema => _schema.Output;

    public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
    {
        var needed = dependingColumns.Select(c => c.Index).ToList();
        var inputs = needed.Where(i => !_schema.IsOutputColumn(i)).ToHashSet();
        if (needed.Any(_schema.IsOutputColumn)) inputs.Add(_schema.FeatureColumnIndex);
        return inputs.Select(i => _schema.Input[i]);
    }

    public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
        new MappedRow(_schema, input, new ScoredRows(_models, _settings, capacity: 1, featureScores: _schema.FeatureScoresColumnIndex >= 0), activeColumns.Select(c => c.Index).ToHashSet());

    private sealed class MappedRow : DataViewRow
    {
        private readonly VaeOutputSchema _schema;
        private readonly DataViewRow _input;
        private readonly ScoredRows _scored;
        private readonly HashSet<int> _active;
        private readonly ValueGetter<VBuffer<float>>? _features;
        private long _scoredPosition = -1;

        public MappedRow(VaeOutputSchema schema, DataViewRow input, ScoredRows scored, HashSet<int> active)
        {
            _schema = schema;
            _input = input;
            _scored = scored;
            _active = active;
            if (active.Any(schema.IsOutputColumn))
                _features = input.GetGetter<VBuffer<float>>(input.Schema[schema.FeatureColumnIndex]);
        }

        public override DataViewSchema Schema => _schema.Output;
        public override long Position => _input.Position;
        public override long Batch => _input.Batch;
        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            _schema.IsOutputColumn(column.Index) ? _active.Contains(column.Index) : _input.IsColumnActive(_input.Schema[column.Index]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!_schema.IsOutputColumn(column.Index))
                return _input.GetGetter<TValue>(_input.Schema[column.Index]);
            return _scored.GetGetter<TValue>(_schema, column, _active.Contains(column.Index), static () => 0, EnsureScored);
        }

        private void EnsureScored()
        {
            if (_scoredPosition == _input.Position) return;
            _scored.Clear();
            _scored.Add(_features!);
            _scored.Score();
            _scoredPosition = _input.Position;
        }
    }
}
