#pragma warning disable CS0618 // The retired score kinds still score the models saved with them (and a caller may still ask for one).
using MLNet.Vae.Export;
using MLNet.Vae.Kernels;

namespace MLNet.Vae.Scoring.Kinds;

/// <summary>
/// <see cref="VaeScoreKind.SquaredError"/>: s(x) = Σᵢ (xᵢ − x̂ᵢ)² in the input's own units, x̂ the decoded mean: σ(lᵢ) for
/// Bernoulli, and (μ̃ᵢ − x̃ᵢ) sᵢ for Gaussian (s the standardization's scale).
/// </summary>
internal sealed class SquaredErrorKind(ScoreKindContext context) : ScoreKindModel(context)
{
    public override VaeScoreKind Kind => VaeScoreKind.SquaredError;

    public override bool TermsAreFeatureScores => false;

    public override void Terms(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, Span<float> terms, int offset)
    {
        if (Context.Likelihood == VaeLikelihood.Bernoulli) RowMath.SquaredSigmoidErrors(decoded, x, terms);
        else RowMath.SquaredDifferences(decoded, x, Context.FeatureScale.AsSpan(offset, terms.Length), terms);
    }

    public override float Score(float termSum, ReadOnlySpan<float> mean, float latentTerm) => termSum;

    public override string OnnxScore(OnnxGraphBuilder g, OnnxScoreInputs inputs)
    {
        bool bernoulli = Context.Likelihood == VaeLikelihood.Bernoulli;
        string difference = bernoulli ? g.Node("Sub", g.Node("Sigmoid", inputs.Decoded), inputs.X) : g.Node("Sub", inputs.Decoded, inputs.X);
        if (!bernoulli)
            difference = g.Node("Mul", difference, g.Constant("featureScale", Context.FeatureScale!, 1, Context.FeatureScale!.Length));
        return g.SumRows(g.Node("Mul", difference, difference));
    }
}
