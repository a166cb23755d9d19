using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Model.OnnxConverter;
using MLNet.Vae.Model;

namespace MLNet.Vae.Data;

/// <summary>
/// The lazy result of <see cref="VaeTransformer.Transform"/>: nothing is computed until a cursor moves, and a cursor
/// pulls from the input only the columns it needs.
/// </summary>
/// <remarks>
/// It is also the VAE's step in ML.NET's ONNX export: <c>mlContext.Model.ConvertToOnnx</c> walks a transformed view back
/// through <see cref="IDataTransform.Source"/> and asks each step to write its nodes (<see cref="ITransformCanSaveOnnx"/>).
/// A view that is not such a step ends the walk, and ML.NET then turns its output columns into graph inputs.
/// </remarks>
internal sealed class VaeScoringView : ITransformCanSaveOnnx
{
    private readonly IDataView _input;
    private readonly VaeOutputSchema _schema;
    private readonly VaeEnsemble _models;
    private readonly ScoringSettings _settings;

    public VaeScoringView(IDataView input, VaeOutputSchema schema, VaeEnsemble models, ScoringSettings settings)
    {
        _input = input;
        _schema = schema;
        _models = models;
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
        var scored = scoring ? new ScoredRows(_models, _settings, _models.ScoringBatchRows, featureScores: _schema.FeatureScoresColumnIndex >= 0) : null;
        return new VaeScoringCursor(_schema, input, scored, needed);
    }

    /// <summary>The view this one scores (ML.NET's ONNX export walks the chain through it).</summary>
    public IDataView Source => _input;

    /// <summary>Always true: what cannot be exported is refused by <see cref="SaveAsOnnx"/> with the reason, never skipped.</summary>
    public bool CanSaveOnnx(OnnxContext ctx) => true;

    /// <summary>Writes the VAE's nodes (<see cref="VaeOnnxGraph"/>) from the feature column's variable to the output columns'.</summary>
    public void SaveAsOnnx(OnnxContext ctx)
    {
        string feature = _settings.FeatureColumnName;
        if (!ctx.ContainsColumn(feature))
            throw new InvalidOperationException($"The ONNX export has no variable for the VAE's input column '{feature}'.");
        string Output(int index) => ctx.AddIntermediateVariable(_schema.Output[index].Type, _schema.Output[index].Name);
        string input = ctx.GetVariableName(feature);
        var outputs = new VaeOnnxOutputs(Output(_schema.LatentColumnIndex), Output(_schema.ScoreColumnIndex), Output(_schema.PredictedLabelColumnIndex),
            _schema.HasPValue ? Output(_schema.PValueColumnIndex) : null,
            _schema.FeatureScoresColumnIndex >= 0 ? Output(_schema.FeatureScoresColumnIndex) : null);
        VaeOnnxGraph.Write(ctx, _models, input, _settings.Threshold, _settings.TrainingScores, outputs);
    }

    /// <summary>A legacy data-pipe save, which ML.NET never asks of a transformer's view: save the transformer (mlContext.Model.Save).</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException("Save the VAE through its transformer (mlContext.Model.Save or VaeTransformer.Save), not through its transformed data view.");

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];
}
