using Microsoft.ML;

namespace MLNet.Vae.Tests;

[TestClass]
public sealed class GenerationTests
{
    [TestMethod]
    public void Generate_SameSeedSameRows_OtherSeedOtherRows_BernoulliInUnitInterval()
    {
        var ml = new MLContext(seed: 1);
        using var model = new VaeEstimator(ml, TestData.FastOptions(VaeLikelihood.Bernoulli, epochs: 10))
            .Fit(TestData.ToDataView(ml, TestData.Normal(300, seed: 50, unitInterval: true)));

        var first = model.Generate(8, seed: 3);
        var again = model.Generate(8, seed: 3);
        var other = model.Generate(8, seed: 4);

        Assert.HasCount(8, first);
        Assert.IsTrue(first.All(r => r.Length == TestData.Width));
        CollectionAssert.AreEqual(first.SelectMany(r => r).ToArray(), again.SelectMany(r => r).ToArray());
        CollectionAssert.AreNotEqual(first.SelectMany(r => r).ToArray(), other.SelectMany(r => r).ToArray());
        Assert.IsTrue(first.SelectMany(r => r).All(v => v is > 0f and < 1f));
    }

    [TestMethod]
    public void Generate_GaussianSamples_LookLikeTheTrainingData()
    {
        var ml = new MLContext(seed: 1);
        var train = TestData.Normal(800, seed: 51);
        using var model = new VaeEstimator(ml, TestData.FastOptions(epochs: 60)).Fit(TestData.ToDataView(ml, train));

        var generated = model.Generate(400, seed: 1);
        // Generated rows come back in the input's units: per-feature means close to the data's.
        for (int i = 0; i < TestData.Width; i++)
        {
            double dataMean = train.Average(r => r.Features[i]);
            double dataSd = Math.Sqrt(train.Average(r => Math.Pow(r.Features[i] - dataMean, 2)));
            double generatedMean = generated.Average(r => r[i]);
            Assert.AreEqual(dataMean, generatedMean, 0.35 * dataSd, $"feature {i}");
        }
        // And they lie on the learned manifold: the VAE scores them like normal rows, far below planted outliers.
        var scores = TestData.Scores(model.Transform(TestData.ToDataView(ml,
            generated.Select((g, r) => new FeatureRow { Features = g, Id = r }))));
        var outlierScores = TestData.Scores(model.Transform(TestData.ToDataView(ml, TestData.Outliers(50, seed: 52))));
        Assert.IsLessThan(outlierScores.Min(), scores.Average());
    }

    [TestMethod]
    public void Reconstruct_OfOutliers_IsFartherFromTheInputThanOfNormalRows()
    {
        var ml = new MLContext(seed: 1);
        using var model = new VaeEstimator(ml, TestData.FastOptions(epochs: 40)).Fit(TestData.ToDataView(ml, TestData.Normal(600, seed: 53)));
        double Error(List<FeatureRow> rows)
        {
            var reconstructed = model.Reconstruct(rows.Select(r => r.Features).ToList());
            return rows.Select((r, k) => r.Features.Zip(reconstructed[k], (a, b) => (a - b) * (a - b)).Sum()).Average();
        }

        Assert.IsLessThan(Error(TestData.Outliers(50, seed: 55)) / 5, Error(TestData.Normal(50, seed: 54)));
        Assert.IsEmpty(model.Reconstruct([]));
    }
}
