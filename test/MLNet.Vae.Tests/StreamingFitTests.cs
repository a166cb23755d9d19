#pragma warning disable CS0618 // The retired score kinds are tested: they still score the models saved with them.
using MLNet.Vae.Scoring.Kinds;
using Microsoft.ML;
using MLNet.Vae.Model;
using MLNet.Vae.Scoring;

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
        Assert.IsTrue(streamed.Model.Kind is ReconstructionAndLatentNeighboursKind { Neighbours: not null }, "the default Gaussian score is calibrated from a streamed pass");
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
    public void Fit_Streaming_MoreRowsThanTheCalibrationSample_CalibratesOnEvenlySpacedRows()
    {
        // 10,300 rows: the calibration takes 8,192 of them, evenly spaced in the pass, as in memory; the retired density kind's
        // mixture (the largest calibration) is fitted on them.
        var ml = new MLContext(seed: 1);
        var rows = TestData.Normal(10_000, seed: 3).Concat(TestData.Outliers(300, seed: 4)).ToList();
        var data = TestData.ToDataView(ml, rows);
        var options = TestData.FastOptions(epochs: 2);
        options.ScoreKind = VaeScoreKind.ReconstructionAndLatentDensity;
        options.MaximumInMemoryBytes = 1024;
        using var streamed = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(data);

        var density = ((ReconstructionAndLatentDensityKind)streamed.Model.Kind).Density!;
        Assert.IsTrue(density.IsValidFor(streamed.Model.LatentDimension));
        Assert.AreEqual(LatentCodeDensity.MaximumComponents, density.Components);
        Assert.IsGreaterThan(0.9, ml.AnomalyDetection.Evaluate(streamed.Transform(data)).AreaUnderRocCurve);

        // The same rule whatever the blocks: the rows in one array (in memory) or in blocks of 1,000 (streamed) calibrate alike.
        var flat = rows.SelectMany(r => r.Features).ToArray();
        var blocks = flat.Chunk(1000 * TestData.Width).Select(b => (b, b.Length / TestData.Width)).ToList();
        var kind = ScoreKinds.Create(VaeScoreKind.ReconstructionAndLatentDensity, streamed.Model.KindContext);
        var whole = (ReconstructionAndLatentDensityKind)ScoreCalibrator.Calibrated(streamed.Model, kind, [(flat, rows.Count)], rows.Count);
        var inBlocks = (ReconstructionAndLatentDensityKind)ScoreCalibrator.Calibrated(streamed.Model, kind, blocks, rows.Count);
        CollectionAssert.AreEqual(whole.Density!.Means, inBlocks.Density!.Means);
        Assert.AreEqual(whole.Reconstruction, inBlocks.Reconstruction);
        Assert.AreEqual(whole.Latent, inBlocks.Latent);
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
    public void Fit_StreamingAnEnsemble_OverASourceThatReordersItsRowsEveryPass_CombinesTheSameRows()
    {
        // A query without ORDER BY: each pass gives the rows in another order. The members' scores came from passes of their
        // own, so they were combined across different rows (13.4% of the rows flagged at a contamination of 10%).
        var ml = new MLContext(seed: 1);
        var rows = TestData.Normal(400, seed: 1).Concat(TestData.Outliers(20, seed: 2)).ToList();
        var options = TestData.FastOptions(epochs: 10);
        options.MaximumInMemoryBytes = 1024;
        options.NumberOfModels = 3;
        options.Contamination = 0.1;
        using var streamed = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(ml.Data.LoadFromEnumerable(new Source(rows, Reorder), TestData.VectorSchema()));
        var scores = TestData.Scores(streamed.Transform(TestData.ToDataView(ml, rows)));
        Assert.AreEqual(options.Contamination, scores.Count(s => s > streamed.Threshold) / (double)scores.Length, 0.01);
    }

    [TestMethod]
    public void Fit_Streaming_SourceThatGivesNoRowsAfterTheFirstPass_StopsWithTheWayOut()
    {
        // A read-once source: "Source array was not long enough" or "No scores to take a quantile of".
        // Fit's first read of a source of unknown size tries to hold it in memory (pass 0 of the source here).
        var error = FitStreamed(new Source(TestData.Normal(100, seed: 1), (pass, rows) => pass <= 1 ? rows : []));
        StringAssert.Contains(error.Message, "gave 0 rows where the first pass gave 100 in pass 2");
        StringAssert.Contains(error.Message, "SaveAsBinary");
        // A table's default first reads the rows to choose its skewed features: the statistics pass is then the one that finds none.
        error = FitStreamed(new Source(TestData.Normal(100, seed: 1), (pass, rows) => pass <= 1 ? rows : []), appendLogs: null);
        StringAssert.Contains(error.Message, "gave 0 rows where an earlier read found at least 100 in pass 1 over the data (the statistics pass)");
        StringAssert.Contains(error.Message, "SaveAsBinary");
        error = FitStreamed(new Source(TestData.Normal(100, seed: 1), (pass, rows) => pass == 0 ? rows : []));
        StringAssert.Contains(error.Message, "gave 0 rows where an earlier read found at least 1 in pass 1");
    }

    [TestMethod]
    public void Fit_Streaming_SourceWhoseValuesChangeBetweenPasses_StopsWithTheWayOut()
    {
        var error = FitStreamed(new Source(TestData.Normal(100, seed: 1), (pass, rows) =>
            pass < 3 ? rows : rows.Select((r, i) => i == 50 ? new FeatureRow { Features = r.Features.Select(v => v + 1).ToArray() } : r).ToList()));
        StringAssert.Contains(error.Message, "other rows than the first pass");
    }

    [TestMethod]
    public void Fit_Streaming_BernoulliValueOutsideTheUnitIntervalInALaterPass_IsRefused()
    {
        var error = FitStreamed(new Source(TestData.Normal(100, seed: 1, unitInterval: true), (pass, rows) =>
            pass == 0 ? rows : rows.Select((r, i) => i == 37 ? new FeatureRow { Features = r.Features.Select(v => 1.5f).ToArray() } : r).ToList()),
            VaeLikelihood.Bernoulli);
        StringAssert.Contains(error.Message, "has the value 1.5 at row 37, feature 0");
    }

    /// <param name="source">The rows, pass by pass.</param>
    /// <param name="likelihood">The likelihood.</param>
    /// <param name="appendLogs">The option, false by default: its choosing pass is one more read of the source before the statistics pass.</param>
    private static InvalidOperationException FitStreamed(Source source, VaeLikelihood likelihood = VaeLikelihood.Gaussian, bool? appendLogs = false)
    {
        var ml = new MLContext(seed: 1);
        var options = TestData.FastOptions(likelihood, epochs: 3);
        options.MaximumInMemoryBytes = 0;
        options.AppendLogOfSkewedFeatures = appendLogs;
        return Assert.ThrowsExactly<InvalidOperationException>(() =>
            ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(ml.Data.LoadFromEnumerable(source, TestData.VectorSchema())));
    }

    private static IReadOnlyList<FeatureRow> Reorder(int pass, IReadOnlyList<FeatureRow> rows)
    {
        var random = new Random(pass);
        return rows.OrderBy(_ => random.Next()).ToList();
    }

    /// <summary>Rows that each enumeration (each pass of Fit) gives through <c>change(pass, rows)</c>.</summary>
    private sealed class Source(IReadOnlyList<FeatureRow> rows, Func<int, IReadOnlyList<FeatureRow>, IReadOnlyList<FeatureRow>> change) : IEnumerable<FeatureRow>
    {
        private int _passes;

        public IEnumerator<FeatureRow> GetEnumerator() => change(_passes++, rows).GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
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
