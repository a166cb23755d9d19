using Microsoft.ML;

namespace MLNet.Vae.Tests;

/// <summary>The managed one-row path (Model/SingleRowScorer.cs) gives what the batched libtorch path gives, within 1e-5.</summary>
[TestClass]
public sealed class SingleRowScorerTests
{
    private const double Tolerance = 1e-5;

    [TestMethod]
    [DataRow(VaeLikelihood.Gaussian, 24, TestData.Width)]
    [DataRow(VaeLikelihood.Bernoulli, 24, TestData.Width)]
    // 16 × 5000 weights (320 KB) per outer layer: above the size that LayerSplitter splits over two cores.
    [DataRow(VaeLikelihood.Gaussian, 5000, TestData.Width)]
    // 128 × 700 weights (358 KB): split, with outputs on both sides of the cut (at 64), each side computing its terms.
    [DataRow(VaeLikelihood.Bernoulli, 700, 128)]
    public void OneRow_EqualsTheBatchedPath_ForEveryScoreKind(VaeLikelihood likelihood, int firstHiddenLayer, int inputWidth)
    {
        var ml = new MLContext(seed: 1);
        var options = TestData.FastOptions(likelihood, epochs: 15);
        options.HiddenLayerSizes = [firstHiddenLayer, 12];
        bool unit = likelihood == VaeLikelihood.Bernoulli;
        var trainingRows = TestData.Normal(200, seed: 1, unitInterval: unit, width: inputWidth);
        var training = TestData.ToDataView(ml, trainingRows, inputWidth);
        using var transformer = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(training);
        var model = transformer.Model;
        var trainingFlat = trainingRows.SelectMany(r => r.Features).ToArray();
        var rows = TestData.Normal(6, seed: 2, unitInterval: unit, width: inputWidth)
            .Concat(TestData.Outliers(6, seed: 3, unitInterval: unit, width: inputWidth)).Select(r => r.Features).ToArray();
        var flat = rows.SelectMany(r => r).ToArray();
        int width = model.InputWidth, latent = model.LatentDimension;

        foreach (var kindName in Enum.GetValues<VaeScoreKind>())
        {
            // Every kind calibrated on the training rows, as Fit calibrates the model's own.
            var kind = Model.ScoreCalibrator.Calibrated(model, kindName, trainingFlat, trainingRows.Count);
            var batchLatent = new float[rows.Length * latent];
            var batchScores = new float[rows.Length];
            var batchTerms = new float[rows.Length * width];
            model.Score(kind, flat, rows.Length, batchLatent, batchScores, batchTerms);
            for (int r = 0; r < rows.Length; r++)
            {
                var oneLatent = new float[latent];
                var oneScore = new float[1];
                var oneTerms = new float[width];
                model.Score(kind, rows[r], 1, oneLatent, oneScore, oneTerms);
                AssertClose(batchScores[r], oneScore[0], $"{kindName} score, row {r}");
                // Without feature scores: PredictionEngine's usual call.
                model.Score(kind, rows[r], 1, oneLatent, oneScore);
                AssertClose(batchScores[r], oneScore[0], $"{kindName} score without feature scores, row {r}");
                for (int j = 0; j < latent; j++) AssertClose(batchLatent[r * latent + j], oneLatent[j], $"{kindName} latent {j}, row {r}");
                for (int i = 0; i < width; i++) AssertClose(batchTerms[r * width + i], oneTerms[i], $"{kindName} feature {i}, row {r}");
            }
        }
    }

    [TestMethod]
    public void OneRow_OutOfDomain_ScoresPositiveInfinity()
    {
        var ml = new MLContext(seed: 1);
        var training = TestData.ToDataView(ml, TestData.Normal(100, seed: 1));
        using var transformer = ml.AnomalyDetection.Trainers.VariationalAutoencoder(TestData.FastOptions(epochs: 2)).Fit(training);
        var row = TestData.Normal(1, seed: 2)[0].Features;
        row[3] = float.NaN;
        var scores = new float[1];
        transformer.Model.Score(row, 1, new float[transformer.LatentDimension], scores);
        Assert.AreEqual(float.PositiveInfinity, scores[0]);
    }

    private static void AssertClose(float expected, float actual, string what) =>
        Assert.IsLessThanOrEqualTo(Tolerance * Math.Max(1, Math.Abs(expected)), Math.Abs(expected - actual), $"{what}: batched {expected}, one row {actual}");
}
