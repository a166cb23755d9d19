#pragma warning disable CS0618 // The retired score kinds still score the models saved with them (and a caller may still ask for one).
using MLNet.Vae.Export;

namespace MLNet.Vae.Scoring.Kinds;

/// <summary>
/// <see cref="VaeScoreKind.ReconstructionAndLatent"/>: s(x) = (R − m_R) / s_R + max(0, (K − m_K) / s_K − 3), R the
/// reconstruction error, K the latent term, m and s the median and robust spread of each over the training rows
/// (<see cref="RobustScale"/>). The latent term counts only beyond 3 robust standard deviations: within them its spread
/// over normal rows would bury anomalies that only break the features' dependence.
/// </summary>
internal sealed class ReconstructionAndLatentKind(ScoreKindContext context, RobustScale? reconstruction = null, RobustScale? latent = null)
    : ScoreKindModel(context)
{
    /// <summary>How many robust standard deviations of the latent term are ignored.</summary>
    public const float LatentMargin = 3;

    public override VaeScoreKind Kind => VaeScoreKind.ReconstructionAndLatent;
    public override bool UsesLatentTerm => true;
    public override bool NeedsCalibration => true;

    public RobustScale Reconstruction { get; } = reconstruction ?? RobustScale.Identity;
    public RobustScale Latent { get; } = latent ?? RobustScale.Identity;

    public override void Terms(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, Span<float> terms, int offset) =>
        ReconstructionTerms.Managed(Context.Likelihood, decoded, x, terms);

    public override float Score(float termSum, ReadOnlySpan<float> mean, float latentTerm) => Combined(Reconstruction, Latent, termSum, latentTerm);

    /// <summary>(R − m_R) / s_R + max(0, (K − m_K) / s_K − <see cref="LatentMargin"/>): shared with the density kind.</summary>
    public static float Combined(RobustScale reconstruction, RobustScale latent, float termSum, float latentTerm) =>
        reconstruction.Standardize(termSum) + Math.Max(0f, latent.Standardize(latentTerm) - LatentMargin);

    public override string OnnxScore(OnnxGraphBuilder g, OnnxScoreInputs inputs) =>
        OnnxCombined(g, inputs, g.SumRows(OnnxFeatureTerms(g, inputs)), Reconstruction, Latent);

    public static string OnnxCombined(OnnxGraphBuilder g, OnnxScoreInputs inputs, string reconstructionSum, RobustScale reconstruction, RobustScale latent)
    {
        string standardized = OnnxStandardized(g, reconstructionSum, "reconstruction", reconstruction.Center, reconstruction.Scale);
        string excess = g.Node("Sub", OnnxStandardized(g, OnnxKl(g, inputs), "latent", latent.Center, latent.Scale), g.Constant("latentMargin", LatentMargin));
        return g.Node("Add", standardized, g.Node("Max", excess, g.Constant("zero", 0f)));
    }

    public override ScoreKindModel Calibrated(CalibrationSample sample) =>
        new ReconstructionAndLatentKind(Context, RobustScale.Fit(sample.WeightedSums(null)), RobustScale.Fit(sample.LatentTerms));

    public override ScoreCalibration Saved => new(Reconstruction.Center, Reconstruction.Scale, Latent.Center, Latent.Scale);

    /// <summary>The kind as a file holds it: the two terms' centres and scales, finite with positive scales.</summary>
    public override ScoreKindModel Restored(ScoreCalibration? saved, string field)
    {
        RequireSaved(saved is { IsValid: true }, field, "is missing or not finite with positive scales");
        return new ReconstructionAndLatentKind(Context, new RobustScale(saved!.ReconstructionCenter, saved.ReconstructionScale),
            new RobustScale(saved.LatentCenter, saved.LatentScale));
    }
}
