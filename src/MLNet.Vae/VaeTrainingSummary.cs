namespace MLNet.Vae;

/// <summary>Everything a training run reported: the per-epoch history, the warnings, and which epoch's weights were kept.</summary>
/// <param name="History">One record per epoch that ran.</param>
/// <param name="Warnings">Detected failure modes with advice (also written to <c>MLContext.Log</c>).</param>
/// <param name="BestEpoch">The epoch whose weights the model holds: the last, or the best on validation with early stopping.</param>
/// <param name="ReconstructionBaseline">
/// The reconstruction term per row of a model that ignores z and predicts each feature's mean; reconstructions near it
/// are blurry (see docs/debugging.md).
/// </param>
/// <param name="TrainingScores">
/// The training rows' scores, sorted ascending: all of them, or 10,000 evenly spaced quantiles when there are more. The
/// p-values of <see cref="VaeOptions.PValueColumnName"/> are read against them. Empty for models saved before they were kept.
/// </param>
/// <param name="AutomaticChoices">
/// What Fit chose for each option left automatic (null), and why, e.g. "LatentDimension = 5: ⌈9 features / 2⌉, at most 20";
/// empty when every option was set. Also written to <c>MLContext.Log</c>.
/// </param>
public sealed record VaeTrainingSummary(
    IReadOnlyList<VaeEpochRecord> History,
    IReadOnlyList<VaeTrainingWarning> Warnings,
    int BestEpoch,
    double ReconstructionBaseline,
    IReadOnlyList<string>? AutomaticChoices = null,
    IReadOnlyList<float>? TrainingScores = null)
{
    /// <summary>The training rows' scores, sorted (never null; empty when unknown).</summary>
    public IReadOnlyList<float> TrainingScores { get; init; } = TrainingScores ?? [];

    /// <summary>What Fit chose for each automatic option (never null; empty when none was automatic).</summary>
    public IReadOnlyList<string> AutomaticChoices { get; init; } = AutomaticChoices ?? [];

    /// <summary>
    /// With <see cref="VaeOptions.NumberOfModels"/> &gt; 1, what each model of the ensemble reported, the first one being the
    /// model whose <see cref="History"/> and <see cref="BestEpoch"/> this summary shows; empty for a single model.
    /// </summary>
    public IReadOnlyList<VaeEnsembleMember> Members { get; init; } = [];
}
