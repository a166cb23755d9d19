namespace MLNet.Vae;

/// <summary>
/// What one training epoch measured, per training row, averaged over the epoch's mini-batches. The minimized loss of a
/// step is <c>reconstruction + βₜ · Σⱼ max(λ, KLⱼ)</c> (βₜ: the warmed-up β, λ: <see cref="VaeOptions.FreeBits"/>);
/// once <see cref="VaeOptions.TrimmedFraction"/> applies, over the kept rows only (lower than the average over all rows).
/// Without warm-up, free bits and trimming, <c>Loss = Reconstruction + Beta · Kl</c>. See docs/debugging.md for how to read them.
/// </summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="Loss">The minimized loss per row, averaged over the epoch's steps.</param>
/// <param name="Reconstruction">The reconstruction term per row (see <see cref="VaeLikelihood"/>).</param>
/// <param name="Kl">KL(q(z|x) ‖ N(0, I)) per row in nats, before β and free bits.</param>
/// <param name="KlPerDimension">KL per row of each latent dimension; their sum is <paramref name="Kl"/>.</param>
/// <param name="ActiveUnits">Latent dimensions whose encoder mean varies over the data: Var_x(μⱼ(x)) &gt; 0.01.</param>
/// <param name="GradientNorm">Mean over the epoch's steps of the global L2 norm of the gradient, before clipping.</param>
/// <param name="ValidationLoss">Loss per row on the validation rows with the full β (null without a validation split).</param>
/// <param name="ValidationReconstruction">Reconstruction term per validation row (null without a validation split).</param>
/// <param name="ValidationKl">KL per validation row (null without a validation split).</param>
/// <param name="LearningRate">The learning rate used in this epoch.</param>
/// <param name="Beta">The KL weight at the end of this epoch (below the target while KL warm-up lasts).</param>
/// <param name="Seconds">Wall-clock time of the epoch.</param>
public sealed record VaeEpochRecord(
    int Epoch,
    double Loss,
    double Reconstruction,
    double Kl,
    IReadOnlyList<double> KlPerDimension,
    int ActiveUnits,
    double GradientNorm,
    double? ValidationLoss,
    double? ValidationReconstruction,
    double? ValidationKl,
    double LearningRate,
    double Beta,
    double Seconds);
