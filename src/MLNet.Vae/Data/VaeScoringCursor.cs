using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Data;

/// <summary>
/// A cursor over <see cref="VaeScoringView"/> that reads its input once. When an output column is requested it reads up to
/// <see cref="ScoredRows.Capacity"/> input rows ahead, keeping their features, ids and requested pass-through values, scores
/// them in one forward pass, then hands the rows out in input order. So a read-once or non-repeatable source gets each score
/// beside its own row, and upstream transforms run once per row.
/// </summary>
internal sealed class VaeScoringCursor : DataViewRowCursor
{
    private readonly VaeOutputSchema _schema;
    private readonly DataViewRowCursor _input;
    private readonly ScoredRows? _scored;
    private readonly HashSet<int> _active;
    private readonly ValueGetter<VBuffer<float>>? _features;
    private readonly ValueGetter<DataViewRowId>? _inputId;
    private readonly Dictionary<int, ColumnBuffer> _passThrough = [];
    private readonly DataViewRowId[] _ids;
    private int _slot = -1;
    private long _position = -1;
    private bool _inputEnded;

    /// <param name="schema">The output schema.</param>
    /// <param name="input">A cursor over the input, with the requested input columns and the feature column active.</param>
    /// <param name="scored">The batch buffer, or null when no output column is requested (the rows then pass straight through).</param>
    /// <param name="active">The requested output-schema columns.</param>
    public VaeScoringCursor(VaeOutputSchema schema, DataViewRowCursor input, ScoredRows? scored, HashSet<int> active)
    {
        _schema = schema;
        _input = input;
        _scored = scored;
        _active = active;
        _ids = new DataViewRowId[scored?.Capacity ?? 0];
        if (scored is null) return;
        _features = input.GetGetter<VBuffer<float>>(input.Schema[schema.FeatureColumnIndex]);
        _inputId = input.GetIdGetter();
        foreach (int index in active.Where(i => !schema.IsOutputColumn(i)))
            _passThrough[index] = ColumnBuffer.For(input, input.Schema[index], scored.Capacity);
    }

    public override DataViewSchema Schema => _schema.Output;
    public override long Position => _scored is null ? _input.Position : _position;
    public override long Batch => _input.Batch;

    public override ValueGetter<DataViewRowId> GetIdGetter()
    {
        if (_scored is null) return _input.GetIdGetter();
        return (ref DataViewRowId id) => id = _ids[_slot];
    }

    public override bool IsColumnActive(DataViewSchema.Column column) => _scored is null || _schema.IsOutputColumn(column.Index)
        ? _active.Contains(column.Index)
        : _passThrough.ContainsKey(column.Index);

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        if (_scored is null)
        {
            if (_schema.IsOutputColumn(column.Index))
                throw new InvalidOperationException($"Column '{column.Name}' is not active: request it when creating the cursor or row.");
            return _input.GetGetter<TValue>(_input.Schema[column.Index]);
        }
        if (_schema.IsOutputColumn(column.Index))
            return _scored.GetGetter<TValue>(_schema, column, _active.Contains(column.Index), () => _slot, static () => { });
        if (!_passThrough.TryGetValue(column.Index, out var buffer))
            throw new InvalidOperationException($"Column '{column.Name}' is not active: request it when creating the cursor or row.");
        if (typeof(TValue) != column.Type.RawType)
            throw new InvalidOperationException($"Invalid TValue in GetGetter: '{typeof(TValue)}', expected type: '{column.Type.RawType}'.");
        return (ValueGetter<TValue>)buffer.GetterOf(() => _slot);
    }

    public override bool MoveNext()
    {
        if (_scored is null) return _input.MoveNext();
        if (++_slot >= _scored.Count && !ReadAndScoreBatch()) return false;
        _position++;
        return true;
    }

    /// <summary>Reads the next batch of input rows and scores it; false when the input has no more rows.</summary>
    private bool ReadAndScoreBatch()
    {
        _scored!.Clear();
        _slot = 0;
        while (!_inputEnded && _scored.Count < _scored.Capacity)
        {
            if (!_input.MoveNext())
            {
                _inputEnded = true;
                break;
            }
            int slot = _scored.Count;
            _inputId!(ref _ids[slot]);
            foreach (var buffer in _passThrough.Values) buffer.Capture(slot);
            _scored.Add(_features!);
        }
        if (_scored.Count == 0) return false;
        _scored.Score();
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _input.Dispose();
        base.Dispose(disposing);
    }
}
