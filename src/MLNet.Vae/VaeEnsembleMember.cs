namespace MLNet.Vae;

/// <summary>One model of an ensemble (<see cref="VaeOptions.NumberOfModels"/> &gt; 1): how it trained and where its scores sit.</summary>
/// <param name="Seed">The seed it was trained with (the ensemble's seed plus its index).</param>
/// <param name="History">One record per epoch that ran.</param>
/// <param name="Warnings">The failure modes detected after its training.</param>
/// <param name="BestEpoch">The epoch whose weights it holds.</param>
/// <param name="ScoreCenter">cₖ: the median of its scores on the training rows.</param>
/// <param name="ScoreScale">
/// σₖ: the inter-quartile range / 1.349 of those scores; the ensemble's score is the mean over its models of (sₖ − cₖ) / σₖ.
/// </param>
public sealed record VaeEnsembleMember(
    long Seed,
    IReadOnlyList<VaeEpochRecord> History,
    IReadOnlyList<VaeTrainingWarning> Warnings,
    int BestEpoch,
    float ScoreCenter,
    float ScoreScale);
