#pragma warning disable CS0618 // The retired score kinds are tested: they still score the models saved with them.
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Tests;

/// <summary>
/// The scoring domain: VaeModel.FirstOutOfDomain finds the first NaN or ±∞ wherever it sits in the row (vectorized), and a
/// finite Bernoulli value outside [0, 1] is scored as the nearest value inside, on every path.
/// </summary>
[TestClass]
public sealed class DomainCheckTests
{
    [TestMethod]
    public void FirstOutOfDomain_FindsTheFirstNonFiniteValue_InAndAfterWholeVectors()
    {
        const int Width = 37;
        // The largest finite floats are inside.
        var inside = Enumerable.Range(0, Width).Select(i => i % 2 == 0 ? float.MaxValue : float.MinValue).ToArray();
        Assert.AreEqual(-1, Model.VaeModel.FirstOutOfDomain(inside));
        foreach (int at in new[] { 0, 7, 8, 15, 16, 31, 32, Width - 1 })
            foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                var row = (float[])inside.Clone();
                row[at] = bad;
                if (at + 3 < Width) row[at + 3] = bad;
                Assert.AreEqual(at, Model.VaeModel.FirstOutOfDomain(row), $"{bad} at {at}");
            }
    }

    [TestMethod]
    [DataRow(VaeScoreKind.WeightedReconstructionError)]
    [DataRow(VaeScoreKind.ReconstructionError)]
    [DataRow(VaeScoreKind.SquaredError)]
    public void Bernoulli_ValuesOutsideTheUnitInterval_ScoreAsTheClippedRow(VaeScoreKind kind)
    {
        // After NormalizeMinMax a normal test image can hold pixels above 1 (up to 29 on Fashion-MNIST): scored as +∞ they were
        // flagged; clipped, they are judged by the model like any pixel.
        var ml = new MLContext(seed: 1);
        var options = TestData.FastOptions(VaeLikelihood.Bernoulli, epochs: 3);
        options.ScoreKind = kind;
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options)
            .Fit(TestData.ToDataView(ml, TestData.Normal(200, seed: 1, unitInterval: true)));
        var rows = TestData.Normal(3, seed: 2, unitInterval: true);
        var outside = rows.Select(r => new FeatureRow { Features = r.Features.Select((v, i) => i % 3 == 0 ? v + 3 : i % 3 == 1 ? v - 2 : v).ToArray() }).ToList();
        var clipped = outside.Select(r => new FeatureRow { Features = r.Features.Select(v => Math.Clamp(v, 0f, 1f)).ToArray() }).ToList();
        var expected = model.Transform(TestData.ToDataView(ml, clipped)).GetColumn<float>("Score").ToArray();
        var batched = model.Transform(TestData.ToDataView(ml, outside)).GetColumn<float>("Score").ToArray();
        var engine = ml.Model.CreatePredictionEngine<FeatureRow, ScoredRow>(model, inputSchemaDefinition: ScoringTests.VectorSchema());
        for (int r = 0; r < rows.Count; r++)
        {
            Assert.IsTrue(float.IsFinite(batched[r]), $"row {r}: Transform gave {batched[r]}");
            Assert.AreEqual(expected[r], batched[r], 1e-5 * Math.Max(1, Math.Abs(expected[r])), $"row {r}, Transform");
            Assert.AreEqual(expected[r], engine.Predict(outside[r]).Score, 1e-5 * Math.Max(1, Math.Abs(expected[r])), $"row {r}, PredictionEngine");
        }
    }
}
