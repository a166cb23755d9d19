using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Tests;

/// <summary>Per-feature scores: which features drove a row's score.</summary>
[TestClass]
public sealed class FeatureScoresTests
{
    [TestMethod]
    public void FeatureScoresColumn_SumsToTheReconstructionError_AndPointsAtTheBrokenFeature()
    {
        var ml = new MLContext(seed: 1);
        var options = TestData.FastOptions(epochs: 30);
        options.ScoreKind = VaeScoreKind.ReconstructionError;
        options.FeatureScoresColumnName = "FeatureScores";
        var training = TestData.ToDataView(ml, TestData.Normal(300, seed: 1));
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(training);
        var rows = TestData.Normal(20, seed: 2);
        rows[7].Features[5] += 25;   // one feature far off
        var data = TestData.ToDataView(ml, rows);

        var scored = model.Transform(data);
        var shares = scored.GetColumn<float[]>("FeatureScores").ToArray();
        var scores = scored.GetColumn<float>("Score").ToArray();

        // The score is R on the one score scale, (R − c) / σ; the feature scores sum to R itself.
        var (center, scale) = model.Ensemble.Scales[0];
        for (int r = 0; r < rows.Count; r++) Assert.AreEqual(scores[r] * scale + center, shares[r].Sum(), 1e-3 * Math.Max(1, shares[r].Sum()), $"row {r}");
        Assert.AreEqual(5, Array.IndexOf(shares[7], shares[7].Max()), "the broken feature has the largest share");
        CollectionAssert.AreEqual(shares[7], model.FeatureScores([rows[7].Features])[0], new ToleranceComparer(1e-4f), "the method gives the column's values");
        var engine = ml.Model.CreatePredictionEngine<FeatureRow, Shares>(model, data.Schema);
        CollectionAssert.AreEqual(shares[7], engine.Predict(rows[7]).FeatureScores, new ToleranceComparer(1e-4f), "one-row path");
    }

    [TestMethod]
    public void FeatureScoresColumn_CopiesTheInputSlotNames()
    {
        var ml = new MLContext(seed: 1);
        var options = TestData.FastOptions(epochs: 2);
        options.FeatureScoresColumnName = "FeatureScores";
        var random = new Random(1);
        var raw = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 50).Select(_ => new Sensors
        {
            Pressure = (float)random.NextDouble(), Temperature = (float)random.NextDouble(), Flow = (float)random.NextDouble(), Vibration = (float)random.NextDouble(),
        }).ToList());
        // Concatenate names its slots after its input columns.
        var named = ml.Transforms.Concatenate("Named", nameof(Sensors.Pressure), nameof(Sensors.Temperature), nameof(Sensors.Flow), nameof(Sensors.Vibration)).Fit(raw).Transform(raw);
        options.FeatureColumnName = "Named";
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(named);

        var column = model.GetOutputSchema(named.Schema)["FeatureScores"];
        var expected = default(VBuffer<ReadOnlyMemory<char>>);
        var actual = default(VBuffer<ReadOnlyMemory<char>>);
        named.Schema["Named"].GetSlotNames(ref expected);
        column.GetSlotNames(ref actual);
        CollectionAssert.AreEqual(new[] { "Pressure", "Temperature", "Flow", "Vibration" }, expected.DenseValues().Select(v => v.ToString()).ToList());
        CollectionAssert.AreEqual(expected.DenseValues().Select(v => v.ToString()).ToList(), actual.DenseValues().Select(v => v.ToString()).ToList());
    }

    public sealed class Sensors
    {
        public float Pressure { get; set; }
        public float Temperature { get; set; }
        public float Flow { get; set; }
        public float Vibration { get; set; }
    }

    public sealed class Shares
    {
        public float[] FeatureScores { get; set; } = [];
    }

    private sealed class ToleranceComparer(float tolerance) : System.Collections.IComparer
    {
        public int Compare(object? x, object? y) => Math.Abs((float)x! - (float)y!) <= tolerance ? 0 : 1;
    }
}
