using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Tests;

[TestClass]
public sealed class TrainingTests
{
    [TestMethod]
    public void Fit_OnManifoldData_LossFallsAndHistoryHasEveryEpoch()
    {
        var ml = new MLContext(seed: 1);
        var options = TestData.FastOptions(epochs: 25);
        using var model = new VaeEstimator(ml, options).Fit(TestData.ToDataView(ml, TestData.Normal(600, seed: 1)));

        var history = model.Training.History;
        Assert.HasCount(25, history);
        CollectionAssert.AreEqual(Enumerable.Range(1, 25).ToArray(), history.Select(h => h.Epoch).ToArray());
        Assert.IsLessThan(history[0].Loss * 0.6, history[^1].Loss, "the loss should fall by at least 40% over training");
        foreach (var epoch in history)
        {
            Assert.AreEqual(epoch.Reconstruction + options.Beta * epoch.Kl, epoch.Loss, 1e-6 * Math.Abs(epoch.Loss) + 1e-9);
            Assert.IsGreaterThan(0.0, epoch.Kl, "a VAE's KL term is positive unless the posterior collapsed");
            Assert.IsGreaterThanOrEqualTo(0.0, epoch.Seconds);
        }
    }

    [TestMethod]
    public void Reconstruct_HeldOutRows_BeatsThePerFeatureMeanByAClearMargin()
    {
        var ml = new MLContext(seed: 1);
        var train = TestData.Normal(800, seed: 2);
        var heldOut = TestData.Normal(200, seed: 3);
        using var model = new VaeEstimator(ml, TestData.FastOptions(epochs: 60)).Fit(TestData.ToDataView(ml, train));

        var reconstructed = model.Reconstruct(heldOut.Select(r => r.Features).ToList());
        var mean = Enumerable.Range(0, TestData.Width).Select(i => train.Average(r => r.Features[i])).ToArray();
        double vaeError = 0, meanError = 0;
        for (int r = 0; r < heldOut.Count; r++)
            for (int i = 0; i < TestData.Width; i++)
            {
                vaeError += Math.Pow(heldOut[r].Features[i] - reconstructed[r][i], 2);
                meanError += Math.Pow(heldOut[r].Features[i] - mean[i], 2);
            }
        Assert.IsLessThan(0.2 * meanError, vaeError, $"VAE squared error {vaeError:G4} vs mean baseline {meanError:G4}");
    }

    [TestMethod]
    public void Fit_TwiceWithTheSameSeed_GivesIdenticalScoresAndHistory()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.ToDataView(ml, TestData.Normal(300, seed: 4));
        using var first = new VaeEstimator(ml, TestData.FastOptions(epochs: 5)).Fit(data);
        using var second = new VaeEstimator(ml, TestData.FastOptions(epochs: 5)).Fit(data);

        CollectionAssert.AreEqual(TestData.Scores(first.Transform(data)), TestData.Scores(second.Transform(data)));
        CollectionAssert.AreEqual(first.Training.History.Select(h => h.Loss).ToArray(), second.Training.History.Select(h => h.Loss).ToArray());
        Assert.AreEqual(first.Threshold, second.Threshold);
    }

    [TestMethod]
    public void Fit_WithAnotherSeed_GivesDifferentWeights()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.ToDataView(ml, TestData.Normal(300, seed: 4));
        var other = TestData.FastOptions(epochs: 5);
        other.Seed = 8;
        using var first = new VaeEstimator(ml, TestData.FastOptions(epochs: 5)).Fit(data);
        using var second = new VaeEstimator(ml, other).Fit(data);

        CollectionAssert.AreNotEqual(TestData.Scores(first.Transform(data)), TestData.Scores(second.Transform(data)));
    }

    [TestMethod]
    public void Fit_WithoutASeed_IsReproducibleFromTheMLContextSeed()
    {
        var options = TestData.FastOptions(epochs: 3);
        options.Seed = null;
        float[] ScoresWithContextSeed(int contextSeed)
        {
            var ml = new MLContext(seed: contextSeed);
            var data = TestData.ToDataView(ml, TestData.Normal(200, seed: 5));
            using var model = new VaeEstimator(ml, options).Fit(data);
            return TestData.Scores(model.Transform(data));
        }

        CollectionAssert.AreEqual(ScoresWithContextSeed(3), ScoresWithContextSeed(3));
        CollectionAssert.AreNotEqual(ScoresWithContextSeed(3), ScoresWithContextSeed(4));
    }

    [TestMethod]
    public void Threshold_LabelsTheContaminationFractionOfTheTrainingRows()
    {
        var ml = new MLContext(seed: 1);
        var options = TestData.FastOptions(epochs: 10);
        options.Contamination = 0.1;
        var data = TestData.ToDataView(ml, TestData.Normal(500, seed: 6));
        using var model = new VaeEstimator(ml, options).Fit(data);

        var labels = model.Transform(data).GetColumn<bool>("PredictedLabel").ToArray();
        double flagged = labels.Count(l => l) / (double)labels.Length;
        Assert.AreEqual(0.1, flagged, 0.005, $"{flagged:P1} of the training rows are above the threshold");
    }

    [TestMethod]
    public void Fit_BernoulliOnUnitIntervalData_LearnsAndScoresFinite()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.ToDataView(ml, TestData.Normal(400, seed: 7, unitInterval: true));
        var options = TestData.FastOptions(VaeLikelihood.Bernoulli, epochs: 20);
        options.ScoreKind = VaeScoreKind.ReconstructionError;
        using var model = new VaeEstimator(ml, options).Fit(data);

        Assert.IsLessThan(model.Training.History[0].Loss, model.Training.History[^1].Loss);
        var scores = TestData.Scores(model.Transform(data));
        Assert.IsTrue(scores.All(float.IsFinite));
        // KL(Bern(x) || Bern(p)) >= 0: the Bernoulli ReconstructionError is the entropy-corrected BCE (before the scale).
        var (center, scale) = model.Ensemble.Scales[0];
        Assert.IsTrue(scores.All(s => s * scale + center > -1e-3f), $"min score {scores.Min() * scale + center}");
    }

    [TestMethod]
    public void Fit_WithAutomaticHiddenLayers_UsesAQuarterOfTheInputWidthCappedAt400()
    {
        var ml = new MLContext(seed: 1);
        var options = TestData.FastOptions(epochs: 1);
        options.HiddenLayerSizes = null;
        options.LatentDimension = 2;
        using var model = new VaeEstimator(ml, options).Fit(TestData.ToDataView(ml, TestData.Normal(50, seed: 8, width: 40), width: 40));

        CollectionAssert.AreEqual(new[] { 10 }, model.HiddenLayerSizes.ToArray(), "40 features / 4, above 2 x latent 2");
        CollectionAssert.AreEqual(new[] { 250 }, new VaeOptions().ResolveHiddenLayerSizes(1000));
        CollectionAssert.AreEqual(new[] { 400 }, new VaeOptions().ResolveHiddenLayerSizes(2000));
    }
}
