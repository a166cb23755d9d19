using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Data;

/// <summary>
/// A cursor over <see cref="VaeScoringView"/>. Pass-through columns come from one input cursor; the feature column is read
/// ahead on a second cursor, <see cref="VaeScoringView.BatchRows"/> rows at a time, and scored in one forward pass. Both are
/// opened unshuffled, so a deterministic input gives them one order; their row ids are compared on every row as a guard
/// (it cannot see a reordering in sources whose ids are only positions).
/// </summary>
internal sealed class VaeScoringCursor : DataViewRowCursor
{
    private readonly VaeOutputSchema _schema;
    private readonly DataViewRowCursor _rows;
    private readonly DataViewRowCursor? _lookahead;
    private readonly ScoredRows? _scored;
    private readonly HashSet<int> _active;
    private readonly ValueGetter<VBuffer<float>>? _lookaheadFeatures;
    private readonly ValueGetter<DataViewRowId>? _lookaheadId;
    private readonly ValueGetter<DataViewRowId>? _rowId;
    private readonly DataViewRowId[] _batchIds;
    private int _slot = -1;

    public VaeScoringCursor(VaeOutputSchema schema, DataViewRowCursor rows, DataViewRowCursor? lookahead, ScoredRows? scored, HashSet<int> active)
    {
        _schema = schema;
        _rows = rows;
        _lookahead = lookahead;
        _scored = scored;
        _active = active;
        _batchIds = new DataViewRowId[scored?.Capacity ?? 0];
        if (lookahead is not null)
        {
            _lookaheadFeatures = lookahead.GetGetter<VBuffer<float>>(lookahead.Schema[schema.FeatureColumnIndex]);
            _lookaheadId = lookahead.GetIdGetter();
            _rowId = rows.GetIdGetter();
        }
    }

    public override DataViewSchema Schema => _schema.Output;
    public override long Position => _rows.Position;
    public override long Batch => _rows.Batch;
    public override ValueGetter<DataViewRowId> GetIdGetter() => _rows.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column) =>
        _schema.IsOutputColumn(column.Index) ? _active.Contains(column.Index) : _rows.IsColumnActive(_rows.Schema[column.Index]);

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        if (!_schema.IsOutputColumn(column.Index))
            return _rows.GetGetter<TValue>(_rows.Schema[column.Index]);
        if (_scored is null)
            throw new InvalidOperationException($"Column '{column.Name}' is not active: request it when creating the cursor or row.");
        return _scored.GetGetter<TValue>(_schema, column, _active.Contains(column.Index), () => _slot, static () => { });
    }

    public override bool MoveNext()
    {
        if (!_rows.MoveNext()) return false;
        if (_scored is null) return true;
        if (++_slot >= _scored.Count) ScoreNextBatch();
        DataViewRowId id = default;
        _rowId!(ref id);
        if (!id.Equals(_batchIds[_slot]))
            throw new InvalidOperationException(
                "The input data returned its rows in a different order to two cursors, so VAE scores cannot be matched to rows. " +
                "Cache the input first (mlContext.Data.Cache) or make its row order deterministic.");
        return true;
    }

    private void ScoreNextBatch()
    {
        _scored!.Clear();
        while (_scored.Count < _scored.Capacity && _lookahead!.MoveNext())
        {
            _lookaheadId!(ref _batchIds[_scored.Count]);
            _scored.Add(_lookaheadFeatures!);
        }
        if (_scored.Count == 0)
            throw new InvalidOperationException("The input data returned fewer rows to a second cursor than to the first; cache it (mlContext.Data.Cache).");
        _scored.Score();
        _slot = 0;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _rows.Dispose();
            _lookahead?.Dispose();
        }
        base.Dispose(disposing);
    }
}
