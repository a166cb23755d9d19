using Microsoft.ML;
using MLNet.Vae.Model;

namespace MLNet.Vae.Tests;

/// <summary>Fit above <see cref="VaeOptions.MaximumInMemoryBytes"/>: the rows are streamed in blocks (docs/scale.md).</summary>
[TestClass]
public sealed class StreamingFitTests
{
    [TestMethod]
    public void Fit_AboveTheInMemoryLimit_Streams_AndScoresLikeAFittedModel()
    {
        var ml = new MLContext(seed: 1);
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var rows = TestData.Normal(400, seed: 1).Concat(TestData.Outliers(20, seed: 2)).ToList();
        var data = TestData.ToDataView(ml, rows);
        var options = TestData.FastOptions(epochs: 20);
        options.MaximumInMemoryBytes = 1024;   // 420 rows x 16 features x 4 bytes = 26,880 bytes: above it
        using var streamed = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(data);

        Assert.IsTrue(messages.Any(m => m.Contains("on 420 rows (streamed in blocks of")), "the log says the rows were streamed");
        Assert.HasCount(20, streamed.Training.History);
        Assert.IsNotNull(streamed.Model.Calibration, "the default Gaussian score is calibrated from a streamed pass");
        var scores = TestData.Scores(streamed.Transform(data));
        Assert.AreEqual(options.Contamination, scores.Count(s => s > streamed.Threshold) / (double)scores.Length, 0.01,
            "the threshold is the (1 - contamination) quantile of the training rows' scores");
        double auc = ml.AnomalyDetection.Evaluate(streamed.Transform(data)).AreaUnderRocCurve;
        Assert.IsGreaterThan(0.9, auc, "the streamed model separates the outliers");

        options.MaximumInMemoryBytes = VaeOptions.Defaults.MaximumInMemoryBytes;
        using var inMemory = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(data);
        CollectionAssert.AreEqual(inMemory.Model.Standardization!.Mean, streamed.Model.Standardization!.Mean, "the one-pass standardization equals the in-memory one");
        CollectionAssert.AreEqual(inMemory.Model.Standardization.Scale, streamed.Model.Standardization.Scale);
        Assert.AreEqual(inMemory.Training.ReconstructionBaseline, streamed.Training.ReconstructionBaseline, 1e-3, "the baseline from the moments alone");
    }

    [TestMethod]
    public void Fit_Streaming_MoreRowsThanTheLatentMixtureSamples_FitsItOnAReservoir()
    {
        // 10,300 rows: the reservoir of latent means fills (10,000) and then replaces, and the mixture is fitted on it.
        var ml = new MLContext(seed: 1);
        var rows = TestData.Normal(10_000, seed: 3).Concat(TestData.Outliers(300, seed: 4)).ToList();
        var data = TestData.ToDataView(ml, rows);
        var options = TestData.FastOptions(epochs: 2);
        options.MaximumInMemoryBytes = 1024;
        using var streamed = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(data);

        Assert.AreEqual(VaeScoreKind.ReconstructionAndLatentDensity, streamed.Model.ScoreKind);
        var calibration = streamed.Model.Calibration!;
        Assert.IsTrue(calibration.HasDensity(streamed.Model.LatentDimension));
        Assert.AreEqual(LatentMixture.MaximumComponents, calibration.Density!.Components);
        Assert.IsGreaterThan(0.9, ml.AnomalyDetection.Evaluate(streamed.Transform(data)).AreaUnderRocCurve);
    }

    [TestMethod]
    public void Fit_StreamingAnEnsemble_CombinesTheMembersScoresRowByRow()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Normal(400, seed: 1).Concat(TestData.Outliers(20, seed: 2)).ToList();
        var data = TestData.ToDataView(ml, rows);
        var options = TestData.FastOptions(epochs: 10);
        options.MaximumInMemoryBytes = 1024;
        options.NumberOfModels = 2;
        using var streamed = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(data);

        // Each member's training scores come from its own pass; combined row by row they give the threshold, so it cuts the
        // contamination fraction only if the passes saw the same rows in the same order.
        var scores = TestData.Scores(streamed.Transform(data));
        Assert.AreEqual(options.Contamination, scores.Count(s => s > streamed.Threshold) / (double)scores.Length, 0.01);
        Assert.IsGreaterThan(0.9, ml.AnomalyDetection.Evaluate(streamed.Transform(data)).AreaUnderRocCurve);
        Assert.HasCount(2, streamed.Training.Members);
    }

    [TestMethod]
    public void Fit_Streaming_WithValidationRows_IsRefusedWithTheWayOut()
    {
        var ml = new MLContext(seed: 1);
        var options = TestData.FastOptions(epochs: 2);
        options.MaximumInMemoryBytes = 0;
        options.ValidationFraction = 0.2;
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(TestData.ToDataView(ml, TestData.Normal(50, seed: 1))));
        StringAssert.Contains(error.Message, "set ValidationFraction to 0");
    }

    [TestMethod]
    public void Fit_Streaming_BernoulliValueOutsideTheUnitInterval_IsRefusedAsInMemory()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Normal(50, seed: 1, unitInterval: true);
        rows[37].Features[4] = 1.5f;
        var options = TestData.FastOptions(VaeLikelihood.Bernoulli, epochs: 2);
        options.MaximumInMemoryBytes = 0;
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(TestData.ToDataView(ml, rows)));
        StringAssert.Contains(error.Message, "has the value 1.5 at row 37, feature 4");
    }
}
