#pragma warning disable CS0618 // The retired score kinds still score the models saved with them (and a caller may still ask for one).
using MLNet.Vae.Scoring.Kinds;

namespace MLNet.Vae.Scoring;

/// <summary>The one place the <see cref="VaeScoreKind"/> enum becomes a kind object (<see cref="ScoreKindModel"/>).</summary>
internal static class ScoreKinds
{
    /// <summary>The kind, uncalibrated.</summary>
    public static ScoreKindModel Create(VaeScoreKind kind, ScoreKindContext context) => kind switch
    {
        VaeScoreKind.ReconstructionError => new ReconstructionErrorKind(context),
        VaeScoreKind.SquaredError => new SquaredErrorKind(context),
        VaeScoreKind.NegativeElbo => new NegativeElboKind(context),
        VaeScoreKind.ReconstructionAndLatent => new ReconstructionAndLatentKind(context),
        VaeScoreKind.WeightedReconstructionError => new WeightedReconstructionErrorKind(context),
        VaeScoreKind.ReconstructionAndLatentDensity => new ReconstructionAndLatentDensityKind(context),
        VaeScoreKind.WeightedReconstructionAndLatentNeighbours => new WeightedReconstructionAndLatentNeighboursKind(context),
        VaeScoreKind.ReconstructionAndLatentNeighbours => new ReconstructionAndLatentNeighboursKind(context),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), $"ScoreKind {(int)kind} is not a VaeScoreKind value."),
    };
}
