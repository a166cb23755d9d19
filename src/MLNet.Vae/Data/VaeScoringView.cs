using Microsoft.ML;
using MLNet.Vae.Model;

namespace MLNet.Vae.Data;

/// <summary>
/// The lazy result of <see cref="VaeTransformer.Transform"/>: nothing is computed until a cursor moves, and a cursor
/// pulls from the input only the columns it needs.
/// </summary>
internal sealed class VaeScoringView : IDataView
{
    private readonly IDataView _input;
    private readonly VaeOutputSchema _schema;
    private readonly VaeModel _model;
    private readonly ScoringSettings _settings;

    public VaeScoringView(IDataView input, VaeOutputSchema schema, VaeModel model, ScoringSettings settings)
    {
        _input = input;
        _schema = schema;
        _model = model;
        _settings = settings;
    }

    public DataViewSchema Schema => _schema.Output;

    /// <summary>Rows keep the input's order (a shuffle belongs upstream, e.g. mlContext.Data.ShuffleRows).</summary>
    public bool CanShuffle => false;

    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.Select(c => c.Index).ToHashSet();
        var inputColumns = needed.Where(i => !_schema.IsOutputColumn(i)).ToHashSet();
        bool scoring = needed.Any(_schema.IsOutputColumn);
        if (scoring) inputColumns.Add(_schema.FeatureColumnIndex);
        var input = _input.GetRowCursor(inputColumns.Select(i => _input.Schema[i]));
        var scored = scoring ? new ScoredRows(_model, _settings, _model.ScoringBatchRows, featureScores: _schema.FeatureScoresColumnIndex >= 0) : null;
        return new VaeScoringCursor(_schema, input, scored, needed);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];
}
