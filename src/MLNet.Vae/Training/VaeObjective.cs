using static TorchSharp.torch;

namespace MLNet.Vae.Training;

/// <summary>
/// The loss and score formulas, per row (each returns a tensor of shape [n]). See <see cref="VaeLikelihood"/> and
/// <see cref="VaeScoreKind"/> for the mathematics; these methods are its only implementation.
/// </summary>
internal static class VaeObjective
{
    private static readonly double HalfLogTwoPi = 0.5 * Math.Log(2 * Math.PI);

    /// <summary>−log p(x | z) up to a constant: Σᵢ BCE(xᵢ, σ(lᵢ)) (Bernoulli) or ½ Σᵢ (x̃ᵢ − μ̃ᵢ)² (Gaussian).</summary>
    public static Tensor Reconstruction(VaeLikelihood likelihood, Tensor decoderOutput, Tensor x) => likelihood switch
    {
        VaeLikelihood.Bernoulli => nn.functional.binary_cross_entropy_with_logits(decoderOutput, x, reduction: nn.Reduction.None).sum(1),
        _ => (decoderOutput - x).square().sum(1).mul(0.5),
    };

    /// <summary>KL(N(μ, σ²) ‖ N(0, I)) = −½ Σⱼ (1 + log σⱼ² − μⱼ² − σⱼ²).</summary>
    public static Tensor KlDivergence(Tensor mean, Tensor logVariance) => KlPerDimension(mean, logVariance).sum(1);

    /// <summary>The KL of each latent dimension, −½ (1 + log σⱼ² − μⱼ² − σⱼ²), shape [n, L].</summary>
    public static Tensor KlPerDimension(Tensor mean, Tensor logVariance) =>
        (logVariance + 1 - mean.square() - logVariance.exp()).mul(-0.5);

    /// <summary>Binary entropy H(x) = −x log x − (1 − x) log(1 − x), summed over features, with 0 log 0 = 0.</summary>
    public static Tensor BinaryEntropy(Tensor x)
    {
        var complement = 1 - x;
        return -(x * x.clamp_min(1e-12).log() + complement * complement.clamp_min(1e-12).log()).sum(1);
    }

    /// <summary>
    /// The anomaly score of rows x, given the decoder output at z = μ(x) and the posterior parameters.
    /// <paramref name="featureScale"/> is s of the Gaussian standardization (null for Bernoulli).
    /// </summary>
    public static Tensor Score(VaeScoreKind kind, VaeLikelihood likelihood, Tensor decoderOutput, Tensor x,
        Tensor mean, Tensor logVariance, Tensor? featureScale)
    {
        switch (kind)
        {
            case VaeScoreKind.ReconstructionError:
                return likelihood == VaeLikelihood.Bernoulli
                    ? Reconstruction(likelihood, decoderOutput, x) - BinaryEntropy(x)
                    : (decoderOutput - x).square().sum(1);
            case VaeScoreKind.SquaredError:
                if (likelihood == VaeLikelihood.Bernoulli)
                    return (decoderOutput.sigmoid() - x).square().sum(1);
                var error = decoderOutput - x;
                return (featureScale is null ? error : error * featureScale).square().sum(1);
            case VaeScoreKind.NegativeElbo:
                var reconstruction = Reconstruction(likelihood, decoderOutput, x);
                if (likelihood == VaeLikelihood.Gaussian)
                    reconstruction = reconstruction + HalfLogTwoPi * x.shape[1];
                return reconstruction + KlDivergence(mean, logVariance);
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), $"Unknown score kind {kind}.");
        }
    }
}
