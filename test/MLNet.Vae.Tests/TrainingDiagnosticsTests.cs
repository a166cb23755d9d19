using Microsoft.ML;

namespace MLNet.Vae.Tests;

/// <summary>Each failure-mode guard, provoked on purpose; and silence when training is healthy.</summary>
[TestClass]
public sealed class TrainingDiagnosticsTests
{
    private static readonly MLContext Ml = new(seed: 1);
    private static readonly IDataView Manifold = TestData.ToDataView(Ml, TestData.Normal(400, seed: 1));

    private static VaeTransformer Fit(IDataView data, Action<VaeOptions> edit, MLContext? ml = null)
    {
        var options = TestData.FastOptions(epochs: 20);
        edit(options);
        return new VaeEstimator(ml ?? Ml, options).Fit(data);
    }

    [TestMethod]
    public void HealthyTraining_RaisesNoWarning()
    {
        using var model = Fit(Manifold, _ => { });
        Assert.IsEmpty(model.Training.Warnings, string.Join("\n", model.Training.Warnings));
        Assert.AreEqual(3, model.Training.History[^1].ActiveUnits);
    }

    [TestMethod]
    public void LargeBeta_CollapsesThePosterior_AndTheWarningNamesTheFixes()
    {
        using var model = Fit(Manifold, o => o.Beta = 50);

        var warning = model.Training.Warnings.Single(w => w.Kind == VaeWarningKind.PosteriorCollapse);
        StringAssert.Contains(warning.Message, "Posterior collapse: 0 of 3 latent dimensions are active after epoch 20");
        StringAssert.Contains(warning.Message, "KlWarmupEpochs");
        StringAssert.Contains(warning.Message, "FreeBits");
        StringAssert.Contains(warning.Message, "smaller Beta (now 50)");
        Assert.AreEqual(0, model.Training.History[^1].ActiveUnits);
    }

    [TestMethod]
    public void LargeBetaHeldOffByFreeBits_KlDominates_AndTheWarningSaysSo()
    {
        using var model = Fit(Manifold, o => { o.Beta = 200; o.FreeBits = 0.5; });

        var warning = model.Training.Warnings.Single(w => w.Kind == VaeWarningKind.KlDominates);
        StringAssert.Contains(warning.Message, "The KL term dominates");
        StringAssert.Contains(warning.Message, "Lower Beta (now 200)");
        Assert.IsFalse(model.Training.Warnings.Any(w => w.Kind == VaeWarningKind.PosteriorCollapse), "free bits kept the latent dimensions in use");
    }

    [TestMethod]
    public void DataWithoutStructure_ReconstructionNotImproving_NamesTheBaseline()
    {
        using var model = Fit(TestData.ToDataView(Ml, TestData.Outliers(400, seed: 2)), _ => { });

        var warning = model.Training.Warnings.Single(w => w.Kind == VaeWarningKind.ReconstructionNotImproving);
        StringAssert.Contains(warning.Message, "barely better than predicting each feature's mean");
        StringAssert.Contains(warning.Message, $"of the baseline {model.Training.ReconstructionBaseline:G4}");
        // Standardized Gaussian data: predicting the mean costs ½ per feature.
        Assert.AreEqual(0.5 * TestData.Width, model.Training.ReconstructionBaseline, 1e-3);
    }

    [TestMethod]
    public void BernoulliBaseline_IsTheMeanBceOfPredictingEachFeaturesMean()
    {
        // Half the values exactly 0 or 1, as in images, where the clamp of the predicted probabilities matters.
        var rows = TestData.Normal(300, seed: 4, unitInterval: true);
        foreach (var row in rows.Take(150))
            for (int i = 0; i < row.Features.Length; i += 2) row.Features[i] = i % 4 == 0 ? 0f : 1f;
        using var model = Fit(TestData.ToDataView(Ml, rows), o => { o.Likelihood = VaeLikelihood.Bernoulli; o.ValidationFraction = 0; o.NumberOfEpochs = 1; });

        double expected = 0;
        for (int i = 0; i < TestData.Width; i++)
        {
            double mean = rows.Average(r => (double)r.Features[i]);
            double p = Math.Clamp(mean, 1e-6, 1 - 1e-6);
            expected += rows.Average(r => -(r.Features[i] * Math.Log(p) + (1 - r.Features[i]) * Math.Log(1 - p)));
        }
        Assert.AreEqual(expected, model.Training.ReconstructionBaseline, 1e-5 * expected, "the mean over the rows of Σᵢ BCE(xᵢ, mᵢ)");
    }

    [TestMethod]
    public void LatentNotSmallerThanInput_Warns()
    {
        using var model = Fit(Manifold, o => o.LatentDimension = TestData.Width);

        var warning = model.Training.Warnings.Single(w => w.Kind == VaeWarningKind.LatentNotSmallerThanInput);
        StringAssert.Contains(warning.Message, "LatentDimension (16) is not smaller than the input width (16)");
    }

    [TestMethod]
    public void HiddenLayerWiderThanInput_Warns()
    {
        using var model = Fit(Manifold, o => { o.HiddenLayerSizes = [64]; o.NumberOfEpochs = 1; });

        var warning = model.Training.Warnings.Single(w => w.Kind == VaeWarningKind.HiddenLayerWiderThanInput);
        StringAssert.Contains(warning.Message, "A hidden layer (64 units) is wider than the input (16 features)");
    }

    [TestMethod]
    public void Warnings_AreWrittenToTheMLContextLog_AndSavedWithTheModel()
    {
        var ml = new MLContext(seed: 1);
        var logged = new List<(Microsoft.ML.Runtime.ChannelMessageKind Kind, string Message)>();
        ml.Log += (_, e) => { lock (logged) logged.Add((e.Kind, e.Message)); };

        using var model = Fit(Manifold, o => o.Beta = 50, ml);
        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        using var loaded = VaeTransformer.Load(ml, stream);

        Assert.IsTrue(logged.Any(l => l.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning && l.Message.Contains("Posterior collapse")));
        CollectionAssert.AreEqual(model.Training.Warnings.ToArray(), loaded.Training.Warnings.ToArray());
    }

    [TestMethod]
    public void NonFiniteLoss_StopsWithEpochBatchLastGoodValuesAndAdvice()
    {
        // Finite-but-huge inputs: the first epochs may survive, then the loss overflows.
        var rows = TestData.Normal(64, seed: 6);
        foreach (var row in rows) for (int i = 0; i < row.Features.Length; i++) row.Features[i] *= 1e18f;
        var options = TestData.FastOptions(epochs: 50);
        options.LearningRate = 1e30;

        var error = Assert.Throws<InvalidOperationException>(() => new VaeEstimator(Ml, options).Fit(TestData.ToDataView(Ml, rows)));

        StringAssert.Matches(error.Message, new System.Text.RegularExpressions.Regex(@"VAE training diverged at epoch \d+, batch \d+: the (loss|gradient norm) is"));
        StringAssert.Matches(error.Message, new System.Text.RegularExpressions.Regex(@"(no epoch finished before it|the last finished epoch \(\d+\) had loss)"));
        StringAssert.Contains(error.Message, "Lower LearningRate (now 1E+30)");
        StringAssert.Contains(error.Message, "set GradientNormClip");
        StringAssert.Contains(error.Message, "check the scale of the input features");
    }
}
