using MLNet.Vae.Export;

namespace MLNet.Vae.Scoring.Kinds;

/// <summary><see cref="VaeScoreKind.ReconstructionError"/>: s(x) = Σᵢ tᵢ, the reconstruction error (<see cref="ReconstructionTerms"/>).</summary>
internal sealed class ReconstructionErrorKind(ScoreKindContext context) : ScoreKindModel(context)
{
    public override VaeScoreKind Kind => VaeScoreKind.ReconstructionError;

    public override void Terms(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, Span<float> terms, int offset) =>
        ReconstructionTerms.Managed(Context.Likelihood, decoded, x, terms);

    public override float Score(float termSum, ReadOnlySpan<float> mean, float latentTerm) => termSum;

    public override string OnnxScore(OnnxGraphBuilder g, OnnxScoreInputs inputs) => g.SumRows(OnnxFeatureTerms(g, inputs));
}
