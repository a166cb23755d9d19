using Microsoft.ML;
using Microsoft.ML.Data;
using TorchSharp;

namespace MLNet.Vae.Tests;

/// <summary>
/// Native memory is released deterministically: TorchSharp counts the tensors alive on this thread, and every path that
/// makes tensors (training, batched scoring, single-row scoring, reconstruction, generation, save/load) must give them back.
/// </summary>
[TestClass]
public sealed class NativeMemoryTests
{
    private static long LiveTensors => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    [TestMethod]
    public void FitThenDispose_LeavesNoTensorAlive()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.ToDataView(ml, TestData.Normal(200, seed: 70));
        long before = LiveTensors;

        var model = new VaeEstimator(ml, TestData.FastOptions(epochs: 3)).Fit(data);
        Assert.IsGreaterThan(before, LiveTensors, "a fitted model holds its weights");
        model.Dispose();

        Assert.AreEqual(before, LiveTensors);
    }

    [TestMethod]
    public void ScoringManyRows_ThroughCursorAndPredictionEngine_LeavesNoTensorAlive()
    {
        var ml = new MLContext(seed: 1);
        using var model = new VaeEstimator(ml, TestData.FastOptions(epochs: 2)).Fit(TestData.ToDataView(ml, TestData.Normal(100, seed: 71)));
        var rows = TestData.Normal(5000, seed: 72);
        var data = TestData.ToDataView(ml, rows);
        var engine = ml.Model.CreatePredictionEngine<FeatureRow, ScoredRow>(model, inputSchemaDefinition: ScoringTests.VectorSchema());
        long before = LiveTensors;

        for (int pass = 0; pass < 3; pass++)
        {
            var scored = model.Transform(data);
            using var cursor = scored.GetRowCursor(scored.Schema);
            var score = cursor.GetGetter<float>(scored.Schema["Score"]);
            var latent = cursor.GetGetter<VBuffer<float>>(scored.Schema["LatentFeatures"]);
            float value = 0;
            VBuffer<float> vector = default;
            while (cursor.MoveNext())
            {
                score(ref value);
                latent(ref vector);
            }
        }
        foreach (var row in rows.Take(500)) engine.Predict(row);
        model.Reconstruct(rows.Take(100).Select(r => r.Features).ToList());
        model.Generate(100, seed: 1);
        using (var stream = new MemoryStream())
        {
            model.Save(stream);
            stream.Position = 0;
            VaeTransformer.Load(ml, stream).Dispose();
        }
        using (model.WithThreshold(1f)) { }

        Assert.AreEqual(before, LiveTensors, "every tensor made while scoring was disposed");
    }
}
