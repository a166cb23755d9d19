using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MLNet.Vae.Model;
using MLNet.Vae.Network;
using MLNet.Vae.Tensors;
using TorchSharp;
using static TorchSharp.torch;
using MLNet.Vae.Training;

namespace MLNet.Vae.Kernels;

/// <summary>
/// The training step's loss and gradient for the MLP network with the N(0, I) prior, derived by hand instead of recorded by
/// autograd: the layers' products run on libtorch without a graph, and the element-wise parts (reparameterization, KL, the
/// reconstruction loss, ReLU and clamp masks, bias sums) run fused in managed code, one pass each instead of one operator
/// each.
/// </summary>
/// <remarks>
/// <para>The loss is the training loop's β-weighted negative ELBO, L = (Σᵣ wᵣ rec(xᵣ, oᵣ) + β P) / m, with o the decoder's
/// output at z = μ + σ ⊙ ε, σ = exp(½ λ), λ = clamp(λ̂, −c, c), KLᵣⱼ = ½ (μ² + σ² − λ − 1), and rec the Bernoulli
/// Σᵢ softplus(oᵢ) − xᵢoᵢ or the Gaussian ½ Σᵢ (oᵢ − xᵢ)². Without trimming every row counts (wᵣ = 1, m = n); trimming keeps
/// m = n − ⌊n t⌋ rows, wᵣ = 1[rec(xᵣ) + β KLᵣ ≤ the m-th lowest of those]. The penalty is P = Σᵣ wᵣ Σⱼ KLᵣⱼ, or with free
/// bits λ_f, P = m Σⱼ max(K̄ⱼ, λ_f) with K̄ⱼ = Σᵣ wᵣ KLᵣⱼ / m. Its derivatives, with aⱼ = 1 (or with free bits 1[K̄ⱼ ≥ λ_f]):</para>
/// <list type="bullet">
/// <item>∂L/∂oᵣ = wᵣ (σ(oᵣ) − xᵣ) / m (Bernoulli) or wᵣ (oᵣ − xᵣ) / m (Gaussian);</item>
/// <item>a linear layer y = a Wᵀ + b: ∂L/∂W = (∂L/∂y)ᵀ a, ∂L/∂b = Σᵣ ∂L/∂yᵣ, ∂L/∂a = (∂L/∂y) W; a ReLU a = max(y, 0):
/// ∂L/∂y = ∂L/∂a · 1[a &gt; 0];</item>
/// <item>∂L/∂μᵣⱼ = ∂L/∂zᵣⱼ + kᵣⱼ μᵣⱼ; ∂L/∂λ̂ᵣⱼ = (∂L/∂zᵣⱼ εᵣⱼ σᵣⱼ / 2 + kᵣⱼ (σᵣⱼ² − 1) / 2) · 1[−c ≤ λ̂ᵣⱼ ≤ c], kᵣⱼ = β wᵣ aⱼ / m.</item>
/// </list>
/// <para>Autograd runs about a hundred operators a step for the 784-400-20 network, most of them element-wise passes over
/// the 128×784 output; its products are 1.8 of the 4.3 ms of forward + backward (docs/design/performance.md).
/// <c>MlpBackpropagationTests</c> holds the loss and every gradient equal to autograd's, for both likelihoods, deeper
/// networks, trimming and free bits. The mixture prior and the convolutional network stay on autograd (<see cref="TrainingStep"/>).</para>
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
    private readonly long _widestLayer;

    // The forward pass's tensors the backward pass needs (owned by the caller's dispose scope of the step).
    private Tensor? _x;
    private Tensor[] _encoderOutputs = [];
    private Tensor[] _decoderInputs = [];
    private Tensor? _meanOutput, _logVarianceOutput, _noise, _outputGradient;
    // kᵣ = β wᵣ / m of each row and aⱼ of each latent dimension (the class remarks).
    private float[] _klScale = [];
    private float[] _activeDimensions = [];

    /// <summary>A linear layer's weight [out, in] and bias, and the buffers its gradients are written into.</summary>
    private sealed record Layer(Tensor Weight, Tensor Bias, Tensor WeightGradient, Tensor BiasGradient);

    private MlpBackpropagation(VaeNetwork network, VaeLikelihood likelihood, Generator generator)
    {
        var parameters = network.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var gradients = new Dictionary<string, Tensor>();
        Layer Read(string name)
        {
            var weight = parameters[ParameterNames.Weight(name)];
            var bias = parameters[ParameterNames.Bias(name)];
            var weightGradient = gradients[ParameterNames.Weight(name)] = zeros_like(weight).DetachFromDisposeScope();
            var biasGradient = gradients[ParameterNames.Bias(name)] = zeros_like(bias).DetachFromDisposeScope();
            return new Layer(weight, bias, weightGradient, biasGradient);
        }
        var names = ParameterNames.MlpLayers(network.Spec.HiddenSizes.Length);
        _encoder = names.Encoder.Select(Read).ToArray();
        _mean = Read(names.Mean);
        _logVariance = Read(names.LogVariance);
        _decoder = names.Decoder.Select(Read).ToArray();
        // In the order of the network's parameters, which is the optimizer's.
        Gradients = network.named_parameters().Select(p => gradients[p.name]).ToArray();
        _widestLayer = _encoder.Concat(_decoder).Append(_mean).Select(l => l.Weight.shape[0]).Append(network.Spec.InputWidth).Max();
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

    /// <summary>
    /// Whether a batch of <paramref name="rows"/> fits: the managed passes see each activation as one span of floats, whose
    /// byte length must fit in an int (a larger batch, from a very large <see cref="VaeOptions.BatchSize"/>, takes autograd).
    /// </summary>
    public bool Fits(long rows) => rows * _widestLayer <= int.MaxValue / sizeof(float);

    /// <summary>The gradient of the last <see cref="Backward"/>, one tensor per parameter in the network's order.</summary>
    public IReadOnlyList<Tensor> Gradients { get; }

    /// <summary>
    /// Encodes <paramref name="x"/>, draws z = μ + σ ⊙ ε (ε from the generator, as autograd's step draws it), decodes z and
    /// forms the loss with weight <paramref name="beta"/>, leaving out the <paramref name="trimmedFraction"/> of rows of
    /// highest loss and with <paramref name="freeBits"/> nats per dimension; keeps what <see cref="Backward"/> needs. The
    /// terms reported cover every row, as on autograd.
    /// </summary>
    public StepLosses Forward(Tensor x, double beta, double trimmedFraction, double freeBits)
    {
        using var noGrad = no_grad();
        int n = (int)x.shape[0];
        _x = x.is_contiguous() ? x : x.contiguous();
        var input = _x;
        _encoderOutputs = new Tensor[_encoder.Length];
        for (int i = 0; i < _encoder.Length; i++)
            input = _encoderOutputs[i] = Linear(_encoder[i], input).relu_();
        _meanOutput = Linear(_mean, input);
        _logVarianceOutput = Linear(_logVariance, input);
        _noise = randn(_meanOutput.shape, generator: _generator);
        var z = empty_like(_meanOutput);
        int latent = (int)_meanOutput.shape[1];
        var kl = new float[n * latent];
        Reparameterize(Floats(_meanOutput), Floats(_logVarianceOutput), Floats(_noise), Floats(z), kl);

        _decoderInputs = new Tensor[_decoder.Length];
        input = z;
        for (int i = 0; i < _decoder.Length; i++)
        {
            _decoderInputs[i] = input;
            input = Linear(_decoder[i], input);
            if (i < _decoder.Length - 1) input.relu_();
        }
        int width = (int)input.shape[1];
        long kept = n - (long)Math.Floor(n * trimmedFraction);
        bool trimmed = kept < n && kept >= 1;
        int divisor = trimmed ? (int)kept : n;
        _outputGradient = empty_like(input);
        var reconstructionRows = new float[n];
        ReconstructionAndGradient(Floats(input), Floats(_x), Floats(_outputGradient), width, 1f / divisor, reconstructionRows);

        var klRows = new float[n];
        var klPerDimension = new double[latent];
        for (int k = 0; k < kl.Length; k++)
        {
            klRows[k / latent] += kl[k];
            klPerDimension[k % latent] += kl[k];
        }
        var rowWeights = RowWeights(reconstructionRows, klRows, (float)beta, trimmed ? (int)kept : n);
        var gradient = Floats(_outputGradient);
        for (int r = 0; r < n; r++)
            if (rowWeights[r] == 0) gradient.Slice(r * width, width).Clear();
        double keptReconstruction = 0;
        var keptKlPerDimension = new double[latent];
        for (int r = 0; r < n; r++)
        {
            keptReconstruction += rowWeights[r] * reconstructionRows[r];
            for (int j = 0; j < latent; j++) keptKlPerDimension[j] += rowWeights[r] * kl[r * latent + j];
        }
        // Free bits: a dimension whose mean KL over the counted rows is below λ_f counts as λ_f and passes no gradient.
        _activeDimensions = new float[latent];
        double penalty = 0;
        for (int j = 0; j < latent; j++)
        {
            double mean = keptKlPerDimension[j] / divisor;
            _activeDimensions[j] = freeBits <= 0 || mean >= freeBits ? 1f : 0f;
            penalty += freeBits > 0 ? Math.Max(mean, freeBits) * divisor : keptKlPerDimension[j];
        }
        _klScale = rowWeights.Select(w => (float)(beta * w / divisor)).ToArray();

        double reconstruction = reconstructionRows.Sum(v => (double)v);
        double klSum = klPerDimension.Sum();
        double loss = (keptReconstruction + beta * penalty) / divisor;
        var klTensor = tensor(klPerDimension.Select(v => (float)v).ToArray());
        return new StepLosses(tensor((float)loss), tensor((float)reconstruction), klTensor, tensor((float)klSum), (loss, reconstruction, klSum));
    }

    /// <summary>
    /// wᵣ of each row: 1 for all when <paramref name="kept"/> is every row, else 1 for the rows whose loss rec + β KL is at or
    /// below the kept-th lowest (ties count, as on autograd) and 0 for the others.
    /// </summary>
    private static float[] RowWeights(float[] reconstructionRows, float[] klRows, float beta, int kept)
    {
        int n = reconstructionRows.Length;
        var weights = new float[n];
        Array.Fill(weights, 1f);
        if (kept >= n) return weights;
        var losses = new float[n];
        for (int r = 0; r < n; r++) losses[r] = reconstructionRows[r] + beta * klRows[r];
        var sorted = (float[])losses.Clone();
        Array.Sort(sorted);
        float threshold = sorted[kept - 1];
        for (int r = 0; r < n; r++)
            if (!(losses[r] <= threshold)) weights[r] = 0;
        return weights;
    }

    /// <summary>Writes the gradient of the last <see cref="Forward"/>'s loss into <see cref="Gradients"/>.</summary>
    public void Backward()
    {
        if (_outputGradient is null) throw new InvalidOperationException("Backward needs a Forward first.");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
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
            Floats(meanGradient), Floats(logVarianceGradient));
        var hidden = _encoder.Length > 0 ? _encoderOutputs[^1] : _x!;
        LayerGradients(_mean, meanGradient, hidden);
        LayerGradients(_logVariance, logVarianceGradient, hidden);
        if (_encoder.Length == 0) return;
        gradient = meanGradient.mm(_mean.Weight);
        gradient.addmm_(logVarianceGradient, _logVariance.Weight, 1, 1);
        for (int i = _encoder.Length - 1; i >= 0; i--)
        {
            ReluBackward(Floats(gradient), Floats(_encoderOutputs[i]));
            var layer = _encoder[i];
            var input = i > 0 ? _encoderOutputs[i - 1] : _x!;
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
    /// The encoder's heads to z: λ = clamp(λ̂, −c, c), σ = exp(½ λ), z = μ + σ ε, and each row's and dimension's KL
    /// ½ (μ² + σ² − λ − 1) into <paramref name="kl"/> [n × L].
    /// </summary>
    private void Reparameterize(ReadOnlySpan<float> mean, ReadOnlySpan<float> logVariance, ReadOnlySpan<float> noise, Span<float> z, Span<float> kl)
    {
        for (int k = 0; k < mean.Length; k++)
        {
            float m = mean[k], lambda = Math.Clamp(logVariance[k], -_logVarianceLimit, _logVarianceLimit);
            float variance = MathF.Exp(lambda);
            z[k] = m + MathF.Exp(0.5f * lambda) * noise[k];
            kl[k] = 0.5f * (m * m + variance - lambda - 1f);
        }
    }

    /// <summary>∂L/∂μ and ∂L/∂λ̂ from ∂L/∂z (the formulas of the class remarks, kᵣⱼ from the forward pass).</summary>
    private void LatentBackward(ReadOnlySpan<float> zGradient, ReadOnlySpan<float> mean, ReadOnlySpan<float> logVariance,
        ReadOnlySpan<float> noise, Span<float> meanGradient, Span<float> logVarianceGradient)
    {
        int latent = _activeDimensions.Length;
        for (int k = 0; k < mean.Length; k++)
        {
            float klScale = _klScale[k / latent] * _activeDimensions[k % latent];
            float raw = logVariance[k];
            meanGradient[k] = zGradient[k] + klScale * mean[k];
            if (raw < -_logVarianceLimit || raw > _logVarianceLimit) { logVarianceGradient[k] = 0; continue; }
            logVarianceGradient[k] = 0.5f * (zGradient[k] * noise[k] * MathF.Exp(0.5f * raw) + klScale * (MathF.Exp(raw) - 1f));
        }
    }

    /// <summary>Each row's reconstruction loss into <paramref name="rowLosses"/>, and its derivative times <paramref name="scale"/>.</summary>
    private void ReconstructionAndGradient(ReadOnlySpan<float> output, ReadOnlySpan<float> x, Span<float> gradient, int width, float scale,
        Span<float> rowLosses)
    {
        for (int r = 0, start = 0; start < x.Length; r++, start += width)
        {
            var range = new Range(start, start + width);
            rowLosses[r] = _likelihood == VaeLikelihood.Bernoulli
                ? RowMath.BernoulliLossAndGradient(output[range], x[range], gradient[range], scale)
                : RowMath.GaussianLossAndGradient(output[range], x[range], gradient[range], scale);
        }
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
