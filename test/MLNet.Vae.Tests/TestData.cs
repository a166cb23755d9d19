using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Tests;

/// <summary>A row of the synthetic test sets: a feature vector, a Single anomaly label (1 = planted outlier) and an id.</summary>
public sealed class FeatureRow
{
    public float[] Features { get; set; } = [];
    public float Label { get; set; }
    public int Id { get; set; }
}

/// <summary>
/// Small generated data sets. "Normal" rows lie near a low-dimensional linear manifold (x = W z + noise, z ~ N(0, I)),
/// which a VAE learns; planted outliers do not lie on it, so they reconstruct badly.
/// </summary>
public static class TestData
{
    public const int Width = 16;
    public const int ManifoldRank = 3;

    /// <summary>Rows on the manifold; <paramref name="unitInterval"/> squashes them into (0, 1) for the Bernoulli likelihood.</summary>
    public static List<FeatureRow> Normal(int count, int seed, bool unitInterval = false, int width = Width)
    {
        var random = new Random(seed);
        var loadings = Loadings(width);
        var rows = new List<FeatureRow>(count);
        for (int r = 0; r < count; r++)
        {
            var z = Enumerable.Range(0, ManifoldRank).Select(_ => Gaussian(random)).ToArray();
            var x = new float[width];
            for (int i = 0; i < width; i++)
            {
                double value = 0.05 * Gaussian(random);
                for (int k = 0; k < ManifoldRank; k++) value += loadings[k, i] * z[k];
                x[i] = unitInterval ? (float)(1 / (1 + Math.Exp(-value))) : (float)(3 + 2 * value);
            }
            rows.Add(new FeatureRow { Features = x, Label = 0, Id = r });
        }
        return rows;
    }

    /// <summary>Rows off the manifold: independent values per feature, spread like the normal rows.</summary>
    public static List<FeatureRow> Outliers(int count, int seed, bool unitInterval = false, int width = Width, int firstId = 100_000)
    {
        var random = new Random(seed);
        var rows = new List<FeatureRow>(count);
        for (int r = 0; r < count; r++)
        {
            var x = new float[width];
            for (int i = 0; i < width; i++)
            {
                double value = 1.5 * Gaussian(random);
                x[i] = unitInterval ? (float)(1 / (1 + Math.Exp(-value))) : (float)(3 + 2 * value);
            }
            rows.Add(new FeatureRow { Features = x, Label = 1, Id = firstId + r });
        }
        return rows;
    }

    /// <summary>An IDataView whose Features column is a known-size vector of <paramref name="width"/> floats.</summary>
    public static IDataView ToDataView(MLContext ml, IEnumerable<FeatureRow> rows, int width = Width) =>
        ml.Data.LoadFromEnumerable(rows, VectorSchema(width));

    /// <summary>A schema definition of <see cref="FeatureRow"/> whose Features column is a known-size vector of <paramref name="width"/> floats.</summary>
    public static SchemaDefinition VectorSchema(int width = Width)
    {
        var schema = SchemaDefinition.Create(typeof(FeatureRow));
        schema[nameof(FeatureRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return schema;
    }

    /// <summary>The <see cref="SchemaShape"/> of a schema, as ML.NET's internal SchemaShape.Create makes it.</summary>
    public static SchemaShape ShapeOf(DataViewSchema schema) => new(schema.Select(c => MLNet.Vae.Internal.MLNetInternals.NewColumn(
        c.Name,
        c.Type is VectorDataViewType v ? (v.IsKnownSize ? SchemaShape.Column.VectorKind.Vector : SchemaShape.Column.VectorKind.VariableVector) : SchemaShape.Column.VectorKind.Scalar,
        c.Type is VectorDataViewType vector ? vector.ItemType : c.Type)));

    /// <summary>The scores of a transformed view, in row order.</summary>
    /// <summary>The transformer saved to a stream and loaded back: what a user gets from a model file.</summary>
    public static VaeTransformer SavedAndLoaded(MLContext ml, VaeTransformer transformer)
    {
        using var file = new MemoryStream();
        transformer.Save(file);
        file.Position = 0;
        return VaeTransformer.Load(ml, file);
    }

    public static float[] Scores(IDataView transformed, string column = "Score") =>
        transformed.GetColumn<float>(column).ToArray();

    /// <summary>Fixed manifold directions, the same for every seed so train and test sets share a manifold.</summary>
    private static double[,] Loadings(int width)
    {
        var random = new Random(12345);
        var loadings = new double[ManifoldRank, width];
        for (int k = 0; k < ManifoldRank; k++)
            for (int i = 0; i < width; i++)
                loadings[k, i] = Gaussian(random);
        return loadings;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>
    /// Options for fast tests: a small network and few epochs, one model, every row trained on (no trimming: the tests of other
    /// features check the untrimmed loss; TrimmedTrainingTests, EnsembleTests and AutomaticOptionsTests cover trimming and
    /// the automatic ensemble of small tables).
    /// </summary>
    public static VaeOptions FastOptions(VaeLikelihood likelihood = VaeLikelihood.Gaussian, int epochs = 40) => new()
    {
        LatentDimension = 3,
        HiddenLayerSizes = [16],
        Likelihood = likelihood,
        NumberOfEpochs = epochs,
        BatchSize = 32,
        LearningRate = 3e-3,
        Seed = 7,
        Contamination = 0.05,
        TrimmedFraction = 0,
        NumberOfModels = 1,
    };
}
