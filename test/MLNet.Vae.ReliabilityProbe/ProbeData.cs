using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.ReliabilityProbe;

public sealed class Row
{
    [VectorType(ProbeData.Width)]
    public float[] Features { get; set; } = [];
    public int Id { get; set; }
}

public sealed class ScoredRow
{
    [VectorType(ProbeData.Width)]
    public float[] Features { get; set; } = [];
    public int Id { get; set; }
    public float Score { get; set; }
    public bool PredictedLabel { get; set; }
}

/// <summary>Small seeded data: rows near a 2-D linear manifold, squashed into (0, 1) for the Bernoulli likelihood.</summary>
internal static class ProbeData
{
    public const int Width = 8;

    public static List<Row> Rows(int count, int seed, bool unitInterval = false, int firstId = 0)
    {
        var random = new Random(seed);
        var rows = new List<Row>(count);
        for (int r = 0; r < count; r++)
        {
            double a = Gaussian(random), b = Gaussian(random);
            var x = new float[Width];
            for (int i = 0; i < Width; i++)
            {
                double value = Math.Sin(i + 1) * a + Math.Cos(2 * i + 1) * b + 0.05 * Gaussian(random);
                x[i] = unitInterval ? (float)(1 / (1 + Math.Exp(-value))) : (float)(3 + 2 * value);
            }
            rows.Add(new Row { Features = x, Id = firstId + r });
        }
        return rows;
    }

    public static VaeOptions Options(VaeLikelihood likelihood = VaeLikelihood.Gaussian, int epochs = 3) => new()
    {
        LatentDimension = 2,
        HiddenLayerSizes = [6],
        Likelihood = likelihood,
        NumberOfEpochs = epochs,
        BatchSize = 32,
        Seed = 7,
        // One model: the probes craft and damage single-model files (an ensemble's file has its own format version).
        NumberOfModels = 1,
    };

    public static VaeTransformer Fit(MLContext ml, VaeLikelihood likelihood = VaeLikelihood.Gaussian, int rows = 200, int epochs = 3) =>
        ml.AnomalyDetection.Trainers.VariationalAutoencoder(Options(likelihood, epochs))
            .Fit(ml.Data.LoadFromEnumerable(Rows(rows, seed: 1, unitInterval: likelihood == VaeLikelihood.Bernoulli)));

    public static List<ScoredRow> Score(MLContext ml, ITransformer model, IEnumerable<Row> rows) =>
        ml.Data.CreateEnumerable<ScoredRow>(model.Transform(ml.Data.LoadFromEnumerable(rows)), reuseRowObject: false).ToList();

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
