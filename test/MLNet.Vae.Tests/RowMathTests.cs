using System.Numerics;
using MLNet.Vae.Model;
using MLNet.Vae.Kernels;

namespace MLNet.Vae.Tests;

/// <summary>The one-row path's Bernoulli terms (Kernels/RowMath.cs, with its own vectorized log and exp) against float64.</summary>
[TestClass]
public sealed class RowMathTests
{
    [TestMethod]
    public void BernoulliTerms_EqualFloat64_OverTheWholeRange()
    {
        // Logits from −100 to 100 (e^−|l| down to the clamp at e^−80) against pixels 0, 1, 10⁻⁶ and in between.
        var random = new Random(5);
        var logits = Enumerable.Range(0, 1003).Select(i => i < 11 ? (float)(-100 + 20 * i) : (float)((random.NextDouble() - 0.5) * 40)).ToArray();
        var x = Enumerable.Range(0, logits.Length).Select(i => (i % 4) switch { 0 => 0f, 1 => 1f, 2 => 1e-6f, _ => (float)random.NextDouble() }).ToArray();
        // A blank stretch of whole vectors, all 0 or 1, whose entropy the vectorized loop skips.
        for (int i = 64; i < 128; i++) x[i] = i % 3 == 0 ? 1f : 0f;
        foreach (bool minusEntropy in new[] { false, true })
        {
            var terms = new float[logits.Length];
            RowMath.BernoulliTerms(logits, x, terms, minusEntropy);
            for (int i = 0; i < logits.Length; i++)
            {
                double l = logits[i], v = x[i];
                double expected = Math.Max(l, 0) - l * v + Math.Log(1 + Math.Exp(-Math.Abs(l)));
                if (minusEntropy) expected += v * Math.Log(Math.Max(v, 1e-12)) + (1 - v) * Math.Log(Math.Max(1 - v, 1e-12));
                Assert.AreEqual(expected, terms[i], 2e-6 * Math.Max(1, Math.Abs(expected)), $"l = {l}, x = {v}, minus entropy {minusEntropy}");
            }
        }
    }

    [TestMethod]
    public void BernoulliLossAndGradient_EqualFloat64()
    {
        // The training step's fused kernel (Kernels/MlpBackpropagation.cs): Σ BCE and (σ(l) − x) times the scale.
        var random = new Random(6);
        var logits = Enumerable.Range(0, 1003).Select(i => i < 11 ? (float)(-100 + 20 * i) : (float)((random.NextDouble() - 0.5) * 40)).ToArray();
        var x = Enumerable.Range(0, logits.Length).Select(i => (i % 3) switch { 0 => 0f, 1 => 1f, _ => (float)random.NextDouble() }).ToArray();
        var gradient = new float[logits.Length];
        float loss = RowMath.BernoulliLossAndGradient(logits, x, gradient, scale: 0.25f);
        double expectedLoss = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            double l = logits[i], v = x[i];
            expectedLoss += Math.Max(l, 0) - l * v + Math.Log(1 + Math.Exp(-Math.Abs(l)));
            Assert.AreEqual(0.25 * (1 / (1 + Math.Exp(-l)) - v), gradient[i], 1e-7, $"the derivative at l = {l}, x = {v}");
        }
        Assert.AreEqual(expectedLoss, loss, 1e-5 * expectedLoss, "the summed loss");
    }

    [TestMethod]
    public void LogAndExp_AreWithinAFewUlpsOfFloat64()
    {
        // ln over [10⁻¹², 2] (the clamped pixels and 1 + e^−|l|), eˣ over [−80, 0], on a logarithmic and a linear grid.
        var logArguments = Enumerable.Range(0, 4000).Select(i => (float)Math.Pow(10, -12 + 12.3 * i / 3999.0))
            .Concat(Enumerable.Range(0, 4000).Select(i => 1f + i / 4000f)).ToArray();
        var expArguments = Enumerable.Range(0, 8000).Select(i => -80f * i / 7999f).Concat(Enumerable.Range(0, 800).Select(i => -i / 8000f)).ToArray();
        Check(logArguments, RowMath.Log, Math.Log, absolute: 1e-7);
        Check(expArguments, RowMath.ExpOfNonPositive, Math.Exp, absolute: 0);
    }

    private static void Check(float[] arguments, Func<Vector<float>, Vector<float>> function, Func<double, double> reference, double absolute)
    {
        var input = new float[Vector<float>.Count];
        var output = new float[Vector<float>.Count];
        for (int start = 0; start + input.Length <= arguments.Length; start += input.Length)
        {
            arguments.AsSpan(start, input.Length).CopyTo(input);
            function(new Vector<float>(input)).CopyTo(output);
            for (int j = 0; j < input.Length; j++)
            {
                double expected = reference(input[j]);
                // Three float ulps relative, or an absolute 10⁻⁷ where ln x is near 0.
                Assert.AreEqual(expected, output[j], Math.Max(3 * 1.2e-7 * Math.Abs(expected), absolute), $"x = {input[j]:R}");
            }
        }
    }
}
