using MLNet.Vae.Tensors;
using MLNet.Vae.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.Vae.Training;

/// <summary>
/// Adam (Kingma and Ba, 2015) with L2 weight decay λ, as PyTorch's <c>torch.optim.Adam</c> computes it, for step t:
/// g ← ∇θ + λθ; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; θ ← θ − η (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε).
/// </summary>
/// <remarks>
/// TorchSharp's own Adam makes eight temporary Scalars per parameter and step, which the finalizer can free while libtorch
/// reads them (Tensors/Scalars.cs); this one holds every Scalar for the length of its native calls. Owns its moment tensors.
/// </remarks>
internal sealed class AdamOptimizer : IDisposable
{
    private const double Beta1 = 0.9;
    private const double Beta2 = 0.999;
    private const double Epsilon = 1e-8;
    private static readonly Scalar Beta1Scalar = Beta1.ToScalar();
    private static readonly Scalar Beta2Scalar = Beta2.ToScalar();
    private static readonly Scalar OneMinusBeta1 = (1 - Beta1).ToScalar();
    private static readonly Scalar OneMinusBeta2 = (1 - Beta2).ToScalar();
    private static readonly Scalar EpsilonScalar = Epsilon.ToScalar();

    private readonly IReadOnlyList<Tensor> _parameters;
    private readonly Tensor[] _firstMoments;
    private readonly Tensor[] _secondMoments;
    private readonly Scalar _weightDecay;
    private readonly bool _decays;
    private long _step;

    public AdamOptimizer(IReadOnlyList<Tensor> parameters, double learningRate, double weightDecay)
    {
        _parameters = parameters;
        LearningRate = learningRate;
        _decays = weightDecay != 0;
        _weightDecay = weightDecay.ToScalar();
        using var noGrad = no_grad();
        _firstMoments = parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        _secondMoments = parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
    }

    /// <summary>η, read at every step (a schedule may change it between steps).</summary>
    public double LearningRate { get; set; }

    /// <summary>Clears every parameter's gradient before the next backward pass.</summary>
    public void ZeroGradients()
    {
        foreach (var parameter in _parameters) parameter.grad?.zero_();
    }

    /// <summary>One update of every parameter from its current gradient.</summary>
    public void Step()
    {
        _step++;
        double biasCorrection1 = 1 - Math.Pow(Beta1, _step);
        double biasCorrection2 = 1 - Math.Pow(Beta2, _step);
        using var stepSize = (-LearningRate / biasCorrection1).ToScalar();
        using var secondMomentCorrection = (1 / Math.Sqrt(biasCorrection2)).ToScalar();
        using var noGrad = no_grad();
        for (int i = 0; i < _parameters.Count; i++)
        {
            var parameter = _parameters[i];
            if (parameter.grad is not { } gradient) continue;
            using var scope = NewDisposeScope();
            var g = _decays ? gradient.add(parameter, _weightDecay) : gradient;
            _firstMoments[i].mul_(Beta1Scalar).add_(g, OneMinusBeta1);
            _secondMoments[i].mul_(Beta2Scalar).addcmul_(g, g, OneMinusBeta2);
            var denominator = _secondMoments[i].sqrt().mul_(secondMomentCorrection).add_(EpsilonScalar, Scalars.One);
            parameter.addcdiv_(_firstMoments[i], denominator, stepSize);
        }
    }

    public void Dispose()
    {
        foreach (var moment in _firstMoments.Concat(_secondMoments)) moment.Dispose();
        _weightDecay.Dispose();
    }
}
