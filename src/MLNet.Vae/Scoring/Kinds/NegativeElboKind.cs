#pragma warning disable CS0618 // The retired score kinds still score the models saved with them (and a caller may still ask for one).
using MLNet.Vae.Export;
using MLNet.Vae.Kernels;

namespace MLNet.Vae.Scoring.Kinds;

/// <summary>
/// <see cref="VaeScoreKind.NegativeElbo"/> at z = μ(x): −log p(x | z) + K(x), where −log p is Σᵢ BCE(xᵢ, pᵢ) (Bernoulli) or
/// ½ Σᵢ (x̃ᵢ − μ̃ᵢ)² + (d/2) log 2π (Gaussian) and K the latent term (the KL for N(0, I)).
/// </summary>
internal sealed class NegativeElboKind(ScoreKindContext context) : ScoreKindModel(context)
{
    private readonly float _constant = context.Likelihood == VaeLikelihood.Gaussian ? (float)(0.5 * Math.Log(2 * Math.PI) * context.InputWidth) : 0f;

    public override VaeScoreKind Kind => VaeScoreKind.NegativeElbo;
    public override bool UsesLatentTerm => true;
    public override bool TermsAreFeatureScores => false;

    public override void Terms(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, Span<float> terms, int offset)
    {
        if (Context.Likelihood == VaeLikelihood.Bernoulli)
        {
            RowMath.BernoulliTerms(decoded, x, terms, minusEntropy: false);
            return;
        }
        RowMath.SquaredDifferences(decoded, x, default, terms);
        RowMath.Scale(terms, 0.5f);
    }

    public override float Score(float termSum, ReadOnlySpan<float> mean, float latentTerm) => termSum + _constant + latentTerm;

    public override string OnnxScore(OnnxGraphBuilder g, OnnxScoreInputs inputs)
    {
        string reconstruction;
        if (Context.Likelihood == VaeLikelihood.Bernoulli)
            reconstruction = g.SumRows(ReconstructionTerms.BinaryCrossEntropy(g, inputs.Decoded, inputs.X));
        else
        {
            string difference = g.Node("Sub", inputs.Decoded, inputs.X);
            reconstruction = g.Node("Add", g.Node("Mul", g.SumRows(g.Node("Mul", difference, difference)), g.Constant("half", 0.5f)),
                g.Constant("gaussianConstant", _constant));
        }
        return g.Node("Add", reconstruction, OnnxKl(g, inputs));
    }
}
