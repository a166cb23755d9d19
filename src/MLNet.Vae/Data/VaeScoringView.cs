using Microsoft.ML;
using MLNet.Vae.Model;

namespace MLNet.Vae.Data;

/// <summary>
/// The lazy result of <see cref="VaeTransformer.Transform"/>: nothing is computed until a cursor moves, and a cursor
/// pulls from the input only the columns it needs.
/// </summary>
internal sealed class VaeScoringView : IDataView
{
    /// <summary>Rows per forward pass when scoring through a cursor: large enough to amortize the native calls.</summary>
    public const int BatchRows = VaeModel.ScoringBatchRows;

    private readonly IDataView _input;
    private readonly VaeOutputSchema _schema;
    private readonly VaeModel _model;
    private readonly float _threshold;

    public VaeScoringView(IDataView input, VaeOutputSchema schema, VaeModel model, float threshold)
    {
        _input = input;
        _schema = schema;
        _model = model;
        _threshold = threshold;
    }

    public DataViewSchema Schema => _schema.Output;

    /// <summary>Rows keep the input's order: the batched cursor reads ahead on a second cursor that must see the same order.</summary>
    public bool CanShuffle => false;

    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.Select(c => c.Index).ToHashSet();
        var inputColumns = needed.Where(i => !_schema.IsOutputColumn(i)).Select(i => _input.Schema[i]).ToList();
        bool scoring = needed.Any(_schema.IsOutputColumn);
        var rows = _input.GetRowCursor(inputColumns);
        if (!scoring)
            return new VaeScoringCursor(_schema, rows, lookahead: null, scored: null, needed);
        var lookahead = _input.GetRowCursor([_input.Schema[_schema.FeatureColumnIndex]]);
        return new VaeScoringCursor(_schema, rows, lookahead, new ScoredRows(_model, _threshold, BatchRows), needed);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];
}
