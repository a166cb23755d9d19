using MLNet.Vae.Model;
using MLNet.Vae.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using MLNet.Vae.Kernels;

namespace MLNet.Vae.Training;

/// <summary>
/// One training step in its parts, so that the training loop and the step profile (benchmarks) run the same code:
/// <see cref="Forward"/> the β-weighted negative ELBO, <see cref="Backward"/>, and <see cref="Update"/> (clipping and Adam). The caller owns the dispose scope of the step.
/// The MLP with the N(0, I) prior takes the hand-derived gradient (<see cref="MlpBackpropagation"/>); the mixture prior
/// and the convolutional network are recorded and differentiated by autograd.
/// </summary>
internal sealed class TrainingStep : IDisposable
{
    private readonly VaeModel _model;
    private readonly IReadOnlyList<TorchSharp.Modules.Parameter> _parameters;
    private readonly Generator _generator;
    private readonly double _freeBits;
    private readonly Scalar _freeBitsScalar;
    private readonly MlpBackpropagation? _byHand;
    private bool _lastStepByHand;

    /// <summary>A step for <paramref name="model"/>; with <paramref name="byHand"/> false every step runs on autograd (tests, the profile).</summary>
    public TrainingStep(VaeModel model, double learningRate, double weightDecay, double freeBits, Generator generator, bool byHand = true)
    {
        _model = model;
        _parameters = model.Network.parameters().ToList();
        _generator = generator;
        _freeBits = freeBits;
        _freeBitsScalar = freeBits.ToScalar();
        Optimizer = new AdamOptimizer(_parameters, learningRate, weightDecay);
        _byHand = byHand ? MlpBackpropagation.For(model.Network, model.Likelihood, generator) : null;
    }

    public AdamOptimizer Optimizer { get; }

    /// <summary>The last step's gradient when it was derived by hand, else null (autograd's is in the parameters' grad).</summary>
    internal IReadOnlyList<Tensor>? HandDerivedGradients => _lastStepByHand ? _byHand!.Gradients : null;

    /// <summary>
    /// Encodes <paramref name="x"/>, draws z = μ + σ ⊙ ε, decodes it and forms the loss with weight <paramref name="beta"/>;
    /// with <paramref name="trimmedFraction"/> &gt; 0 the loss leaves out that fraction of the batch's rows, those of highest
    /// loss (the terms reported still cover every row).
    /// </summary>
    public StepLosses Forward(Tensor x, double beta, double trimmedFraction = 0)
    {
        long count = x.shape[0];
        _lastStepByHand = _byHand is not null && _byHand.Fits(count);
        if (_lastStepByHand) return _byHand!.Forward(x, beta, trimmedFraction, _freeBits);
        var (mean, logVariance) = _model.Network.Encode(x);
        var z = VaeObjective.Reparameterize(mean, logVariance, _generator);
        var reconstructionRows = VaeObjective.Reconstruction(_model.Likelihood, _model.Network.Decode(z), x);
        var klRows = VaeObjective.KlPerDimension(_model.Network, z, mean, logVariance);
        var reconstruction = reconstructionRows.sum();
        // dim by name: a literal 0 would bind to sum(ScalarType) and sum as bytes.
        var klPerDimension = klRows.sum(dim: 0L);
        // N(0, I): the closed form, the sum of the dimensions' terms; a mixture prior: the Monte Carlo estimate at z.
        var kl = _model.Network.HasMixturePrior ? VaeObjective.Kl(_model.Network, z, mean, logVariance).sum() : klPerDimension.sum();
        using var betaScalar = beta.ToScalar();
        long kept = count - (long)Math.Floor(count * trimmedFraction);
        if (kept == count || kept < 1)
        {
            using var rows = ((double)count).ToScalar();
            // Free bits: each dimension's batch-mean KL counts as at least λ nats.
            var penalty = _freeBits > 0 ? klPerDimension.div(rows).clamp_min(_freeBitsScalar).sum().mul(rows) : kl;
            return new StepLosses(reconstruction.add(penalty, betaScalar).div(rows), reconstruction, klPerDimension, kl);
        }
        // Trimmed: the rows at or below the kept-th lowest loss count; the others are left out of this step's gradient.
        var klOfRows = _model.Network.HasMixturePrior ? VaeObjective.Kl(_model.Network, z, mean, logVariance) : klRows.sum(dim: 1L);
        var rowLoss = reconstructionRows.add(klOfRows, betaScalar).detach();
        var (sorted, _) = rowLoss.sort();
        var weight = rowLoss.le(sorted[kept - 1]).to_type(ScalarType.Float32);
        using var keptRows = ((double)kept).ToScalar();
        var keptPenalty = _freeBits > 0 ? klRows.mul(weight.unsqueeze(1)).sum(dim: 0L).div(keptRows).clamp_min(_freeBitsScalar).sum().mul(keptRows)
            : klOfRows.mul(weight).sum();
        var trimmedLoss = reconstructionRows.mul(weight).sum().add(keptPenalty, betaScalar).div(keptRows);
        return new StepLosses(trimmedLoss, reconstruction, klPerDimension, kl);
    }

    /// <summary>
    /// The batch's loss per row, and its summed reconstruction and KL terms, in one read from libtorch: the three scalars are
    /// stacked first, so a step pays for one synchronous read instead of three <c>item()</c> calls.
    /// </summary>
    public (double Loss, double Reconstruction, double Kl) Read(StepLosses losses)
    {
        if (losses.Values is { } known) return known;
        using var stacked = stack([losses.Loss.detach(), losses.Reconstruction.detach(), losses.Kl.detach()]);
        Span<float> values = stackalloc float[3];
        TensorCopy.CopyTo(stacked, values);
        return (values[0], values[1], values[2]);
    }

    /// <summary>Clears the gradients and back-propagates the loss.</summary>
    public void Backward(StepLosses losses)
    {
        if (_lastStepByHand)
        {
            _byHand!.Backward();
            return;
        }
        Optimizer.ZeroGradients();
        losses.Loss.backward();
    }

    /// <summary>
    /// Clips the gradient to global L2 norm <paramref name="clip"/> (∞: no clipping) and updates every parameter with Adam, in
    /// one fused pass; returns the norm before clipping.
    /// </summary>
    public double Update(double clip) => Optimizer.Step(clip, _lastStepByHand ? _byHand!.Gradients : null);

    public void Dispose()
    {
        Optimizer.Dispose();
        _byHand?.Dispose();
        _freeBitsScalar.Dispose();
    }
}
