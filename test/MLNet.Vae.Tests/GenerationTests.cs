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

    [TestMethod]
    public void Interpolate_EndsAtTheReconstructionsOfBothRows_AndMovesSmoothlyBetween()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Normal(300, seed: 56);
        using var model = new VaeEstimator(ml, TestData.FastOptions(epochs: 20)).Fit(TestData.ToDataView(ml, rows));
        float[] from = rows[0].Features, to = rows[1].Features;

        var path = model.Interpolate(from, to, steps: 5);
        var ends = model.Reconstruct([from, to]);

        Assert.HasCount(5, path);
        for (int i = 0; i < TestData.Width; i++)
        {
            Assert.AreEqual(ends[0][i], path[0][i], 1e-4f);
            Assert.AreEqual(ends[1][i], path[^1][i], 1e-4f);
        }
        double Distance(float[] a, float[] b) => Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Sum());
        double whole = Distance(path[0], path[^1]);
        for (int k = 1; k < path.Length; k++)
            Assert.IsLessThan(0.75 * whole, Distance(path[k - 1], path[k]), $"step {k} is a small part of the way");
        Assert.Throws<ArgumentException>(() => model.Interpolate(from, new float[3], 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Interpolate(from, to, 1));
    }

    [TestMethod]
    public void ImageWriter_WritesGeneratedImagesAsAPngGrid_AndRefusesWrongSizes()
    {
        var ml = new MLContext(seed: 1);
        using var model = new VaeEstimator(ml, TestData.FastOptions(VaeLikelihood.Bernoulli, epochs: 2))
            .Fit(TestData.ToDataView(ml, TestData.Normal(100, seed: 57, unitInterval: true)));
        var shape = new VaeImageShape(1, 4, 4);
        string folder = Directory.CreateTempSubdirectory("vae-png-").FullName;
        try
        {
            string grid = Path.Combine(folder, "grid.png"), single = Path.Combine(folder, "one.png");
            VaeImageWriter.WriteGrid(grid, shape, [model.Generate(3, seed: 1), model.Generate(3, seed: 2)], scale: 5);
            VaeImageWriter.WritePng(single, shape, model.Generate(1)[0]);

            using (var bitmap = SkiaSharp.SKBitmap.Decode(grid))
            {
                Assert.AreEqual(2 + 3 * (4 * 5 + 2), bitmap.Width);
                Assert.AreEqual(2 + 2 * (4 * 5 + 2), bitmap.Height);
            }
            using (var bitmap = SkiaSharp.SKBitmap.Decode(single)) Assert.AreEqual(2 + 4 + 2, bitmap.Width);
            var error = Assert.Throws<ArgumentException>(() => VaeImageWriter.WritePng(single, new VaeImageShape(1, 3, 3), new float[16]));
            StringAssert.Contains(error.Message, "Image 0 of row 0 has 16 values; shape 1x3x3 holds 9.");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
