#pragma warning disable CS0618 // The retired score kinds are tested: they still score the models saved with them.
using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae.Model;
using TorchSharp;

namespace MLNet.Vae.Benchmarks;

/// <summary>
/// Quality on Fashion-MNIST. One-class protocol: fit on the 6000 training images of one class, score the 10 000 test
/// images, ROC-AUC with "not that class" as the anomaly; for the MLP and the convolutional VAE, every score kind (scored
/// from the same fitted model), and ML.NET's RandomizedPca in the same run. Test ELBO: the 784-400-20 MLP on the whole
/// training set, single-sample negative ELBO on the test set, as pytorch/examples reports it.
/// </summary>
public static class QualityBenchmark
{
    private sealed class Row
    {
        public float[] Pixels { get; set; } = [];
    }

    private static IDataView View(MLContext ml, IEnumerable<float[]> images)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Pixels)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, FashionMnist.Pixels);
        return ml.Data.LoadFromEnumerable(images.Select(p => new Row { Pixels = p }), schema);
    }

    /// <summary>
    /// The issue's protocol for the default path: only the likelihood (and for the convolutional network the architecture
    /// and image shape) set; every other option automatic.
    /// </summary>
    public static VaeOptions DefaultOptions(VaeArchitecture architecture) => new()
    {
        FeatureColumnName = nameof(Row.Pixels),
        Architecture = architecture,
        ImageShape = new VaeImageShape(1, FashionMnist.Side, FashionMnist.Side),
        Likelihood = VaeLikelihood.Bernoulli,
        Seed = 1,
    };

    public static VaeOptions Options(VaeArchitecture architecture, int epochs) => new()
    {
        FeatureColumnName = nameof(Row.Pixels),
        Architecture = architecture,
        HiddenLayerSizes = [400],
        ConvolutionChannels = [32, 64],
        ImageShape = new VaeImageShape(1, FashionMnist.Side, FashionMnist.Side),
        LatentDimension = 20,
        Likelihood = VaeLikelihood.Bernoulli,
        NumberOfEpochs = epochs,
        BatchSize = 128,
        LearningRate = 1e-3,
        Seed = 1,
        NumberOfThreads = 2,
    };

    /// <param name="variants">Option changes to compare (<see cref="BenchmarkVariant"/>: "default", "prior=10", "models=3",
    /// "steps=5000" ...); for an ensemble every kind is the members' mean standardized score of that kind.</param>
    /// <param name="dumpFolder">
    /// Null, or where to write each fit's rows for offline comparisons (latent_neighbours_comparison.py): see <see cref="Dump"/>.
    /// </param>
    public static void OneClass(FashionMnist data, IReadOnlyList<int> classes, IReadOnlyList<VaeArchitecture> architectures, int epochs, TextWriter output,
        IReadOnlyList<string>? variants = null, string? dumpFolder = null)
    {
        variants ??= ["default"];
        var ml = new MLContext(seed: 1);
        var kinds = Enum.GetValues<VaeScoreKind>();
        var fits = variants.SelectMany(v => architectures.Select(a => (Variant: v, Architecture: a, Name: variants.Count > 1 ? $"{v} {a}" : $"{a}"))).ToList();
        var columns = fits.SelectMany(f => kinds.Select(k => $"{f.Name} {k}")).Append("RandomizedPca(20)").ToList();
        var results = new Dictionary<string, List<double>>();
        var seconds = new Dictionary<string, List<double>>();
        output.WriteLine($"| class | {string.Join(" | ", columns)} |");
        output.WriteLine($"|---|{string.Concat(columns.Select(_ => "---|"))}");
        var testRows = Flatten(data.TestImages);
        foreach (int c in classes)
        {
            var train = data.TrainImages.Where((_, i) => data.TrainLabels[i] == c).ToList();
            var anomalous = data.TestLabels.Select(l => l != c).ToArray();
            var row = new List<string>();
            foreach (var fit in fits)
            {
                var clock = Stopwatch.StartNew();
                var options = BenchmarkVariant.Options(fit.Variant, epochs > 0 ? Options(fit.Architecture, epochs) : DefaultOptions(fit.Architecture),
                    FashionMnist.Pixels, train.Count);
                using var model = new VaeEstimator(ml, options).Fit(View(ml, train));
                Add(seconds, fit.Name, clock.Elapsed.TotalSeconds);
                // Every kind calibrated on the training images as Fit calibrates its own (BenchmarkScores.Score).
                var trainRows = Flatten(train.ToArray());
                foreach (var kind in kinds)
                {
                    double auc = RocAuc.Compute(BenchmarkScores.Score(model.Ensemble, kind, trainRows, train.Count, testRows, data.TestImages.Length), anomalous);
                    Add(results, $"{fit.Name} {kind}", auc);
                    row.Add($"{auc:F3}");
                }
                if (dumpFolder is not null)
                    Dump(Path.Combine(dumpFolder, $"{fit.Name.Replace(' ', '_')}.class{c}.csv"), model.Ensemble.First, trainRows, train.Count, testRows, anomalous);
            }
            var pca = ml.AnomalyDetection.Trainers.RandomizedPca(nameof(Row.Pixels), rank: 20, ensureZeroMean: true, seed: 1).Fit(View(ml, train));
            var pcaScores = pca.Transform(View(ml, data.TestImages)).GetColumn<float>("Score").ToArray();
            double pcaAuc = RocAuc.Compute(pcaScores, anomalous);
            Add(results, "RandomizedPca(20)", pcaAuc);
            row.Add($"{pcaAuc:F3}");
            output.WriteLine($"| {c} {IdxLabel(c)} | {string.Join(" | ", row)} |");
            output.Flush();
        }
        output.WriteLine($"| **mean** | {string.Join(" | ", columns.Select(c => $"**{results[c].Average():F3}**"))} |");
        output.WriteLine();
        foreach (var (name, times) in seconds)
            output.WriteLine($"{name}: {times.Average():F1} s per class to fit ({(epochs > 0 ? $"{epochs}" : "automatic")} epochs of ~6000 images, {torch.get_num_threads()} threads).");
    }

    /// <summary>The 784-400-20 MLP on all 60 000 training images; per-epoch time and the test set's single-sample negative ELBO.</summary>
    public static double TestNegativeElbo(FashionMnist data, int epochs, TextWriter output)
    {
        var ml = new MLContext(seed: 1);
        var options = Options(VaeArchitecture.Mlp, epochs);
        var clock = Stopwatch.StartNew();
        if (Environment.GetEnvironmentVariable("VAE_TRACE") == "1")
            ml.Log += (_, e) => { if (e.Source.Contains("Vae")) Console.Error.WriteLine($"{clock.Elapsed.TotalSeconds,7:F2} s  {e.Message[..Math.Min(90, e.Message.Length)]}"); };
        using var model = new VaeEstimator(ml, options).Fit(View(ml, data.TrainImages));
        double fitSeconds = clock.Elapsed.TotalSeconds;
        var rows = Flatten(data.TestImages);
        using var generator = new torch.Generator(12345);
        double sum = 0;
        const int Batch = 1000;
        for (int start = 0; start < data.TestImages.Length; start += Batch)
        {
            int count = Math.Min(Batch, data.TestImages.Length - start);
            sum += BenchmarkScores.SampledNegativeElbo(model.Model, rows.AsSpan(start * FashionMnist.Pixels, count * FashionMnist.Pixels), count, generator).Sum(v => (double)v);
        }
        double elbo = sum / data.TestImages.Length;
        output.WriteLine("| epoch | train loss (nats) | seconds |");
        output.WriteLine("|---|---|---|");
        foreach (var e in model.Training.History) output.WriteLine($"| {e.Epoch} | {e.Loss:F2} | {e.Seconds:F2} |");
        output.WriteLine();
        output.WriteLine($"Test negative ELBO after {epochs} epochs: {elbo:F2} nats (single sample per image, seeded); Fit took {fitSeconds:F1} s including data conversion.");
        return elbo;
    }

    /// <summary>
    /// Writes one CSV line per training image and per test image of a fitted model (the first member of an ensemble):
    /// split (0 training, 1 test), anomalous (1 for a test image of another class), the
    /// <see cref="VaeScoreKind.WeightedReconstructionError"/> and <see cref="VaeScoreKind.ReconstructionAndLatentDensity"/>
    /// scores, then the latent means μ(x).
    /// </summary>
    private static void Dump(string path, VaeModel model, float[] trainRows, int trainCount, float[] testRows, bool[] anomalous)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var writer = new StreamWriter(path);
        var weightedKind = ScoreCalibrator.Calibrated(model, VaeScoreKind.WeightedReconstructionError, trainRows, trainCount);
        var densityKind = ScoreCalibrator.Calibrated(model, VaeScoreKind.ReconstructionAndLatentDensity, trainRows, trainCount);
        foreach (var (split, rows, count) in new[] { (0, trainRows, trainCount), (1, testRows, anomalous.Length) })
        {
            var (weighted, latent) = BenchmarkScores.ScoreWithLatent(model, weightedKind, rows, count);
            var (density, _) = BenchmarkScores.ScoreWithLatent(model, densityKind, rows, count);
            for (int r = 0; r < count; r++)
            {
                var values = new[] { weighted[r], density[r] }.Concat(latent.AsSpan(r * model.LatentDimension, model.LatentDimension).ToArray())
                    .Select(v => v.ToString("R", CultureInfo.InvariantCulture));
                writer.WriteLine($"{split},{(split == 1 && anomalous[r] ? 1 : 0)},{string.Join(",", values)}");
            }
        }
    }

    private static float[] Flatten(float[][] images)
    {
        var all = new float[images.Length * FashionMnist.Pixels];
        for (int i = 0; i < images.Length; i++) images[i].CopyTo(all, i * FashionMnist.Pixels);
        return all;
    }

    private static void Add(Dictionary<string, List<double>> table, string key, double value)
    {
        if (!table.TryGetValue(key, out var list)) table[key] = list = [];
        list.Add(value);
    }

    private static string IdxLabel(int c) => MLNet.Vae.Samples.IdxImages.FashionClassNames[c];
}
