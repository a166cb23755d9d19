using static TorchSharp.torch;

namespace MLNet.Vae.Kernels;

/// <summary>The loss terms of one mini-batch, summed over its rows (tensors of the step's dispose scope).</summary>
/// <param name="Loss">The minimized loss per row: (reconstruction + β · penalty) / n, penalty = KL or the free-bits KL.</param>
/// <param name="Reconstruction">Σ over rows of the reconstruction term.</param>
/// <param name="KlPerDimension">Σ over rows of each latent dimension's KL, shape [L].</param>
/// <param name="Kl">Σ over rows of the KL.</param>
/// <param name="Values">Loss, reconstruction and KL already in managed memory (the hand-derived step), or null: read them from the tensors.</param>
internal sealed record StepLosses(Tensor Loss, Tensor Reconstruction, Tensor KlPerDimension, Tensor Kl,
    (double Loss, double Reconstruction, double Kl)? Values = null);

