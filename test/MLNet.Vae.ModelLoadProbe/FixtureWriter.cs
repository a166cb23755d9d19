using System.Globalization;
using Microsoft.ML;
using MLNet.Vae;

namespace MLNet.Vae.ModelLoadProbe;

/// <summary>
/// Writes the compatibility fixture that every later version must keep loading with the same scores:
/// a pipeline saved with mlContext.Model.Save (NormalizeMinMax -> VAE -> Concatenate -> KMeans), a VAE saved with
/// VaeTransformer.Save, the data they score, and the values this version computed.
/// </summary>
public static class FixtureWriter
{
    public static int Run(string folder)
    {
        Directory.CreateDirectory(folder);
        string dataPath = Path.Combine(folder, "data.csv");
        WriteData(dataPath);

        var ml = new MLContext(seed: 1);
        var data = ProbeData.Load(ml, dataPath);
        var options = new VaeOptions
        {
            LatentDimension = 3,
            HiddenLayerSizes = [16],
            NumberOfEpochs = 20,
            BatchSize = 32,
            LearningRate = 3e-3,
            Seed = 7,
            Contamination = 0.1,
            ScoreColumnName = "AnomalyScore",
            PredictedLabelColumnName = "IsAnomaly",
        };
        var pipeline = ml.Transforms.NormalizeMinMax("Features")
            .Append(ml.AnomalyDetection.Trainers.VariationalAutoencoder(options))
            .Append(ml.Transforms.Concatenate("Combined", "LatentFeatures", "Features"))
            .Append(ml.Clustering.Trainers.KMeans("Combined", numberOfClusters: 2));
        var model = pipeline.Fit(data);
        ml.Model.Save(model, data.Schema, Path.Combine(folder, "pipeline.zip"));
        ProbeData.WriteColumns(model.Transform(data), Path.Combine(folder, "expected-pipeline.csv"), ProbeData.OutputColumns);

        var vaeOptions = options.Clone();
        vaeOptions.ScoreColumnName = "Score";
        vaeOptions.PredictedLabelColumnName = "PredictedLabel";
        using var vae = ml.AnomalyDetection.Trainers.VariationalAutoencoder(vaeOptions).Fit(data);
        vae.Save(Path.Combine(folder, "vae.model"));
        ProbeData.WriteColumns(vae.Transform(data), Path.Combine(folder, "expected-vae.csv"), "LatentFeatures", "PredictedLabel", "Score");

        foreach (var disposable in model.OfType<IDisposable>()) disposable.Dispose();
        Console.WriteLine($"Fixture written to {Path.GetFullPath(folder)}");
        return 0;
    }

    /// <summary>200 rows near a 3-dimensional linear manifold, 20 off it (Label 1), from a fixed seed.</summary>
    private static void WriteData(string path)
    {
        var random = new Random(2024);
        double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var loadings = new double[3, ProbeData.Width];
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < ProbeData.Width; i++)
                loadings[k, i] = Gaussian();
        using var writer = new StreamWriter(path);
        for (int row = 0; row < 220; row++)
        {
            bool outlier = row >= 200;
            var z = new[] { Gaussian(), Gaussian(), Gaussian() };
            var values = new string[ProbeData.Width];
            for (int i = 0; i < ProbeData.Width; i++)
            {
                double x = outlier ? 1.5 * Gaussian() : 0.05 * Gaussian() + z[0] * loadings[0, i] + z[1] * loadings[1, i] + z[2] * loadings[2, i];
                values[i] = ((float)(3 + 2 * x)).ToString("R", CultureInfo.InvariantCulture);
            }
            writer.WriteLine($"{string.Join(",", values)},{(outlier ? 1 : 0)},{row}");
        }
    }
}
