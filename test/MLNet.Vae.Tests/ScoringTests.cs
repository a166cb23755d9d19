using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Tests;

public sealed class ScoredRow
{
    public float[] LatentFeatures { get; set; } = [];
    public float Score { get; set; }
    public bool PredictedLabel { get; set; }
    public int Id { get; set; }
}

[TestClass]
public sealed class ScoringTests
{
    private static MLContext _ml = null!;
    private static VaeTransformer _model = null!;

    [ClassInitialize]
    public static void FitOnce(TestContext _)
    {
        _ml = new MLContext(seed: 1);
        _model = new VaeEstimator(_ml, TestData.FastOptions(epochs: 40)).Fit(TestData.ToDataView(_ml, TestData.Normal(800, seed: 10)));
    }

    [ClassCleanup]
    public static void DisposeModel() => _model.Dispose();

    [TestMethod]
    public void Evaluate_PlantedOutliers_AreFoundWithHighAuc()
    {
        var test = TestData.Normal(400, seed: 11).Concat(TestData.Outliers(40, seed: 12)).ToList();
        var scored = _model.Transform(TestData.ToDataView(_ml, test));

        var metrics = _ml.AnomalyDetection.Evaluate(scored, labelColumnName: "Label", scoreColumnName: "Score", predictedLabelColumnName: "PredictedLabel");

        Assert.IsGreaterThan(0.97, metrics.AreaUnderRocCurve, $"AUC {metrics.AreaUnderRocCurve:F4}");
        var labels = scored.GetColumn<bool>("PredictedLabel").ToArray();
        Assert.IsGreaterThanOrEqualTo(36, labels.Skip(400).Count(l => l), "most planted outliers are above the threshold");
        Assert.IsLessThanOrEqualTo(40, labels.Take(400).Count(l => l), "few normal rows are above the threshold");
    }

    [TestMethod]
    public void Transform_SplitsABatchAcrossLibTorchThreads_WithTheScoresOfOneThread_AndLeavesTheCallersThreadCount()
    {
        int callersThreads = TorchSharp.torch.get_num_threads();
        if (callersThreads < 2) Assert.Inconclusive("libtorch runs on one thread here, so no batch is split.");
        var rows = TestData.Normal(700, seed: 15).Concat(TestData.Outliers(20, seed: 16)).ToList();
        var inParts = _ml.Data.CreateEnumerable<ScoredRow>(_model.Transform(TestData.ToDataView(_ml, rows)), reuseRowObject: false).ToList();
        Assert.AreEqual(callersThreads, TorchSharp.torch.get_num_threads(), "the caller's libtorch thread count is its own again");

        // A thread whose libtorch runs on one thread scores each batch in one part.
        List<ScoredRow> onOneThread = [];
        var single = new Thread(() =>
        {
            TorchSharp.torch.set_num_threads(1);
            try { onOneThread = _ml.Data.CreateEnumerable<ScoredRow>(_model.Transform(TestData.ToDataView(_ml, rows)), reuseRowObject: false).ToList(); }
            finally { TorchSharp.torch.set_num_threads(callersThreads); }
        });
        single.Start();
        single.Join();

        Assert.HasCount(rows.Count, onOneThread);
        for (int r = 0; r < rows.Count; r++)
        {
            Assert.AreEqual(onOneThread[r].Id, inParts[r].Id, "rows keep their order");
            Assert.AreEqual(onOneThread[r].Score, inParts[r].Score, 1e-5f * Math.Max(1, Math.Abs(onOneThread[r].Score)), $"score of row {r}");
            for (int j = 0; j < onOneThread[r].LatentFeatures.Length; j++)
                Assert.AreEqual(onOneThread[r].LatentFeatures[j], inParts[r].LatentFeatures[j], 1e-5f, $"latent {j} of row {r}");
        }
    }

    [TestMethod]
    public void OneLibTorchThreadForAPart_LeavesTheThreadCountANewThreadStartsWith()
    {
        int callersThreads = TorchSharp.torch.get_num_threads();
        if (callersThreads < 2) Assert.Inconclusive("libtorch runs on one thread here, so no batch is split.");
        int partThreads = 0, newThreadStartsWith = 0;
        using (var held = new ManualResetEventSlim())
        using (var release = new ManualResetEventSlim())
        {
            // A part's thread holds one libtorch thread while a thread that never ran libtorch runs its first operator.
            var part = new Thread(() =>
            {
                using (MLNet.Vae.Platform.IntraOpThreads.One())
                {
                    partThreads = TorchSharp.torch.get_num_threads();
                    held.Set();
                    release.Wait();
                }
            });
            part.Start();
            held.Wait();
            var fresh = new Thread(() => newThreadStartsWith = TorchSharp.torch.get_num_threads());
            fresh.Start();
            fresh.Join();
            release.Set();
            part.Join();
        }
        Assert.AreEqual(1, partThreads, "the part runs libtorch on one thread");
        Assert.AreEqual(callersThreads, newThreadStartsWith, "a thread starting meanwhile takes the process's count, not the part's");
    }

    [TestMethod]
    public void PredictionEngine_GivesTheSameValuesAsTransform_AcrossBatchBoundaries()
    {
        // More rows than one scoring batch (512), so the batched cursor crosses a batch boundary.
        var rows = TestData.Normal(1100, seed: 13).Concat(TestData.Outliers(30, seed: 14)).ToList();
        var batched = _ml.Data.CreateEnumerable<ScoredRow>(_model.Transform(TestData.ToDataView(_ml, rows)), reuseRowObject: false).ToList();
        var engine = _ml.Model.CreatePredictionEngine<FeatureRow, ScoredRow>(_model,
            inputSchemaDefinition: VectorSchema());

        Assert.HasCount(rows.Count, batched);
        for (int r = 0; r < rows.Count; r++)
        {
            var single = engine.Predict(rows[r]);
            Assert.AreEqual(rows[r].Id, batched[r].Id, "rows keep their order and pass-through columns");
            Assert.AreEqual(batched[r].Score, single.Score, 1e-4f * Math.Max(1, Math.Abs(single.Score)), $"score of row {r}");
            Assert.AreEqual(batched[r].PredictedLabel, single.PredictedLabel, $"label of row {r}");
            Assert.HasCount(3, single.LatentFeatures);
            for (int k = 0; k < 3; k++)
                Assert.AreEqual(batched[r].LatentFeatures[k], single.LatentFeatures[k], 1e-4f, $"latent {k} of row {r}");
        }
    }

    [TestMethod]
    public void Transform_IsDeterministic_AndAddsThreeColumnsAfterTheInputs()
    {
        var data = TestData.ToDataView(_ml, TestData.Normal(100, seed: 15));
        var scored = _model.Transform(data);

        CollectionAssert.AreEqual(TestData.Scores(scored), TestData.Scores(_model.Transform(data)));
        var schema = scored.Schema;
        Assert.AreEqual(data.Schema.Count + 3, schema.Count);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 3), schema["LatentFeatures"].Type);
        Assert.AreEqual(NumberDataViewType.Single, schema["Score"].Type);
        Assert.AreEqual(BooleanDataViewType.Instance, schema["PredictedLabel"].Type);
        Assert.AreEqual(100L, scored.GetRowCount());
        CollectionAssert.AreEqual(Enumerable.Range(0, 100).ToArray(), scored.GetColumn<int>("Id").ToArray());
    }

    [TestMethod]
    public void Transform_RowWithNaN_IsTheMostAnomalous_OtherRowsUnaffected()
    {
        var rows = TestData.Normal(5, seed: 16);
        var clean = TestData.Scores(_model.Transform(TestData.ToDataView(_ml, rows)));
        rows[2].Features[4] = float.NaN;

        var scored = _model.Transform(TestData.ToDataView(_ml, rows));
        var scores = TestData.Scores(scored);
        var labels = scored.GetColumn<bool>("PredictedLabel").ToArray();

        Assert.AreEqual(float.PositiveInfinity, scores[2]);
        Assert.IsTrue(labels[2]);
        foreach (int r in new[] { 0, 1, 3, 4 }) Assert.AreEqual(clean[r], scores[r], 1e-5f);
    }

    [TestMethod]
    public void Cursor_ReadingOnlyInputColumns_DoesNotNeedTheModel()
    {
        var scored = _model.Transform(TestData.ToDataView(_ml, TestData.Normal(10, seed: 17)));
        using var cursor = scored.GetRowCursor([scored.Schema["Id"]]);
        int count = 0;
        while (cursor.MoveNext()) count++;

        Assert.AreEqual(10, count);
        Assert.IsFalse(cursor.IsColumnActive(scored.Schema["Score"]));
        var error = Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<float>(scored.Schema["Score"]));
        StringAssert.Contains(error.Message, "'Score' is not active");
    }

    [TestMethod]
    public void Cursor_GetterOfTheWrongType_ThrowsInMLNetWording()
    {
        var scored = _model.Transform(TestData.ToDataView(_ml, TestData.Normal(3, seed: 18)));
        using var cursor = scored.GetRowCursor(scored.Schema);

        var error = Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<double>(scored.Schema["Score"]));
        StringAssert.Contains(error.Message, "Invalid TValue in GetGetter");
    }

    [TestMethod]
    public void WithThreshold_ChangesOnlyTheLabels()
    {
        var data = TestData.ToDataView(_ml, TestData.Normal(200, seed: 19));
        var scores = TestData.Scores(_model.Transform(data));
        float median = scores.OrderBy(s => s).ElementAt(100);
        using var relabelled = _model.WithThreshold(median);

        var scored = relabelled.Transform(data);
        CollectionAssert.AreEqual(scores, TestData.Scores(scored));
        Assert.AreEqual(median, relabelled.Threshold);
        Assert.AreEqual(scores.Count(s => s > median), scored.GetColumn<bool>("PredictedLabel").Count(l => l));
        Assert.Throws<ArgumentOutOfRangeException>(() => _model.WithThreshold(float.NaN));
    }

    [TestMethod]
    public void ScoreKinds_AreFiniteAndOrderPlantedOutliersAboveNormalRows()
    {
        var train = TestData.ToDataView(_ml, TestData.Normal(500, seed: 20));
        var test = TestData.ToDataView(_ml, TestData.Normal(200, seed: 21).Concat(TestData.Outliers(20, seed: 22)));
        foreach (var kind in Enum.GetValues<VaeScoreKind>())
        {
            var options = TestData.FastOptions(epochs: 30);
            options.ScoreKind = kind;
            using var model = new VaeEstimator(_ml, options).Fit(train);
            var metrics = _ml.AnomalyDetection.Evaluate(model.Transform(test));
            Assert.IsGreaterThan(0.95, metrics.AreaUnderRocCurve, $"{kind}: AUC {metrics.AreaUnderRocCurve:F4}");
        }
    }

    internal static SchemaDefinition VectorSchema(int width = TestData.Width)
    {
        var schema = SchemaDefinition.Create(typeof(FeatureRow));
        schema[nameof(FeatureRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return schema;
    }
}
