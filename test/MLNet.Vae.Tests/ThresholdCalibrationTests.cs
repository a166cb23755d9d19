using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Tests;

/// <summary>Thresholds without guessing contamination: calibration on normal rows, and a p-value column.</summary>
[TestClass]
public sealed class ThresholdCalibrationTests
{
    private static VaeOptions Options(string? pValueColumn = null)
    {
        var options = TestData.FastOptions(epochs: 20);
        options.PValueColumnName = pValueColumn;
        return options;
    }

    [TestMethod]
    public void WithFalsePositiveRate_FlagsAboutThatFractionOfNormalRows()
    {
        var ml = new MLContext(seed: 1);
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(Options()).Fit(TestData.ToDataView(ml, TestData.Normal(400, seed: 1)));
        var calibration = TestData.ToDataView(ml, TestData.Normal(400, seed: 2));

        using var calibrated = model.WithFalsePositiveRate(calibration, falsePositiveRate: 0.05);

        double Flagged(IDataView data) => calibrated.Transform(data).GetColumn<bool>("PredictedLabel").Average(l => l ? 1.0 : 0.0);
        Assert.AreEqual(0.05, Flagged(calibration), 0.005, "on the calibration rows themselves");
        double fresh = Flagged(TestData.ToDataView(ml, TestData.Normal(1000, seed: 3)));
        Assert.IsTrue(fresh is > 0.01 and < 0.12, $"on fresh normal rows: {fresh:P1}");
        Assert.AreNotEqual(model.Threshold, calibrated.Threshold);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.WithFalsePositiveRate(calibration, 0));
    }

    [TestMethod]
    public void PValueColumn_IsTheUpperTailAmongTrainingScores_AndSurvivesSaveAndLoad()
    {
        var ml = new MLContext(seed: 1);
        var training = TestData.ToDataView(ml, TestData.Normal(300, seed: 4));
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(Options("PValue")).Fit(training);
        var test = TestData.ToDataView(ml, TestData.Normal(50, seed: 5).Concat(TestData.Outliers(10, seed: 6)).ToList());

        var scored = model.Transform(test);
        var scores = scored.GetColumn<float>("Score").ToArray();
        var pValues = scored.GetColumn<float>("PValue").ToArray();
        var sorted = model.Training.TrainingScores;
        Assert.HasCount(300, sorted);
        for (int i = 0; i < scores.Length; i++)
        {
            double expected = (1.0 + sorted.Count(t => t >= scores[i])) / (sorted.Count + 1.0);
            Assert.AreEqual(expected, pValues[i], 1e-6, $"row {i}");
        }
        Assert.IsLessThan(pValues.Take(50).Average(), pValues.Skip(50).Average(), "the outliers' p-values are smaller");

        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        using var loaded = VaeTransformer.Load(ml, stream);
        CollectionAssert.AreEqual(pValues, loaded.Transform(test).GetColumn<float>("PValue").ToArray());
    }
}
