#pragma warning disable CS0618 // The retired score kinds are tested: they still score the models saved with them.
using Microsoft.ML;

namespace MLNet.Vae.Tests;

/// <summary>Automatic options (null, the default) are chosen from the data, recorded and logged; an explicit option wins.</summary>
[TestClass]
public sealed class AutomaticOptionsTests
{
    [TestMethod]
    public void DefaultOptions_ChooseLatentSizeEpochsAndBatchFromTheData_AndRecordThem()
    {
        var ml = new MLContext(seed: 1);
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var data = TestData.ToDataView(ml, TestData.Normal(100, seed: 1));   // 100 rows of 16 features

        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(new VaeOptions { Seed = 1 }).Fit(data);

        Assert.AreEqual(8, model.LatentDimension, "⌈16 / 2⌉");
        Assert.AreEqual(100, model.Options.BatchSize, "the row count, below 128");
        Assert.HasCount(VaeOptions.Defaults.MaximumAutomaticEpochs, model.Training.History, "one step per epoch: 2000 epochs, capped at 1000");
        Assert.HasCount(8, model.Training.AutomaticChoices);
        Assert.IsTrue(model.Options.AppendLogOfSkewedFeatures, "a table");
        Assert.IsNull(model.Ensemble.Logs, "none of its features is skewed");
        Assert.AreEqual(0.2, model.Options.TrimmedFraction, "twice the default contamination, for the Gaussian likelihood");
        Assert.AreEqual(3, model.NumberOfModels, "a table of fewer than 1,000 rows");
        Assert.HasCount(3, model.Training.Members);
        StringAssert.StartsWith(model.Training.AutomaticChoices[0], "LatentDimension = 8");
        Assert.IsTrue(messages.Any(m => m.Contains("Automatic option: NumberOfEpochs = 1000", StringComparison.Ordinal)), "logged");
    }

    [TestMethod]
    public void ExplicitOptions_AlwaysWin_AndAreNotListedAsAutomatic()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.ToDataView(ml, TestData.Normal(100, seed: 1));
        var options = new VaeOptions { Seed = 1, LatentDimension = 3, NumberOfEpochs = 2, BatchSize = 32, HiddenLayerSizes = [8], ScoreKind = VaeScoreKind.SquaredError, TrimmedFraction = 0, NumberOfModels = 1,
            AppendLogOfSkewedFeatures = false };

        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(data);

        Assert.AreEqual(3, model.LatentDimension);
        Assert.HasCount(2, model.Training.History);
        Assert.AreEqual(32, model.Options.BatchSize);
        Assert.AreEqual(VaeScoreKind.SquaredError, model.Options.ScoreKind);
        Assert.AreEqual(0, model.Options.TrimmedFraction);
        Assert.IsFalse(model.Options.AppendLogOfSkewedFeatures);
        Assert.IsEmpty(model.Training.AutomaticChoices);
    }

    [TestMethod]
    public void AutomaticNumberOfModels_IsThreeForTablesUnderAThousandRows_AndOneOtherwise()
    {
        var resolved = new VaeOptions().Resolve(inputWidth: 10, rowCount: 999);
        Assert.AreEqual(3, resolved.NumberOfModels);
        Assert.AreEqual(3, resolved.Settings.NumberOfModels, "the model shows and saves the choice");
        StringAssert.Contains(resolved.Choices.Single(c => c.StartsWith("NumberOfModels", StringComparison.Ordinal)), "fewer than 1,000 rows");
        Assert.AreEqual(1, new VaeOptions().Resolve(inputWidth: 10, rowCount: 1000).NumberOfModels);
        Assert.AreEqual(1, new VaeOptions { Likelihood = VaeLikelihood.Bernoulli }.Resolve(inputWidth: 10, rowCount: 100).NumberOfModels, "images");
        Assert.AreEqual(1, new VaeOptions { NumberOfModels = 1 }.Resolve(inputWidth: 10, rowCount: 100).NumberOfModels, "an explicit choice wins");
    }

    [TestMethod]
    public void AutomaticHiddenLayer_IsNoWiderThanTheRows_WhenTheyAreFewerThanItsWidth()
    {
        // 3 rows of 100,000 columns took a 400-wide layer: 80 million weights a model, 99 s and 12 GB.
        CollectionAssert.AreEqual(new[] { 40 }, new VaeOptions().Resolve(100_000, rowCount: 3).HiddenLayerSizes, "max(2 x latent 20, 3 rows)");
        CollectionAssert.AreEqual(new[] { 300 }, new VaeOptions().Resolve(100_000, rowCount: 300).HiddenLayerSizes);
        CollectionAssert.AreEqual(new[] { 196 }, new VaeOptions().Resolve(784, rowCount: 6000).HiddenLayerSizes, "images: a quarter of the width, more rows than units");
        CollectionAssert.AreEqual(new[] { 57 }, new VaeOptions().Resolve(228, rowCount: 325).HiddenLayerSizes, "a wide, short table: a quarter of the width");
        CollectionAssert.AreEqual(new[] { 400 }, new VaeOptions().Resolve(3072, rowCount: 6000).HiddenLayerSizes, "at most 400");
        CollectionAssert.AreEqual(new[] { 40 }, new VaeOptions().Resolve(120, rowCount: 6000).HiddenLayerSizes, "2 x latent 20 above a quarter of 120");
        CollectionAssert.AreEqual(new[] { 500 }, new VaeOptions { HiddenLayerSizes = [500] }.Resolve(100_000, rowCount: 3).HiddenLayerSizes, "a chosen width stays");
    }

    [TestMethod]
    public void AutomaticEpochs_AimAtAFixedNumberOfSteps_WhateverTheRowCount()
    {
        var options = new VaeOptions();
        var large = options.Resolve(inputWidth: 10, rowCount: 50_000);
        var small = options.Resolve(inputWidth: 10, rowCount: 640);

        Assert.AreEqual(6, large.NumberOfEpochs, "391 steps an epoch");
        Assert.AreEqual(400, small.NumberOfEpochs, "5 steps an epoch");
        Assert.AreEqual(5, large.LatentDimension);
        Assert.AreEqual(20, options.Resolve(784, 6000).LatentDimension, "capped at 20");
    }

    [TestMethod]
    public void AutomaticTrimming_IsTwiceTheContaminationForTables_AndNoneForImages()
    {
        Assert.AreEqual(0.2, new VaeOptions().Resolve(10, 100).TrimmedFraction);
        Assert.AreEqual(0.02, new VaeOptions { Contamination = 0.01 }.Resolve(10, 100).TrimmedFraction);
        Assert.AreEqual(0.5, new VaeOptions { Contamination = 0.4 }.Resolve(10, 100).TrimmedFraction, "at most one half");
        Assert.AreEqual(0, new VaeOptions { Likelihood = VaeLikelihood.Bernoulli }.Resolve(10, 100).TrimmedFraction);
        Assert.AreEqual(0.05, new VaeOptions { TrimmedFraction = 0.05 }.Resolve(10, 100).TrimmedFraction, "an explicit value wins");
    }

    [TestMethod]
    public void AutomaticScoreKind_FollowsTheLikelihoodAndTheNetwork()
    {
        Assert.AreEqual(VaeScoreKind.ReconstructionAndLatentNeighbours, new VaeOptions().Resolve(10, 100).ScoreKind);
        Assert.AreEqual(VaeScoreKind.WeightedReconstructionError, new VaeOptions { Likelihood = VaeLikelihood.Bernoulli }.Resolve(10, 100).ScoreKind);
        var convolutional = new VaeOptions { Likelihood = VaeLikelihood.Bernoulli, Architecture = VaeArchitecture.Convolutional, ImageShape = new VaeImageShape(1, 4, 4) };
        Assert.AreEqual(VaeScoreKind.WeightedReconstructionAndLatentNeighbours, convolutional.Resolve(16, 100).ScoreKind);
        var gaussianImages = new VaeOptions { Architecture = VaeArchitecture.Convolutional, ImageShape = new VaeImageShape(1, 4, 4) };
        Assert.AreEqual(VaeScoreKind.ReconstructionAndLatentNeighbours, gaussianImages.Resolve(16, 100).ScoreKind);
        Assert.IsTrue(convolutional.Resolve(16, 100).Choices.Any(c => c.StartsWith("ScoreKind = WeightedReconstructionAndLatentNeighbours", StringComparison.Ordinal) && c.EndsWith("with the Convolutional network", StringComparison.Ordinal)),
            string.Join(" | ", convolutional.Resolve(16, 100).Choices));
        Assert.AreEqual(VaeScoreKind.NegativeElbo, new VaeOptions { Likelihood = VaeLikelihood.Bernoulli, ScoreKind = VaeScoreKind.NegativeElbo }.Resolve(10, 100).ScoreKind,
            "an explicit kind wins");
    }

    [TestMethod]
    public void ReconstructionAndLatent_FlagsRowsThatEncodeFarOut_WhereReconstructionAloneDoesNot()
    {
        // Clustered anomalies (ADBench's kind): the normal distribution with its mean moved 5 standard deviations per feature.
        // A VAE reconstructs them about as well as normal rows; their codes, though, lie far from the training rows'.
        var ml = new MLContext(seed: 1);
        var random = new Random(5);
        double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var loadings = Enumerable.Range(0, 16 * 4).Select(_ => Gaussian()).ToArray();
        var shift = Enumerable.Range(0, 16).Select(i => 5 * Math.Sqrt(Enumerable.Range(0, 4).Sum(k => loadings[i * 4 + k] * loadings[i * 4 + k]) + 0.09) * (random.Next(2) * 2 - 1)).ToArray();
        FeatureRow Row(int id, bool anomalous)
        {
            var z = Enumerable.Range(0, 4).Select(_ => Gaussian()).ToArray();
            var x = Enumerable.Range(0, 16).Select(i => (float)(Enumerable.Range(0, 4).Sum(k => loadings[i * 4 + k] * z[k]) + 0.3 * Gaussian() + (anomalous ? shift[i] : 0))).ToArray();
            return new FeatureRow { Features = x, Label = anomalous ? 1 : 0, Id = id };
        }
        var data = TestData.ToDataView(ml, Enumerable.Range(0, 600).Select(i => Row(i, anomalous: i >= 570)).ToList());
        var options = new VaeOptions { Seed = 1, NumberOfEpochs = 60, ScoreKind = VaeScoreKind.ReconstructionAndLatent, TrimmedFraction = 0 };   // untrimmed, the network learns the cluster of anomalies, so reconstruction alone misses it
        using var combined = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(data);
        options.ScoreKind = VaeScoreKind.ReconstructionError;
        using var reconstruction = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(data);

        double Auc(ITransformer model) => ml.AnomalyDetection.Evaluate(model.Transform(data)).AreaUnderRocCurve;
        Console.WriteLine($"combined {Auc(combined):F3}, reconstruction {Auc(reconstruction):F3}");
        Assert.IsGreaterThan(Auc(reconstruction) + 0.02, Auc(combined), $"combined {Auc(combined):F3}, reconstruction {Auc(reconstruction):F3}");
        Assert.IsGreaterThan(0.95, Auc(combined));
    }
}
