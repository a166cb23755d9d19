using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae.Internal;

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
        HasPValue = options.PValueColumnName is not null;
        if (HasPValue) builder.AddColumn(options.PValueColumnName!, NumberDataViewType.Single);
        if (options.FeatureScoresColumnName is not null)
        {
            var feature = input[FeatureColumnIndex];
            FeatureScoresColumnIndex = Input.Count + 3 + (options.PValueColumnName is null ? 0 : 1);
            builder.AddColumn(options.FeatureScoresColumnName, new VectorDataViewType(NumberDataViewType.Single, inputWidth), SlotNamesOf(feature));
        }
        Output = builder.ToSchema();
    }

    /// <summary>The feature column's slot names as annotations of the feature scores (none when it has none).</summary>
    private static DataViewSchema.Annotations SlotNamesOf(DataViewSchema.Column feature)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        if (feature.Annotations.Schema.GetColumnOrNull("SlotNames") is { } names && names.Type is VectorDataViewType { ItemType: TextDataViewType } type)
        {
            var getter = feature.Annotations.GetGetter<VBuffer<ReadOnlyMemory<char>>>(names);
            builder.Add("SlotNames", type, getter);
        }
        return builder.ToAnnotations();
    }

    public DataViewSchema Input { get; }
    public DataViewSchema Output { get; }
    public int FeatureColumnIndex { get; }
    public int LatentColumnIndex => Input.Count;
    public int ScoreColumnIndex => Input.Count + 1;
    public int PredictedLabelColumnIndex => Input.Count + 2;
    /// <summary>The p-value column's index, when the options ask for it (<see cref="VaeOptions.PValueColumnName"/>).</summary>
    public int PValueColumnIndex => Input.Count + 3;
    /// <summary>Whether the options ask for the p-value column.</summary>
    public bool HasPValue { get; }
    /// <summary>The feature scores column's index (<see cref="VaeOptions.FeatureScoresColumnName"/>), or −1 without it.</summary>
    public int FeatureScoresColumnIndex { get; } = -1;

    /// <summary>True for the columns this transformer adds (as opposed to the input columns it passes through).</summary>
    public bool IsOutputColumn(int index) => index >= Input.Count;

    /// <summary>
    /// The same columns as an estimator declares them before any data is seen (<see cref="VaeEstimator.GetOutputSchema"/>),
    /// with the same annotations: one description of the output, two forms.
    /// </summary>
    public static SchemaShape Shape(SchemaShape input, VaeOptions options)
    {
        var annotations = new SchemaShape(AnnotationKinds.Select(kind =>
            MLNetInternals.NewColumn(kind, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance)));
        var columns = input.ToDictionary(c => c.Name);
        columns[options.LatentColumnName] = MLNetInternals.NewColumn(options.LatentColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single);
        columns[options.ScoreColumnName] = MLNetInternals.NewColumn(options.ScoreColumnName, SchemaShape.Column.VectorKind.Scalar,
            NumberDataViewType.Single, annotations: annotations);
        columns[options.PredictedLabelColumnName] = MLNetInternals.NewColumn(options.PredictedLabelColumnName, SchemaShape.Column.VectorKind.Scalar,
            BooleanDataViewType.Instance, annotations: annotations);
        if (options.PValueColumnName is not null)
            columns[options.PValueColumnName] = MLNetInternals.NewColumn(options.PValueColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single);
        if (options.FeatureScoresColumnName is not null)
            columns[options.FeatureScoresColumnName] = MLNetInternals.NewColumn(options.FeatureScoresColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single);
        return new SchemaShape(columns.Values);
    }

    private static readonly string[] AnnotationKinds = ["ScoreColumnKind", "ScoreValueKind"];

    /// <summary>ML.NET's score annotations, so its evaluators recognise the columns as an anomaly detector's.</summary>
    private static DataViewSchema.Annotations ScoreAnnotations(string valueKind)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        AddText(builder, AnnotationKinds[0], "AnomalyDetection");
        AddText(builder, AnnotationKinds[1], valueKind);
        return builder.ToAnnotations();
    }

    private static void AddText(DataViewSchema.Annotations.Builder builder, string kind, string value) =>
        builder.Add(kind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = value.AsMemory());
}
