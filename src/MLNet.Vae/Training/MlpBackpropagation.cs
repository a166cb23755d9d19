using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MLNet.Vae.Model;
using MLNet.Vae.Network;
using MLNet.Vae.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.Vae.Training;

/// <summary>
/// The training step's loss and gradient for the MLP network with the N(0, I) prior, derived by hand instead of recorded by
/// autograd: the layers' products run on libtorch without a graph, and the element-wise parts (reparameterization, KL, the
/// reconstruction loss, ReLU and clamp masks, bias sums) run fused in managed code, one pass each instead of one operator
/// each.
/// </summary>
/// <remarks>
/// <para>The loss is the training loop's β-weighted negative ELBO of n rows, L = (Σᵣ rec(xᵣ, oᵣ) + β Σᵣ Σⱼ KLᵣⱼ) / n, with
/// o the decoder's output at z = μ + σ ⊙ ε, σ = exp(½ λ), λ = clamp(λ̂, −c, c), KLᵣⱼ = ½ (μ² + σ² − λ − 1), and rec the
/// Bernoulli Σᵢ softplus(oᵢ) − xᵢoᵢ or the Gaussian ½ Σᵢ (oᵢ − xᵢ)². Its derivatives:</para>
/// <list type="bullet">
/// <item>∂L/∂o = (σ(o) − x) / n (Bernoulli) or (o − x) / n (Gaussian);</item>
/// <item>a linear layer y = a Wᵀ + b: ∂L/∂W = (∂L/∂y)ᵀ a, ∂L/∂b = Σᵣ ∂L/∂yᵣ, ∂L/∂a = (∂L/∂y) W; a ReLU a = max(y, 0):
/// ∂L/∂y = ∂L/∂a · 1[a &gt; 0];</item>
/// <item>∂L/∂μ = ∂L/∂z + β μ / n; ∂L/∂λ̂ = (∂L/∂z ⊙ ε ⊙ σ / 2 + β (σ² − 1) / (2n)) · 1[−c ≤ λ̂ ≤ c].</item>
/// </list>
/// <para>Autograd runs about a hundred operators a step for the 784-400-20 network, most of them element-wise passes over
/// the 128×784 output; its products are 1.8 of the 4.3 ms of forward + backward (docs/performance.md).
/// <c>MlpBackpropagationTests</c> holds the loss and every gradient equal to autograd's, for both likelihoods and deeper
/// networks. Free bits, trimming and the mixture prior stay on autograd (<see cref="TrainingStep"/>).</para>
/// </remarks>
internal sealed class MlpBackpropagation : IDisposable
{
    private readonly Layer[] _encoder;
    private readonly Layer _mean;
    private readonly Layer _logVariance;
    private readonly Layer[] _decoder;
    private readonly VaeLikelihood _likelihood;
    private readonly float _logVarianceLimit;
    private readonly Generator _generator;

    // The forward pass's tensors the backward pass needs (owned by the caller's dispose scope of the step).
    private Tensor? _x;
    private Tensor[] _encoderOutputs = [];
    private Tensor[] _decoderInputs = [];
    private Tensor? _meanOutput, _logVarianceOutput, _noise, _outputGradient;
    private float _beta;

    /// <summary>A linear layer's weight [out, in] and bias, and the buffers its gradients are written into.</summary>
    private sealed record Layer(Tensor Weight, Tensor Bias, Tensor WeightGradient, Tensor BiasGradient);

    private MlpBackpropagation(VaeNetwork network, VaeLikelihood likelihood, Generator generator)
    {
        var parameters = network.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var gradients = new Dictionary<string, Tensor>();
        Layer Read(string name)
        {
            var weight = parameters[$"{name}.weight"];
            var bias = parameters[$"{name}.bias"];
            gradients[$"{name}.weight"] = zeros_like(weight).DetachFromDisposeScope();
            gradients[$"{name}.bias"] = zeros_like(bias).DetachFromDisposeScope();
            return new Layer(weight, bias, gradients[$"{name}.weight"], gradients[$"{name}.bias"]);
        }
        var names = MlpVaeNetwork.LayerNames(network.Spec);
        _encoder = names.Encoder.Select(Read).ToArray();
        _mean = Read(names.Mean);
        _logVariance = Read(names.LogVariance);
        _decoder = names.Decoder.Select(Read).ToArray();
        // In the order of the network's parameters, which is the optimizer's.
        Gradients = network.named_parameters().Select(p => gradients[p.name]).ToArray();
        _likelihood = likelihood;
        _logVarianceLimit = (float)network.Spec.LogVarianceLimit;
        _generator = generator;
    }

    /// <summary>
    /// The hand-derived step for <paramref name="network"/>, or null where autograd stays (the convolutional network and the
    /// mixture prior; a network in another precision than float32, which only tests build).
    /// </summary>
    public static MlpBackpropagation? For(VaeNetwork network, VaeLikelihood likelihood, Generator generator)
    {
        if (network.Spec.Architecture != VaeArchitecture.Mlp || network.HasMixturePrior) return null;
        if (network.parameters().Any(p => p.dtype != ScalarType.Float32)) return null;
        using var noGrad = no_grad();
        return new MlpBackpropagation(network, likelihood, generator);
    }

    /// <summary>The gradient of the last <see cref="Backward"/>, one tensor per parameter in the network's order.</summary>
    public IReadOnlyList<Tensor> Gradients { get; }

    /// <summary>
    /// Encodes <paramref name="x"/>, draws z = μ + σ ⊙ ε (ε from the generator, as autograd's step draws it), decodes z and
    /// forms the loss with weight <paramref name="beta"/>; keeps what <see cref="Backward"/> needs.
    /// </summary>
    public StepLosses Forward(Tensor x, double beta)
    {
        using var noGrad = no_grad();
        int n = (int)x.shape[0];
        _x = x.is_contiguous() ? x : x.contiguous();
        _beta = (float)beta;
        var input = _x;
        _encoderOutputs = new Tensor[_encoder.Length];
        for (int i = 0; i < _encoder.Length; i++)
            input = _encoderOutputs[i] = Linear(_encoder[i], input).relu_();
        _meanOutput = Linear(_mean, input);
        _logVarianceOutput = Linear(_logVariance, input);
        _noise = randn(_meanOutput.shape, generator: _generator);
        var z = empty_like(_meanOutput);
        int latent = (int)_meanOutput.shape[1];
        var klPerDimension = new double[latent];
        Reparameterize(Floats(_meanOutput), Floats(_logVarianceOutput), Floats(_noise), Floats(z), latent, klPerDimension);

        _decoderInputs = new Tensor[_decoder.Length];
        input = z;
        for (int i = 0; i < _decoder.Length; i++)
        {
            _decoderInputs[i] = input;
            input = Linear(_decoder[i], input);
            if (i < _decoder.Length - 1) input.relu_();
        }
        _outputGradient = empty_like(input);
        double reconstruction = ReconstructionAndGradient(Floats(input), Floats(_x), Floats(_outputGradient), (int)input.shape[1], 1f / n);

        double kl = klPerDimension.Sum();
        double loss = (reconstruction + beta * kl) / n;
        var klTensor = tensor(klPerDimension.Select(v => (float)v).ToArray());
        return new StepLosses(tensor((float)loss), tensor((float)reconstruction), klTensor, tensor((float)kl), (loss, reconstruction, kl));
    }

    /// <summary>Writes the gradient of the last <see cref="Forward"/>'s loss into <see cref="Gradients"/>.</summary>
    public void Backward()
    {
        if (_outputGradient is null) throw new InvalidOperationException("Backward needs a Forward first.");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        int n = (int)_x!.shape[0];
        var gradient = _outputGradient;
        for (int i = _decoder.Length - 1; i >= 0; i--)
        {
            var layer = _decoder[i];
            LayerGradients(layer, gradient, _decoderInputs[i]);
            var inputGradient = gradient.mm(layer.Weight);
            if (i > 0) ReluBackward(Floats(inputGradient), Floats(_decoderInputs[i]));
            gradient = inputGradient;
        }

        // gradient is now ∂L/∂z; through the reparameterization and the KL term to the heads' outputs.
        var meanGradient = empty_like(_meanOutput!);
        var logVarianceGradient = empty_like(_logVarianceOutput!);
        LatentBackward(Floats(gradient), Floats(_meanOutput!), Floats(_logVarianceOutput!), Floats(_noise!),
            Floats(meanGradient), Floats(logVarianceGradient), _beta / n);
        var hidden = _encoder.Length > 0 ? _encoderOutputs[^1] : _x;
        LayerGradients(_mean, meanGradient, hidden);
        LayerGradients(_logVariance, logVarianceGradient, hidden);
        if (_encoder.Length == 0) return;
        gradient = meanGradient.mm(_mean.Weight);
        gradient.addmm_(logVarianceGradient, _logVariance.Weight, 1, 1);
        for (int i = _encoder.Length - 1; i >= 0; i--)
        {
            ReluBackward(Floats(gradient), Floats(_encoderOutputs[i]));
            var layer = _encoder[i];
            var input = i > 0 ? _encoderOutputs[i - 1] : _x;
            LayerGradients(layer, gradient, input);
            if (i > 0) gradient = gradient.mm(layer.Weight);
        }
    }

    /// <summary>y = a Wᵀ + b, as nn.Linear computes it.</summary>
    private static Tensor Linear(Layer layer, Tensor input)
    {
        using var transposed = layer.Weight.t();
        return addmm(layer.Bias, input, transposed, 1, 1);
    }

    /// <summary>∂L/∂W = (∂L/∂y)ᵀ a and ∂L/∂b = Σᵣ ∂L/∂yᵣ, written over the layer's gradient buffers.</summary>
    private static void LayerGradients(Layer layer, Tensor outputGradient, Tensor input)
    {
        using var transposed = outputGradient.t();
        layer.WeightGradient.addmm_(transposed, input, 0, 1);
        ColumnSums(Floats(outputGradient), (int)outputGradient.shape[1], Floats(layer.BiasGradient));
    }

    /// <summary>
    /// The encoder's heads to z, row by row: λ = clamp(λ̂, −c, c), σ = exp(½ λ), z = μ + σ ε, and each dimension's KL
    /// ½ (μ² + σ² − λ − 1) summed over the rows into <paramref name="klPerDimension"/> (float64).
    /// </summary>
    private void Reparameterize(ReadOnlySpan<float> mean, ReadOnlySpan<float> logVariance, ReadOnlySpan<float> noise, Span<float> z,
        int latent, double[] klPerDimension)
    {
        for (int k = 0; k < mean.Length; k++)
        {
            float m = mean[k], lambda = Math.Clamp(logVariance[k], -_logVarianceLimit, _logVarianceLimit);
            float variance = MathF.Exp(lambda);
            z[k] = m + MathF.Exp(0.5f * lambda) * noise[k];
            klPerDimension[k % latent] += 0.5f * (m * m + variance - lambda - 1f);
        }
    }

    /// <summary>∂L/∂μ and ∂L/∂λ̂ from ∂L/∂z (the formulas of the class remarks); <paramref name="klScale"/> = β / n.</summary>
    private void LatentBackward(ReadOnlySpan<float> zGradient, ReadOnlySpan<float> mean, ReadOnlySpan<float> logVariance,
        ReadOnlySpan<float> noise, Span<float> meanGradient, Span<float> logVarianceGradient, float klScale)
    {
        for (int k = 0; k < mean.Length; k++)
        {
            float raw = logVariance[k];
            meanGradient[k] = zGradient[k] + klScale * mean[k];
            if (raw < -_logVarianceLimit || raw > _logVarianceLimit) { logVarianceGradient[k] = 0; continue; }
            logVarianceGradient[k] = 0.5f * (zGradient[k] * noise[k] * MathF.Exp(0.5f * raw) + klScale * (MathF.Exp(raw) - 1f));
        }
    }

    /// <summary>The reconstruction loss summed over the rows (float64), and its derivative times <paramref name="scale"/>.</summary>
    private double ReconstructionAndGradient(ReadOnlySpan<float> output, ReadOnlySpan<float> x, Span<float> gradient, int width, float scale)
    {
        double total = 0;
        for (int start = 0; start < x.Length; start += width)
        {
            var range = new Range(start, start + width);
            total += _likelihood == VaeLikelihood.Bernoulli
                ? RowMath.BernoulliLossAndGradient(output[range], x[range], gradient[range], scale)
                : RowMath.GaussianLossAndGradient(output[range], x[range], gradient[range], scale);
        }
        return total;
    }

    /// <summary>sums[j] = Σᵣ m[r, j] for a row-major matrix of <paramref name="width"/> columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ColumnSums(ReadOnlySpan<float> matrix, int width, Span<float> sums)
    {
        matrix[..width].CopyTo(sums);
        for (int start = width; start < matrix.Length; start += width)
        {
            var row = matrix.Slice(start, width);
            int i = 0;
            for (; i <= width - Vector<float>.Count; i += Vector<float>.Count)
                (new Vector<float>(sums[i..]) + new Vector<float>(row[i..])).CopyTo(sums[i..]);
            for (; i < width; i++) sums[i] += row[i];
        }
    }

    /// <summary>gᵢ ← 0 where the ReLU's output aᵢ is 0 (the derivative of max(y, 0), as libtorch takes it at 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ReluBackward(Span<float> gradient, ReadOnlySpan<float> activation)
    {
        int i = 0;
        for (; i <= gradient.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var active = Vector.GreaterThan(new Vector<float>(activation[i..]), Vector<float>.Zero);
            Vector.ConditionalSelect(active, new Vector<float>(gradient[i..]), Vector<float>.Zero).CopyTo(gradient[i..]);
        }
        for (; i < gradient.Length; i++) if (!(activation[i] > 0)) gradient[i] = 0;
    }

    private static Span<float> Floats(Tensor tensor) => TensorCopy.Floats(tensor);

    public void Dispose()
    {
        foreach (var gradient in Gradients) gradient.Dispose();
    }
}
