using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.Vae.Network;

/// <summary>
/// An encoder q(z | x) = N(μ, diag σ²) and a decoder, over flat rows [n, d]. Implementations know nothing of ML.NET; the
/// training loop, the scores and persistence work with any of them. log σ² is clamped to ±<see cref="VaeNetworkSpec.LogVarianceLimit"/>.
/// </summary>
internal abstract class VaeNetwork : nn.Module
{
    // Held for the network's lifetime: a temporary Scalar could be finalized during the native call (Model/Scalars.cs).
    private readonly Scalar _logVarianceMinimum;
    private readonly Scalar _logVarianceMaximum;

    protected VaeNetwork(string name, VaeNetworkSpec spec) : base(name)
    {
        Spec = spec;
        _logVarianceMinimum = (-spec.LogVarianceLimit).ToScalar();
        _logVarianceMaximum = spec.LogVarianceLimit.ToScalar();
    }

    /// <summary>What this network is; building it again gives the same shapes (weights aside).</summary>
    public VaeNetworkSpec Spec { get; }

    public int InputWidth => Spec.InputWidth;
    public int LatentDimension => Spec.LatentDimension;

    /// <summary>The posterior's mean and clamped log-variance for rows x of shape [n, d].</summary>
    public abstract (Tensor Mean, Tensor LogVariance) Encode(Tensor x);

    /// <summary>The decoder's raw output for codes z of shape [n, L], flat [n, d]: logits (Bernoulli) or standardized means (Gaussian).</summary>
    public abstract Tensor Decode(Tensor z);

    protected Tensor ClampLogVariance(Tensor logVariance) => logVariance.clamp(_logVarianceMinimum, _logVarianceMaximum);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _logVarianceMinimum.Dispose();
            _logVarianceMaximum.Dispose();
        }
        base.Dispose(disposing);
    }
}
