#pragma warning disable CS0618 // The retired score kinds are tested: they still score the models saved with them.
using Microsoft.ML;

namespace MLNet.Vae.Tests;

/// <summary>
/// Training data a careful user meets that the first reliability round did not cover: features with a tiny spread,
/// constant features, one extreme cell, rows that are all the same. No silent wrong answer: each is scored right, warned
/// about, or refused with the way out.
/// </summary>
[TestClass]
public sealed class UnusualDataTests
{
    [TestMethod]
    [DataRow(VaeScoreKind.ReconstructionError)]
    [DataRow(VaeScoreKind.NegativeElbo)]
    [DataRow(VaeScoreKind.ReconstructionAndLatent)]
    [DataRow(VaeScoreKind.WeightedReconstructionError)]
    [DataRow(VaeScoreKind.ReconstructionAndLatentDensity)]
    [DataRow(VaeScoreKind.WeightedReconstructionAndLatentNeighbours)]
    public void Fit_FeatureWithATinySpread_FlagsARowFarOutInIt(VaeScoreKind kind)
    {
        // A feature in SI units spreading 1e-5 (variance 1e-10) was given scale 1, as if constant: a value 200 of its
        // standard deviations out scored below a normal row.
        var ml = new MLContext(seed: 1);
        var rows = TestData.Normal(300, seed: 1);
        foreach (var row in rows) row.Features[5] = 1e-5f * (row.Features[5] - 3);
        double spread = StandardDeviation(rows.Select(r => r.Features[5]));
        var options = TestData.FastOptions(epochs: 20);
        options.ScoreKind = kind;
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(TestData.ToDataView(ml, rows));

        var test = TestData.Normal(2, seed: 2);
        foreach (var row in test) row.Features[5] = 1e-5f * (row.Features[5] - 3);
        test[1].Features[5] += (float)(200 * spread);
        var scores = TestData.Scores(model.Transform(TestData.ToDataView(ml, test)));
        Assert.IsGreaterThan(model.Threshold, scores[1], $"the row 200 spreads out scores {scores[1]} against the threshold {model.Threshold}");
        Assert.IsGreaterThan(scores[0], scores[1]);
        Assert.IsFalse(model.Training.Warnings.Any(w => w.Kind == VaeWarningKind.ConstantFeatures), "a tiny spread is a spread");
    }

    [TestMethod]
    public void Fit_ConstantFeature_WarnsAndFlagsAnotherValueThere()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Normal(300, seed: 1);
        foreach (var row in rows) row.Features[2] = 7.5f;
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(TestData.FastOptions(epochs: 20)).Fit(TestData.ToDataView(ml, rows));

        var warning = model.Training.Warnings.Single(w => w.Kind == VaeWarningKind.ConstantFeatures);
        StringAssert.Contains(warning.Message, "features 2;");
        var test = TestData.Normal(2, seed: 2);
        foreach (var row in test) row.Features[2] = 7.5f;
        test[1].Features[2] = 7.6f;
        var scores = TestData.Scores(model.Transform(TestData.ToDataView(ml, test)));
        Assert.IsLessThan(model.Threshold, scores[0], "the constant value itself is normal");
        Assert.IsGreaterThan(model.Threshold, scores[1], "another value there is not");
    }

    [TestMethod]
    public void Fit_OneExtremeCell_WithSquaredError_IsRefusedWithAdvice()
    {
        // One cell of 1e25 made every SquaredError score +∞: the threshold was NaN, every row was labelled normal, and the
        // saved file could not be loaded.
        var ml = new MLContext(seed: 1);
        var rows = TestData.Normal(300, seed: 1);
        rows[7].Features[1] = 1e25f;
        var options = TestData.FastOptions(epochs: 5);
        options.ScoreKind = VaeScoreKind.SquaredError;
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(TestData.ToDataView(ml, rows)));
        StringAssert.Contains(error.Message, "score beyond the float range");
        StringAssert.Contains(error.Message, "NormalizeMeanVariance");
    }

    [TestMethod]
    public void Fit_SquaredError_OverFeaturesOfVeryDifferentSpreads_Warns()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Normal(300, seed: 1);
        foreach (var row in rows) row.Features[3] *= 1e6f;
        var options = TestData.FastOptions(epochs: 2);
        options.ScoreKind = VaeScoreKind.SquaredError;
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(TestData.ToDataView(ml, rows));
        StringAssert.Contains(model.Training.Warnings.Single(w => w.Kind == VaeWarningKind.FeatureScalesDiffer).Message, "feature 3 spreads");

        options.ScoreKind = null;
        using var standardized = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(TestData.ToDataView(ml, rows));
        Assert.IsFalse(standardized.Training.Warnings.Any(w => w.Kind == VaeWarningKind.FeatureScalesDiffer), "the default score is in standardized units");
    }

    [TestMethod]
    [DataRow(VaeLikelihood.Gaussian)]
    [DataRow(VaeLikelihood.Bernoulli)]
    public void Fit_RowsThatAreAllTheSame_IsRefused(VaeLikelihood likelihood)
    {
        // 300 identical rows gave the threshold 0, and the density and neighbour kinds then flagged that very row (8e-14 > 0).
        var ml = new MLContext(seed: 1);
        var row = TestData.Normal(1, seed: 1, unitInterval: likelihood == VaeLikelihood.Bernoulli)[0].Features;
        var rows = Enumerable.Range(0, 300).Select(_ => new FeatureRow { Features = row.ToArray() }).ToList();
        var error = Assert.ThrowsExactly<InvalidOperationException>(() =>
            ml.AnomalyDetection.Trainers.VariationalAutoencoder(TestData.FastOptions(likelihood, epochs: 2)).Fit(TestData.ToDataView(ml, rows)));
        StringAssert.Contains(error.Message, "All 300 training rows");
    }

    private static double StandardDeviation(IEnumerable<float> values)
    {
        var v = values.Select(x => (double)x).ToArray();
        double mean = v.Average();
        return Math.Sqrt(v.Average(x => (x - mean) * (x - mean)));
    }
}
