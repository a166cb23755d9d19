using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Vae.Onnx;

namespace MLNet.Vae.Tests;

/// <summary>
/// The three scoring paths agree for every score kind, likelihood and network: batched Transform (libtorch), one row at
/// a time through PredictionEngine (managed code for the MLP, libtorch for the convolutional network) and the exported
/// graph under ONNX Runtime. The promise of docs/reliability.md: each kind's score within <see cref="Tolerance"/> × max(1, |s|)
/// before the final standardization z = (s − c) / σ (so z within that divided by σ), latent features within
/// <see cref="Tolerance"/> × max(1, |value|), and the same label away from the threshold by more than the score's bound.
/// </summary>
[TestClass]
public sealed class ScoringAgreementTests
{
    /// <summary>The agreement docs/reliability.md states.</summary>
    public const double Tolerance = 2e-5;

    public static IEnumerable<object[]> Cases() =>
        from architecture in new[] { VaeArchitecture.Mlp, VaeArchitecture.Convolutional }
        from likelihood in new[] { VaeLikelihood.Bernoulli, VaeLikelihood.Gaussian }
        from kind in Enum.GetValues<VaeScoreKind>()
        select new object[] { architecture, likelihood, kind };

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void TransformPredictionEngineAndOnnxRuntime_GiveTheSameScores(VaeArchitecture architecture, VaeLikelihood likelihood, VaeScoreKind kind)
    {
        const int Width = 64;
        var ml = new MLContext(seed: 1);
        bool unit = likelihood == VaeLikelihood.Bernoulli;
        var options = TestData.FastOptions(likelihood, epochs: 8);
        options.ScoreKind = kind;
        options.Architecture = architecture;
        options.HiddenLayerSizes = architecture == VaeArchitecture.Mlp ? [48] : null;
        if (architecture == VaeArchitecture.Convolutional)
        {
            options.ImageShape = new VaeImageShape(1, 8, 8);
            options.ConvolutionChannels = [4, 6];
        }
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options)
            .Fit(TestData.ToDataView(ml, TestData.Normal(300, seed: 1, unitInterval: unit, width: Width), Width));
        var rows = TestData.Normal(12, seed: 2, unitInterval: unit, width: Width).Concat(TestData.Outliers(12, seed: 3, unitInterval: unit, width: Width)).ToList();
        var transformed = model.Transform(TestData.ToDataView(ml, rows, Width));
        var scores = transformed.GetColumn<float>("Score").ToArray();
        var latent = transformed.GetColumn<float[]>("LatentFeatures").ToArray();

        var engine = ml.Model.CreatePredictionEngine<FeatureRow, ScoredRow>(model, inputSchemaDefinition: ScoringTests.VectorSchema(Width));
        var onnx = RunOnnx(ml, model, rows, Width);
        var (center, scale) = model.Ensemble.Scales.Single();
        double ScoreBound(float z) => Tolerance * Math.Max(1, Math.Abs(z * (double)scale + center)) / scale;
        for (int r = 0; r < rows.Count; r++)
        {
            var one = engine.Predict(rows[r]);
            AssertWithin(ScoreBound(scores[r]), scores[r], one.Score, $"PredictionEngine score, row {r}");
            AssertWithin(ScoreBound(scores[r]), scores[r], onnx.Scores[r], $"ONNX score, row {r}");
            for (int j = 0; j < model.LatentDimension; j++)
            {
                AssertClose(latent[r][j], one.LatentFeatures[j], $"PredictionEngine latent {j}, row {r}");
                AssertClose(latent[r][j], onnx.Latent[r * model.LatentDimension + j], $"ONNX latent {j}, row {r}");
            }
            if (Math.Abs(scores[r] - model.Threshold) > ScoreBound(model.Threshold))
            {
                Assert.AreEqual(scores[r] > model.Threshold, one.PredictedLabel, $"PredictionEngine label, row {r}");
                Assert.AreEqual(scores[r] > model.Threshold, onnx.Labels[r], $"ONNX label, row {r}");
            }
        }
    }

    private static (float[] Scores, float[] Latent, bool[] Labels) RunOnnx(MLContext ml, VaeTransformer model, List<FeatureRow> rows, int width)
    {
        var (floats, labels) = RunOnnxOutputs(ml, model, rows, width);
        return (floats["Score.output"], floats["LatentFeatures.output"], labels);
    }

    /// <summary>The model exported and run by ONNX Runtime on the rows: every float output by name, and the predicted labels.</summary>
    internal static (Dictionary<string, float[]> Floats, bool[] Labels) RunOnnxOutputs(MLContext ml, VaeTransformer model, IReadOnlyList<FeatureRow> rows, int width)
    {
        using var stream = new MemoryStream();
        model.ExportToOnnx(ml, stream);
        using var session = new InferenceSession(stream.ToArray());
        var input = new DenseTensor<float>(rows.SelectMany(r => r.Features).ToArray(), [rows.Count, width]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("Features", input)]);
        var floats = results.Where(r => r.ElementType == TensorElementType.Float).ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
        return (floats, results.Single(r => r.Name == "PredictedLabel.output").AsTensor<bool>().ToArray());
    }

    private static void AssertClose(float expected, float actual, string what) =>
        AssertWithin(Tolerance * Math.Max(1, Math.Abs(expected)), expected, actual, what);

    private static void AssertWithin(double bound, float expected, float actual, string what)
    {
        WorstRelative = Math.Max(WorstRelative, Math.Abs(expected - actual) / bound * Tolerance);
        Assert.IsLessThanOrEqualTo(bound, Math.Abs(expected - actual), $"{what}: Transform {expected}, other path {actual}");
    }

    /// <summary>The largest difference seen, as a fraction of the bound times <see cref="Tolerance"/> (printed for the docs).</summary>
    private static double WorstRelative;

    [ClassCleanup]
    public static void PrintWorst() => Console.WriteLine($"ScoringAgreementTests: worst difference {WorstRelative:G3} (relative, against {Tolerance})");
}
