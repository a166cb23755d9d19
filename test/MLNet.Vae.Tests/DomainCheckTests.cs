using Microsoft.ML;

namespace MLNet.Vae.Tests;

/// <summary>VaeModel.FirstOutOfDomain, vectorized: the first value outside the likelihood's domain wherever it sits in the row.</summary>
[TestClass]
public sealed class DomainCheckTests
{
    [TestMethod]
    [DataRow(VaeLikelihood.Bernoulli)]
    [DataRow(VaeLikelihood.Gaussian)]
    public void FirstOutOfDomain_FindsTheFirstBadValue_InAndAfterWholeVectors(VaeLikelihood likelihood)
    {
        const int Width = 37;
        var ml = new MLContext(seed: 1);
        bool unit = likelihood == VaeLikelihood.Bernoulli;
        var options = TestData.FastOptions(likelihood, epochs: 1);
        using var transformer = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options)
            .Fit(TestData.ToDataView(ml, TestData.Normal(40, seed: 1, width: Width, unitInterval: unit), Width));
        var model = transformer.Model;
        // The domain's edges are inside: 0 and 1 (and −0) for Bernoulli, the largest finite floats for Gaussian.
        var inside = Enumerable.Range(0, Width).Select(i => unit ? (i % 3 == 0 ? 0f : i % 3 == 1 ? 1f : -0f) : (i % 2 == 0 ? float.MaxValue : float.MinValue)).ToArray();
        Assert.AreEqual(-1, model.FirstOutOfDomain(inside));
        var outside = unit ? new[] { float.NaN, -1e-7f, 1.0000001f, float.PositiveInfinity } : new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity };
        foreach (int at in new[] { 0, 7, 8, 15, 16, 31, 32, Width - 1 })
            foreach (float bad in outside)
            {
                var row = (float[])inside.Clone();
                row[at] = bad;
                if (at + 3 < Width) row[at + 3] = bad;
                Assert.AreEqual(at, model.FirstOutOfDomain(row), $"{bad} at {at}");
            }
    }
}
