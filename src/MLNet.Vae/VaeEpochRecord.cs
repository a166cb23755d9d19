namespace MLNet.Vae;

/// <summary>
/// What one training epoch measured, averaged per training row over the epoch's mini-batches.
/// <c>Loss = Reconstruction + Beta · Kl</c>; a KL that falls to ~0 signals posterior collapse, one that dwarfs the
/// reconstruction signals a β or latent size too large.
/// </summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="Loss">The minimized loss: reconstruction + β · KL.</param>
/// <param name="Reconstruction">The reconstruction term (see <see cref="VaeLikelihood"/>).</param>
/// <param name="Kl">KL(q(z|x) ‖ N(0, I)) in nats, before the β weight.</param>
/// <param name="Seconds">Wall-clock time of the epoch.</param>
public sealed record VaeEpochRecord(int Epoch, double Loss, double Reconstruction, double Kl, double Seconds);
