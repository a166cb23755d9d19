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

    /// <summary>Names of the mixture prior's parameters in the state dictionary (and the model file).</summary>
    public const string PriorMeansName = "prior_means", PriorLogVariancesName = "prior_log_variances", PriorLogitsName = "prior_logits";
    private static readonly Scalar MinusHalfLogTwoPi = (-0.5 * Math.Log(2 * Math.PI)).ToScalar();
    private static readonly Scalar MinusHalf = (-0.5).ToScalar();

    // The learned mixture prior, when Spec.PriorComponents > 0: means [K, L], log-variances [K, L], mixture logits [K].
    private readonly TorchSharp.Modules.Parameter? _priorMeans;
    private readonly TorchSharp.Modules.Parameter? _priorLogVariances;
    private readonly TorchSharp.Modules.Parameter? _priorLogits;

    protected VaeNetwork(string name, VaeNetworkSpec spec) : base(name)
    {
        Spec = spec;
        _logVarianceMinimum = (-spec.LogVarianceLimit).ToScalar();
        _logVarianceMaximum = spec.LogVarianceLimit.ToScalar();
        if (spec.PriorComponents > 0)
        {
            // Registered before the subclass's layers, so they come first in the state dictionary (VaeNetworkSpec.ParameterShapes).
            _priorMeans = nn.Parameter(zeros(spec.PriorComponents, spec.LatentDimension));
            _priorLogVariances = nn.Parameter(zeros(spec.PriorComponents, spec.LatentDimension));
            _priorLogits = nn.Parameter(zeros(spec.PriorComponents));
            register_parameter(PriorMeansName, _priorMeans);
            register_parameter(PriorLogVariancesName, _priorLogVariances);
            register_parameter(PriorLogitsName, _priorLogits);
        }
    }

    /// <summary>
    /// log p(z) per row, [n]: for N(0, I), Σⱼ −½ (log 2π + zⱼ²); for the mixture, logsumexpₖ (log πₖ + Σⱼ log N(zⱼ; mₖⱼ, sₖⱼ²)),
    /// log N(z; m, s²) = −½ (log 2π + log s² + (z − m)² / s²).
    /// </summary>
    public Tensor LogPrior(Tensor z)
    {
        using var scope = NewDisposeScope();
        if (_priorMeans is null) return LogPriorPerDimension(z).sum(1).MoveToOuterDisposeScope();
        var perComponent = ComponentLogDensities(z).sum(2);                      // [n, K]
        var logWeights = nn.functional.log_softmax(_priorLogits!, 0).unsqueeze(0); // [1, K]
        return perComponent.add(logWeights, Scalars.One).logsumexp(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Each dimension's log density under the prior's marginal, [n, L]: −½ (log 2π + zⱼ²) for N(0, I); for the mixture,
    /// logsumexpₖ (log πₖ + log N(zⱼ; mₖⱼ, sₖⱼ²)). The per-dimension KL of the history is log q(zⱼ | x) − this.
    /// </summary>
    public Tensor LogPriorPerDimension(Tensor z)
    {
        using var scope = NewDisposeScope();
        if (_priorMeans is null) return z.mul(z).mul(MinusHalf).add(MinusHalfLogTwoPi, Scalars.One).MoveToOuterDisposeScope();
        var logWeights = nn.functional.log_softmax(_priorLogits!, 0).view(1, -1, 1);   // [1, K, 1]
        return ComponentLogDensities(z).add(logWeights, Scalars.One).logsumexp(1).MoveToOuterDisposeScope();
    }

    /// <summary>log N(zⱼ; mₖⱼ, sₖⱼ²) for every row, component and dimension, [n, K, L].</summary>
    private Tensor ComponentLogDensities(Tensor z)
    {
        var difference = z.unsqueeze(1).sub(_priorMeans!.unsqueeze(0));            // [n, K, L]
        var inverseVariance = _priorLogVariances!.neg().exp().unsqueeze(0);         // [1, K, L]
        var squared = difference.mul(difference).mul(inverseVariance);
        return squared.add(_priorLogVariances!.unsqueeze(0), Scalars.One).mul(MinusHalf).add(MinusHalfLogTwoPi, Scalars.One);
    }

    /// <summary>What this network is; building it again gives the same shapes (weights aside).</summary>
    public VaeNetworkSpec Spec { get; }

    public int InputWidth => Spec.InputWidth;
    public int LatentDimension => Spec.LatentDimension;

    /// <summary>Whether the prior is a learned mixture rather than N(0, I).</summary>
    public bool HasMixturePrior => _priorMeans is not null;

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
            if (name.StartsWith("prior_", StringComparison.Ordinal))
            {
                // Mixture prior: means from N(0, I), unit variances and equal weights to start.
                using var draw = name == PriorMeansName ? randn(parameter.shape, generator: generator) : zeros(parameter.shape);
                parameter.copy_(draw);
                continue;
            }
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
            _priorMeans?.Dispose();
            _priorLogVariances?.Dispose();
            _priorLogits?.Dispose();
            _logVarianceMinimum.Dispose();
            _logVarianceMaximum.Dispose();
        }
        base.Dispose(disposing);
    }
}
