#pragma warning disable CS0618 // The retired score kinds are tested: they still score the models saved with them.
using MLNet.Vae.Scoring.Kinds;
using Microsoft.ML;
using MLNet.Vae.Model;
using MLNet.Vae.Scoring;

namespace MLNet.Vae.Tests;

[TestClass]
public sealed class LatentCodeDensityTests
{
    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>n points of two round clusters of σ 0.3 at (−3, 1) and (3, −1), alternating.</summary>
    private static float[] TwoClusters(int n, int seed)
    {
        var random = new Random(seed);
        var points = new float[n * 2];
        for (int r = 0; r < n; r++)
        {
            double side = r % 2 == 0 ? -1 : 1;
            points[r * 2] = (float)(3 * side + 0.3 * Gaussian(random));
            points[r * 2 + 1] = (float)(-side + 0.3 * Gaussian(random));
        }
        return points;
    }

    [TestMethod]
    public void OneComponent_IsTheSampleGaussian_WithTheCovarianceFloor()
    {
        // Correlated 2-D points, few enough for one component: D must be the closed-form negative log density of
        // N(sample mean, sample covariance + floor I).
        var random = new Random(3);
        int n = 40;
        var points = new float[n * 2];
        for (int r = 0; r < n; r++)
        {
            double a = Gaussian(random), b = Gaussian(random);
            points[r * 2] = (float)(1 + 2 * a);
            points[r * 2 + 1] = (float)(-1 + a + 0.5 * b);
        }
        var mixture = LatentCodeDensity.Fit(points, n, 2, seed: 1);
        Assert.AreEqual(1, mixture.Components);

        double m0 = 0, m1 = 0;
        for (int r = 0; r < n; r++) { m0 += points[r * 2]; m1 += points[r * 2 + 1]; }
        m0 /= n; m1 /= n;
        double s00 = 0, s01 = 0, s11 = 0;
        for (int r = 0; r < n; r++)
        {
            double d0 = points[r * 2] - m0, d1 = points[r * 2 + 1] - m1;
            s00 += d0 * d0; s01 += d0 * d1; s11 += d1 * d1;
        }
        s00 = s00 / n + LatentCodeDensity.CovarianceFloor; s01 /= n; s11 = s11 / n + LatentCodeDensity.CovarianceFloor;
        double determinant = s00 * s11 - s01 * s01;
        foreach (var z in new[] { new[] { 0f, 0f }, new[] { 3f, 1f }, new[] { -4f, 2f } })
        {
            double d0 = z[0] - m0, d1 = z[1] - m1;
            double quadratic = (s11 * d0 * d0 - 2 * s01 * d0 * d1 + s00 * d1 * d1) / determinant;
            double expected = Math.Log(2 * Math.PI) + 0.5 * Math.Log(determinant) + 0.5 * quadratic;
            Assert.AreEqual(expected, mixture.NegativeLogDensity(z, mixture.LogNormalizers()), 1e-4 * Math.Max(1, Math.Abs(expected)), $"at ({z[0]}, {z[1]})");
        }
    }

    [TestMethod]
    public void TwoClusters_TheGapBetweenThemIsLessDenseThanEitherCentre()
    {
        var points = TwoClusters(400, seed: 5);
        var mixture = LatentCodeDensity.Fit(points, 400, 2, seed: 1);
        var normalizers = mixture.LogNormalizers();
        double left = mixture.NegativeLogDensity([-3f, 1f], normalizers);
        double right = mixture.NegativeLogDensity([3f, -1f], normalizers);
        double gap = mixture.NegativeLogDensity([0f, 0f], normalizers);
        // At a centre of σ 0.3 the 2-D density is about 1 / (2 · 2π · 0.09): D ≈ 1.0; halfway, 3.2 σ from both, D is above 20.
        Assert.IsLessThan(1.6, left, $"left centre {left:F2}");
        Assert.IsLessThan(1.6, right, $"right centre {right:F2}");
        Assert.IsGreaterThan(20.0, gap, $"gap {gap:F2}");
        Assert.AreEqual(1.0, mixture.LogWeights.Sum(w => Math.Exp(w)), 1e-5, "the weights sum to 1");
    }

    [TestMethod]
    public void Fit_OnPointsThatRepeat_StaysValidAndFinite()
    {
        // 80 identical codes (rows that repeat, or a collapsed dimension) and 20 spread ones: the covariance floor keeps every
        // component positive definite, and D stays finite near the repeated point and far from every point.
        var random = new Random(9);
        var points = Enumerable.Range(0, 100).SelectMany(r => r < 80 ? new[] { 0.5f, -0.5f, 0f } : [(float)Gaussian(random), (float)Gaussian(random), (float)Gaussian(random)]).ToArray();
        var mixture = LatentCodeDensity.Fit(points, 100, 3, seed: 1);
        Assert.IsTrue(mixture.IsValidFor(3));
        var normalizers = mixture.LogNormalizers();
        foreach (var z in new[] { new[] { 0.5f, -0.5f, 0f }, new[] { 0.6f, -0.5f, 0f }, new[] { 40f, -40f, 40f } })
            Assert.IsTrue(double.IsFinite(mixture.NegativeLogDensity(z, normalizers)), $"D at ({string.Join(", ", z)})");
        Assert.IsGreaterThan(mixture.NegativeLogDensity([0.5f, -0.5f, 0f], normalizers), mixture.NegativeLogDensity([0.6f, -0.5f, 0f], normalizers));
    }

    [TestMethod]
    public void DensityScore_OnATableWhoseRowsMostlyRepeat_IsFiniteAndRanksOutliersHigh()
    {
        // Three rows in four are one row repeated: the training codes' densities then have an inter-quartile range of 0,
        // and the scale falls back to their standard deviation (RobustScale.Fit).
        var ml = new MLContext(seed: 1);
        var normal = TestData.Normal(50, seed: 4);
        var rows = Enumerable.Range(0, 150).Select(i => new FeatureRow { Features = normal[0].Features.ToArray(), Id = 50 + i }).Concat(normal).ToList();
        var options = TestData.FastOptions(epochs: 20);
        options.ScoreKind = VaeScoreKind.ReconstructionAndLatentDensity;
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(TestData.ToDataView(ml, rows));
        var kind = (ReconstructionAndLatentDensityKind)model.Model.Kind;
        Assert.IsTrue(kind.Density!.IsValidFor(model.Model.LatentDimension) && kind.DensityScale.IsValid, $"density {kind.DensityScale}");
        var test = TestData.Normal(20, seed: 5).Concat(TestData.Outliers(5, seed: 6)).ToList();
        var scores = TestData.Scores(model.Transform(TestData.ToDataView(ml, test)));
        Assert.IsTrue(scores.All(float.IsFinite), string.Join(", ", scores));
        // Trained mostly on one row, the model finds the other normal rows unusual too; the outliers still rank above them.
        Assert.IsGreaterThan(scores.Take(20).Order().ElementAt(15), scores.Skip(20).Order().ElementAt(2), "the outliers' median above 75% of the normal rows");
    }

    [TestMethod]
    public void Fit_IsDeterministicForASeed_AndValid()
    {
        var points = TwoClusters(200, seed: 6);
        var first = LatentCodeDensity.Fit(points, 200, 2, seed: 1);
        var second = LatentCodeDensity.Fit(points, 200, 2, seed: 1);
        CollectionAssert.AreEqual(first.Means, second.Means);
        CollectionAssert.AreEqual(first.PrecisionFactors, second.PrecisionFactors);
        Assert.AreEqual(LatentCodeDensity.ComponentsFor(200), first.Components);
        Assert.IsTrue(first.IsValidFor(2));
        Assert.IsFalse(first.IsValidFor(3), "another latent size");
        double before = first.NegativeLogDensity([0f, 0f], first.LogNormalizers());
        var negative = first with { PrecisionFactors = first.PrecisionFactors.ToArray() };
        negative.PrecisionFactors[0] = -1;
        Assert.IsFalse(negative.IsValidFor(2), "a negative factor diagonal");
        var narrower = first with { PrecisionFactors = first.PrecisionFactors.Select(f => 2 * f).ToArray() };
        Assert.AreNotEqual(before, narrower.NegativeLogDensity([0f, 0f], narrower.LogNormalizers()), "a copy with other factors does not reuse the original's cached normalizers");
        Assert.IsFalse((first with { Means = [.. first.Means.SkipLast(1), float.NaN] }).IsValidFor(2), "a NaN centre");
    }

    [TestMethod]
    public void DensityScore_IsReconstructionAndLatent_PlusTheDensityTermAboveZero()
    {
        // s = ReconstructionAndLatent + max(0, (D(μ) − m_D) / s_D): recomputed here from the saved mixture, row by row. Rows in
        // dense regions add nothing (half the training rows lie below the median D), rows in sparse ones a positive term.
        var ml = new MLContext(seed: 1);
        var training = TestData.Normal(200, seed: 1);
        var options = TestData.FastOptions(epochs: 10);
        options.ScoreKind = VaeScoreKind.ReconstructionAndLatentDensity;
        using var transformer = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(TestData.ToDataView(ml, training));
        var model = transformer.Model;
        Assert.AreEqual(VaeScoreKind.ReconstructionAndLatentDensity, model.ScoreKind);
        var kind = (ReconstructionAndLatentDensityKind)model.Kind;
        // The same reconstruction and latent calibration without the density term.
        var withoutDensity = new ReconstructionAndLatentKind(model.KindContext, kind.Reconstruction, kind.Latent);
        var rows = TestData.Normal(20, seed: 2).Concat(TestData.Outliers(5, seed: 3)).SelectMany(r => r.Features).ToArray();
        int n = 25, latent = model.LatentDimension;
        var means = new float[n * latent];
        var density = new float[n];
        var combined = new float[n];
        model.Score(kind, rows, n, means, density);
        model.Score(withoutDensity, rows, n, new float[n * latent], combined);
        int zeros = 0;
        for (int r = 0; r < n; r++)
        {
            double d = kind.Density!.NegativeLogDensity(means.AsSpan(r * latent, latent), kind.Density.LogNormalizers());
            double expected = Math.Max(0, (d - kind.DensityScale.Center) / kind.DensityScale.Scale);
            Assert.AreEqual(expected, density[r] - combined[r], 1e-4 * Math.Max(1, Math.Abs(density[r])), $"row {r}");
            if (expected == 0) zeros++;
        }
        Assert.IsGreaterThan(0, zeros, "some rows lie where codes are dense and add nothing");
        Assert.IsLessThan(n, zeros, "some rows lie where codes are sparse and add a term");
    }

    [TestMethod]
    public void DensityScore_FlagsAClassBetweenTwoOthers_WhereThePriorsKlTermDoesNot()
    {
        // The normal rows are two classes on one line through the 16 features, t = ±3; 5% of the rows, the anomalies, sit halfway
        // (t = 0). They reconstruct as well as normal rows (the line holds them) and their codes lie where N(0, I) is densest,
        // so ReconstructionAndLatent misses them; the mixture fitted to the training rows' codes sees the gap.
        var ml = new MLContext(seed: 1);
        var random = new Random(11);
        var direction = Enumerable.Range(0, TestData.Width).Select(_ => Gaussian(random)).ToArray();
        var rows = Enumerable.Range(0, 400).Select(i =>
        {
            bool anomalous = i % 20 == 0;
            double t = (anomalous ? 0 : i % 2 == 0 ? -3 : 3) + 0.3 * Gaussian(random);
            var x = direction.Select(d => (float)(d * t + 0.1 * Gaussian(random))).ToArray();
            return new FeatureRow { Features = x, Label = anomalous ? 1 : 0, Id = i };
        }).ToList();
        var data = TestData.ToDataView(ml, rows);
        var options = TestData.FastOptions(epochs: 60);
        options.ScoreKind = VaeScoreKind.ReconstructionAndLatentDensity;
        using var density = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(data);
        options.ScoreKind = VaeScoreKind.ReconstructionAndLatent;
        using var prior = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(data);

        double Auc(ITransformer model) => ml.AnomalyDetection.Evaluate(model.Transform(data)).AreaUnderRocCurve;
        double withDensity = Auc(density), withPrior = Auc(prior);
        Assert.IsGreaterThan(0.9, withDensity, $"density {withDensity:F3}, prior's KL {withPrior:F3}");
        Assert.IsGreaterThan(withPrior + 0.1, withDensity, $"density {withDensity:F3}, prior's KL {withPrior:F3}");
        Assert.IsTrue(density.Model.Kind is ReconstructionAndLatentDensityKind { Density: not null });
    }
}
