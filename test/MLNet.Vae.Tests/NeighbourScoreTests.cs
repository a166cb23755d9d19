using MLNet.Vae.Scoring.Kinds;
using Microsoft.ML;
using MLNet.Vae.Model;
using MLNet.Vae.Scoring;

namespace MLNet.Vae.Tests;

/// <summary>
/// VaeScoreKind.WeightedReconstructionAndLatentNeighbours, the convolutional network's default:
/// s(x) = (W(x) − m_W) / s_W + max(0, (N(x) − m_N) / s_N), N the mean distance from μ(x) to its 2nd to 11th nearest stored
/// training code, recomputed here by brute force in float64.
/// </summary>
[TestClass]
public sealed class NeighbourScoreTests
{
    [TestMethod]
    public void NeighbourScore_EqualsTheFormula()
    {
        var ml = new MLContext(seed: 1);
        var trainRows = TestData.Normal(150, seed: 1, unitInterval: true);
        var options = TestData.FastOptions(VaeLikelihood.Bernoulli, epochs: 10);
        options.ScoreKind = VaeScoreKind.WeightedReconstructionAndLatentNeighbours;
        using var transformer = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(TestData.ToDataView(ml, trainRows));
        var model = transformer.Model;
        var calibration = (WeightedReconstructionAndLatentNeighboursKind)model.Kind;
        int l = model.LatentDimension;
        Assert.IsTrue(calibration.Neighbours!.IsValidFor(l));

        // Fewer rows than LatentNeighbours.MaximumCodes: every training row's code is stored, in order.
        var (trainLatent, trainWeighted) = WeightedAndLatent(model, trainRows);
        var codes = calibration.Neighbours!.Codes;
        Assert.HasCount(trainLatent.Length, codes, "one code per training row");
        for (int i = 0; i < codes.Length; i++) Assert.AreEqual(trainLatent[i], codes[i], 1e-5, $"code value {i}");
        Assert.AreEqual(LatentNeighbours.DefaultNeighbours, calibration.Neighbours.Neighbours);

        // The centre and scale of W and N over the training rows (N of a training row leaves its own code out).
        var trainDistances = Enumerable.Range(0, trainRows.Count).Select(r => BruteForceDistance(trainLatent.AsSpan(r * l, l), codes, l)).ToArray();
        var (weightedCenter, weightedScale) = MedianAndSpread(trainWeighted.Select(v => (double)v).ToArray());
        var (distanceCenter, distanceScale) = MedianAndSpread(trainDistances);
        Assert.AreEqual(weightedCenter, calibration.Weighted.Center, 1e-4 * Math.Max(1, Math.Abs(weightedCenter)), "m_W");
        Assert.AreEqual(weightedScale, calibration.Weighted.Scale, 1e-4 * weightedScale, "s_W");
        Assert.AreEqual(distanceCenter, calibration.Distance.Center, 1e-4 * distanceCenter, "m_N");
        Assert.AreEqual(distanceScale, calibration.Distance.Scale, 1e-4 * distanceScale, "s_N");

        // Training rows, new normal rows and outliers, scored by Transform, against the formula.
        var testRows = trainRows.Take(4).Concat(TestData.Normal(5, seed: 2, unitInterval: true)).Concat(TestData.Outliers(5, seed: 3, unitInterval: true)).ToList();
        var (testLatent, testWeighted) = WeightedAndLatent(model, testRows);
        var scores = TestData.Scores(transformer.Transform(TestData.ToDataView(ml, testRows)));
        int aboveCentre = 0;
        var (center, scale) = transformer.Ensemble.Scales[0];
        for (int r = 0; r < testRows.Count; r++)
        {
            double distance = BruteForceDistance(testLatent.AsSpan(r * l, l), codes, l);
            double neighbourTerm = Math.Max(0, (distance - distanceCenter) / distanceScale);
            double expected = (testWeighted[r] - weightedCenter) / weightedScale + neighbourTerm;
            Assert.AreEqual((expected - center) / scale, scores[r], 1e-3 * Math.Max(1, Math.Abs(expected)) / scale, $"row {r}: on the one score scale");
            if (neighbourTerm > 0) aboveCentre++;
        }
        Assert.IsGreaterThanOrEqualTo(1, aboveCentre, "the neighbour term is not zero for every row (the comparison checks it)");
        Assert.IsGreaterThan(scores.Take(9).Average(), scores.Skip(9).Average(), "the outliers score above the normal rows on average");

        // The codes and both centres and scales travel with the model file.
        using var loaded = TestData.SavedAndLoaded(ml, transformer);
        CollectionAssert.AreEqual(scores, TestData.Scores(loaded.Transform(TestData.ToDataView(ml, testRows))), "the same scores after loading");
    }

    [TestMethod]
    public void Fit_StreamingTheRows_CalibratesTheNeighboursOnASampleOfThem()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Normal(300, seed: 4, unitInterval: true);
        var options = TestData.FastOptions(VaeLikelihood.Bernoulli, epochs: 2);
        options.ScoreKind = VaeScoreKind.WeightedReconstructionAndLatentNeighbours;
        options.MaximumInMemoryBytes = 1024;
        using var streamed = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(TestData.ToDataView(ml, rows));
        var calibration = (WeightedReconstructionAndLatentNeighboursKind)streamed.Model.Kind;
        Assert.IsTrue(calibration.Neighbours!.IsValidFor(streamed.Model.LatentDimension));
        Assert.IsTrue(calibration.Weights.All(w => float.IsFinite(w) && w > 0) && calibration.Weights.Length == streamed.Model.InputWidth);
        Assert.AreEqual(rows.Count, calibration.Neighbours!.CountFor(streamed.Model.LatentDimension), "fewer rows than the sample holds: all of them");
    }

    [TestMethod]
    public void LatentNeighbours_OfManyRows_KeepAnEvenSpreadOfAtMostTheMaximum()
    {
        const int l = 2, count = 5000;
        var codes = Enumerable.Range(0, count * l).Select(i => (float)i).ToArray();
        var neighbours = LatentNeighbours.Fit(codes, count, l);
        Assert.AreEqual(LatentNeighbours.MaximumCodes, neighbours.CountFor(l));
        Assert.AreEqual(0f, neighbours.Codes[0]);
        // Row m·count/M for m = M − 1, the last kept.
        int last = (LatentNeighbours.MaximumCodes - 1) * count / LatentNeighbours.MaximumCodes;
        Assert.AreEqual((float)(last * l), neighbours.Codes[^2]);
        Assert.IsTrue(neighbours.IsValidFor(l));
        Assert.IsFalse(neighbours.IsValidFor(3), "2 × 2048 values are not whole codes of 3");
        Assert.IsFalse((neighbours with { Neighbours = LatentNeighbours.MaximumCodes }).IsValidFor(l), "k must leave a code to skip");

        // One stored code: nothing to measure against once the nearest is skipped.
        var single = LatentNeighbours.Fit([1f, 2f], 1, l);
        Assert.AreEqual(0, single.Neighbours);
        Assert.AreEqual(0f, single.MeanDistance([5f, 5f]));
    }

    [TestMethod]
    public void MeanDistance_SkipsTheNearestCode_AndAveragesTheNextK()
    {
        // Codes on a line at 0, 1, ..., 19 (one dimension), k = 10: from 0.2 the nearest is 0 (skipped), the next ten are 1 to 10.
        var neighbours = LatentNeighbours.Fit(Enumerable.Range(0, 20).Select(i => (float)i).ToArray(), 20, 1);
        double expected = Enumerable.Range(1, 10).Average(i => i - 0.2);
        Assert.AreEqual(expected, neighbours.MeanDistance([0.2f]), 1e-5);
        // Far past the end: the 2nd to 11th nearest are 18 down to 9.
        Assert.AreEqual(Enumerable.Range(9, 10).Average(i => 100.0 - i), neighbours.MeanDistance([100f]), 1e-4);
    }

    [TestMethod]
    public void MeanDistance_AmongThousandsOfCodes_EqualsABruteForceSort()
    {
        // 3,000 codes (2,048 kept) of 5 dimensions, not a multiple of the vector width or the block: every path of the search.
        const int l = 5, count = 3000;
        var random = new Random(3);
        var codes = Enumerable.Range(0, count * l).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        var neighbours = LatentNeighbours.Fit(codes, count, l);
        for (int r = 0; r < 50; r++)
        {
            // Half the rows near a stored code, half anywhere, some far out.
            var z = r % 2 == 0 ? neighbours.Codes.AsSpan(r * 7 * l, l).ToArray().Select(v => v + 0.01f).ToArray()
                : Enumerable.Range(0, l).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray();
            double expected = BruteForceDistance(z, neighbours.Codes, l);
            Assert.AreEqual(expected, neighbours.MeanDistance(z), 1e-5 * Math.Max(1, expected), $"row {r}");
        }
    }

    /// <summary>W and μ for each row, through the weighted kind with the neighbour kind's weights on the batched path.</summary>
    private static (float[] Latent, float[] Weighted) WeightedAndLatent(VaeModel model, IReadOnlyList<FeatureRow> rows)
    {
        var latent = new float[rows.Count * model.LatentDimension];
        var weighted = new float[rows.Count];
        var kind = new WeightedReconstructionErrorKind(model.KindContext, ((WeightedReconstructionAndLatentNeighboursKind)model.Kind).Weights);
        model.Score(kind, rows.SelectMany(r => r.Features).ToArray(), rows.Count, latent, weighted);
        return (latent, weighted);
    }

    /// <summary>The mean of the 2nd to 11th smallest Euclidean distances from z to the codes, in float64.</summary>
    private static double BruteForceDistance(ReadOnlySpan<float> z, float[] codes, int l)
    {
        var distances = new double[codes.Length / l];
        for (int m = 0; m < distances.Length; m++)
        {
            double sum = 0;
            for (int j = 0; j < l; j++) sum += Math.Pow(codes[m * l + j] - z[j], 2);
            distances[m] = Math.Sqrt(sum);
        }
        return distances.Order().Skip(1).Take(LatentNeighbours.DefaultNeighbours).Average();
    }

    /// <summary>The median and the inter-quartile range / 1.349, quantiles interpolated between order statistics.</summary>
    private static (double Median, double Spread) MedianAndSpread(double[] values)
    {
        var sorted = values.Order().ToArray();
        double Quantile(double q)
        {
            double position = q * (sorted.Length - 1);
            int below = (int)Math.Floor(position);
            int above = Math.Min(below + 1, sorted.Length - 1);
            return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
        }
        return (Quantile(0.5), (Quantile(0.75) - Quantile(0.25)) / 1.349);
    }
}
