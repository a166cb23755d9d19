using MLNet.Vae.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.Vae.Network;

/// <summary>
/// An encoder q(z | x) = N(μ, diag σ²) and a decoder, over flat rows [n, d]. Implementations know nothing of ML.NET; the
/// training loop, the scores and persistence work with any of them. log σ² is clamped to ±<see cref="VaeNetworkSpec.LogVarianceLimit"/>.
/// </summary>
internal abstract class VaeNetwork : nn.Module
{
    // Held for the network's lifetime: a temporary Scalar could be finalized during the native call (Tensors/Scalars.cs).
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

    /// <summary>
    /// Draws every weight and bias from U(−1/√fan_in, 1/√fan_in) with <paramref name="generator"/>, where fan_in is the
    /// number of inputs of each output unit of the layer: PyTorch's default initialization of Linear, Conv2d and
    /// ConvTranspose2d, but from a generator of the caller's instead of libtorch's process-wide one, so that a seeded Fit
    /// neither depends on nor changes what other threads draw.
    /// </summary>
    public void Initialize(Generator generator)
    {
        using var noGrad = no_grad();
        var parameters = named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, parameter) in parameters)
        {
            var weight = name.EndsWith(".bias", StringComparison.Ordinal) ? parameters[name[..^".bias".Length] + ".weight"] : parameter;
            long fanIn = weight.shape.Skip(1).Aggregate(1L, (product, d) => product * d);
            double bound = 1 / Math.Sqrt(fanIn);
            using var low = (-bound).ToScalar();
            using var width = (2 * bound).ToScalar();
            using var uniform = rand(parameter.shape, generator: generator);
            using var scaled = uniform.mul_(width).add_(low, Scalars.One);
            parameter.copy_(scaled);
        }
    }

    protected Tensor ClampLogVariance(Tensor logVariance) => logVariance.clamp(_logVarianceMinimum, _logVarianceMaximum);

    /// <summary>Frees the layers registered by the subclass (its fields), then the network itself.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var layer in children()) layer.Dispose();
            _logVarianceMinimum.Dispose();
            _logVarianceMaximum.Dispose();
        }
        base.Dispose(disposing);
    }
}
