using MLNet.Vae.Export;
using MLNet.Vae.Kernels;

namespace MLNet.Vae.Scoring;

/// <summary>
/// Each feature's reconstruction-error term, the base of every score kind: BCE(xᵢ, σ(lᵢ)) − H(xᵢ) for the Bernoulli
/// likelihood (the KL between the input's and the reconstruction's Bernoulli; subtracting the input's own entropy removes
/// the floor that makes summed BCE rank grey images by how grey they are) and (x̃ᵢ − μ̃ᵢ)² for Gaussian (standardized units).
/// </summary>
internal static class ReconstructionTerms
{
    /// <summary>tᵢ for a stretch of a row, in managed code (<see cref="RowMath"/>).</summary>
    public static void Managed(VaeLikelihood likelihood, ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, Span<float> terms)
    {
        if (likelihood == VaeLikelihood.Bernoulli) RowMath.BernoulliTerms(decoded, x, terms, minusEntropy: true);
        else RowMath.SquaredDifferences(decoded, x, default, terms);
    }

    /// <summary>tᵢ as ONNX nodes, [n, d].</summary>
    public static string Onnx(OnnxGraphBuilder g, VaeLikelihood likelihood, string decoded, string x)
    {
        if (likelihood != VaeLikelihood.Bernoulli)
        {
            string difference = g.Node("Sub", decoded, x);
            return g.Node("Mul", difference, difference);
        }
        string floor = g.Constant("logFloor", 1e-12f);
        string complement = g.Node("Sub", g.Constant("one", 1f), x);
        // − H(x) = x log x + (1 − x) log(1 − x), logs clamped at 10⁻¹².
        string negativeEntropy = g.Node("Add",
            g.Node("Mul", x, g.Node("Log", g.Node("Max", x, floor))),
            g.Node("Mul", complement, g.Node("Log", g.Node("Max", complement, floor))));
        return g.Node("Add", BinaryCrossEntropy(g, decoded, x), negativeEntropy);
    }

    /// <summary>BCE(x, σ(l)) = max(l, 0) − l x + log(1 + e^−|l|), as ONNX nodes.</summary>
    public static string BinaryCrossEntropy(OnnxGraphBuilder g, string logits, string x) =>
        g.Node("Add",
            g.Node("Sub", g.Node("Max", logits, g.Constant("zero", 0f)), g.Node("Mul", logits, x)),
            g.Node("Log", g.Node("Add", g.Constant("one", 1f), g.Node("Exp", g.Node("Neg", g.Node("Abs", logits))))));
}
