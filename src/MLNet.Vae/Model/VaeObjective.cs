using MLNet.Vae.Network;
using MLNet.Vae.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.Vae.Model;

/// <summary>
/// The training loss's formulas on libtorch, per row (each returns a tensor of shape [n]): the reconstruction term, the
/// reparameterization, the KL to the prior and the latent term of the scores under the learned mixture prior. See
/// <see cref="VaeLikelihood"/> and <see cref="VaeOptions"/> for the mathematics; the scores are the score kinds'
/// (<c>Scoring/Kinds</c>).
/// </summary>
internal static class VaeObjective
{
    private static readonly Scalar LogTwoPi = Math.Log(2 * Math.PI).ToScalar();

    /// <summary>−log p(x | z) up to a constant: Σᵢ BCE(xᵢ, σ(lᵢ)) (Bernoulli) or ½ Σᵢ (x̃ᵢ − μ̃ᵢ)² (Gaussian).</summary>
    public static Tensor Reconstruction(VaeLikelihood likelihood, Tensor decoderOutput, Tensor x) => likelihood switch
    {
        VaeLikelihood.Bernoulli => CrossEntropyRows(decoderOutput, x),
        _ => SquaredDistance(decoderOutput, x).mul(Scalars.Half),
    };

    /// <summary>Σᵢ (aᵢ − bᵢ)² per row.</summary>
    public static Tensor SquaredDistance(Tensor a, Tensor b)
    {
        using var difference = a - b;
        return difference.mul(difference).sum(1);
    }

    /// <summary>The reparameterization z = μ + σ ⊙ ε, σ = exp(½ log σ²), ε ~ N(0, I) from <paramref name="generator"/>: differentiable in μ and log σ².</summary>
    public static Tensor Reparameterize(Tensor mean, Tensor logVariance, Generator generator)
    {
        using var noise = randn(mean.shape, generator: generator);
        using var halfLogVariance = logVariance.mul(Scalars.Half);
        using var standardDeviation = halfLogVariance.exp();
        using var scaledNoise = standardDeviation.mul(noise);
        return mean.add(scaledNoise, Scalars.One);
    }

    /// <summary>KL(N(μ, σ²) ‖ N(0, I)) = −½ Σⱼ (1 + log σⱼ² − μⱼ² − σⱼ²).</summary>
    public static Tensor KlDivergence(Tensor mean, Tensor logVariance) => KlPerDimension(mean, logVariance).sum(1);

    /// <summary>The KL of each latent dimension, −½ (1 + log σⱼ² − μⱼ² − σⱼ²) = ½ (μⱼ² + σⱼ² − log σⱼ² − 1), shape [n, L].</summary>
    public static Tensor KlPerDimension(Tensor mean, Tensor logVariance)
    {
        using var variance = logVariance.exp();
        using var meanSquared = mean.mul(mean);
        using var sum = meanSquared.add(variance, Scalars.One);
        using var withoutLog = sum.sub(logVariance);
        using var withoutOne = withoutLog.sub(Scalars.One);
        return withoutOne.mul(Scalars.Half);
    }

    /// <summary>log q(zⱼ | x) = −½ (log 2π + log σⱼ² + (zⱼ − μⱼ)² / σⱼ²) for each row and dimension, [n, L].</summary>
    public static Tensor LogPosteriorPerDimension(Tensor z, Tensor mean, Tensor logVariance)
    {
        using var scope = NewDisposeScope();
        var difference = z.sub(mean);
        var squared = difference.mul(difference).mul(logVariance.neg().exp());
        return squared.add(logVariance, Scalars.One).add(LogTwoPi, Scalars.One).mul(Scalars.Half).neg().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// KL(q(z | x) ‖ p(z)) per row, [n]: the closed form <see cref="KlDivergence"/> for N(0, I); for the learned mixture, which
    /// has none, the one-sample Monte Carlo estimate log q(z | x) − log p(z) at the step's sample <paramref name="z"/> (unbiased).
    /// </summary>
    public static Tensor Kl(VaeNetwork network, Tensor z, Tensor mean, Tensor logVariance)
    {
        if (!network.HasMixturePrior) return KlDivergence(mean, logVariance);
        using var scope = NewDisposeScope();
        return LogPosteriorPerDimension(z, mean, logVariance).sum(1).sub(network.LogPrior(z)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Each latent dimension's KL term, [n, L]: the closed form for N(0, I); for the mixture, log q(zⱼ | x) − log p̄ⱼ(zⱼ) with
    /// p̄ⱼ the prior's marginal on dimension j (a diagnostic for the history and free bits: the mixture does not factorize,
    /// so these terms need not sum to <see cref="Kl"/>).
    /// </summary>
    public static Tensor KlPerDimension(VaeNetwork network, Tensor z, Tensor mean, Tensor logVariance)
    {
        if (!network.HasMixturePrior) return KlPerDimension(mean, logVariance);
        using var scope = NewDisposeScope();
        return LogPosteriorPerDimension(z, mean, logVariance).sub(network.LogPriorPerDimension(z)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The latent term of the scores (deterministic): the closed-form KL for N(0, I); for the mixture, log q(μ | x) − log p(μ),
    /// the Monte Carlo integrand at z = μ, = −½ Σⱼ (log 2π + log σⱼ²) − log p(μ).
    /// </summary>
    public static Tensor LatentTerm(VaeNetwork network, Tensor mean, Tensor logVariance) =>
        network.HasMixturePrior ? Kl(network, mean, mean, logVariance) : KlDivergence(mean, logVariance);

    /// <summary>Σᵢ BCE(xᵢ, σ(lᵢ)) per row, shape [n].</summary>
    private static Tensor CrossEntropyRows(Tensor logits, Tensor x)
    {
        using var terms = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction: nn.Reduction.None);
        return terms.sum(1);
    }
}
