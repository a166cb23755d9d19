using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Data;

/// <summary>
/// The schema a fitted VAE produces: every input column, then the latent mean, the score and the predicted label
/// (which hide input columns of the same names, as ML.NET transforms do).
/// </summary>
internal sealed class VaeOutputSchema
{
    public VaeOutputSchema(DataViewSchema input, VaeOptions options, int inputWidth, int latentDimension)
    {
        Input = input;
        FeatureColumnIndex = FeatureColumn.Check(input, options.FeatureColumnName, inputWidth).Index;
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input);
        builder.AddColumn(options.LatentColumnName, new VectorDataViewType(NumberDataViewType.Single, latentDimension));
        builder.AddColumn(options.ScoreColumnName, NumberDataViewType.Single, ScoreAnnotations("Score"));
        builder.AddColumn(options.PredictedLabelColumnName, BooleanDataViewType.Instance, ScoreAnnotations("PredictedLabel"));
        Output = builder.ToSchema();
    }

    public DataViewSchema Input { get; }
    public DataViewSchema Output { get; }
    public int FeatureColumnIndex { get; }
    public int LatentColumnIndex => Input.Count;
    public int ScoreColumnIndex => Input.Count + 1;
    public int PredictedLabelColumnIndex => Input.Count + 2;

    /// <summary>True for the columns this transformer adds (as opposed to the input columns it passes through).</summary>
    public bool IsOutputColumn(int index) => index >= Input.Count;

    /// <summary>ML.NET's score annotations, so its evaluators recognise the columns as an anomaly detector's.</summary>
    private static DataViewSchema.Annotations ScoreAnnotations(string valueKind)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        AddText(builder, "ScoreColumnKind", "AnomalyDetection");
        AddText(builder, "ScoreValueKind", valueKind);
        return builder.ToAnnotations();
    }

    private static void AddText(DataViewSchema.Annotations.Builder builder, string kind, string value) =>
        builder.Add(kind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = value.AsMemory());
}
