using MLNet.Vae.Scoring;
namespace MLNet.Vae.Model;

/// <summary>What each score kind needs from calibration.</summary>
internal static class ScoreKindTraits
{
    /// <summary>Whether the kind weighs each feature's term by wᵢ = 1 / (σᵢ + ε) (<see cref="FeatureTermSpread"/>).</summary>
    public static bool UsesFeatureWeights(this VaeScoreKind kind) =>
        kind is VaeScoreKind.WeightedReconstructionError or VaeScoreKind.WeightedReconstructionAndLatentNeighbours;

    /// <summary>Whether Fit must calibrate the kind on the training rows before it can score.</summary>
    public static bool NeedsCalibration(this VaeScoreKind kind) =>
        kind is VaeScoreKind.ReconstructionAndLatent or VaeScoreKind.ReconstructionAndLatentDensity || kind.UsesFeatureWeights();
}
