using System.Numerics.Tensors;
using MLNet.Vae.Network;
using MLNet.Vae.Tensors;
using static TorchSharp.torch;

namespace MLNet.Vae.Model;

/// <summary>
/// One row through the MLP network in managed code, over a copy of its weights: what <c>PredictionEngine</c> runs. A one-row
/// call through libtorch costs about 70 µs, most of it per-operator dispatch and allocation around products that take a few
/// µs; here each layer is one matrix-vector product (<see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>
/// per output unit, vectorized to the CPU's widest registers) into buffers reused by the calling thread.
/// </summary>
/// <remarks>
/// It computes the same formulas as <see cref="VaeObjective"/> (see there and <see cref="VaeScoreKind"/>), with the sums in
/// double; <c>SingleRowScorerTests</c> holds every score kind, likelihood, the latent means and the feature scores equal to the
/// batched libtorch path within 1e-5. The weights are copied once, after Fit or loading; they do not change afterwards.
/// </remarks>
internal sealed class SingleRowScorer
{
    private readonly Layer[] _encoder;
    private readonly Layer _mean;
    private readonly Layer _logVariance;
    private readonly Layer[] _decoder;
    private readonly float _logVarianceLimit;
    private readonly VaeLikelihood _likelihood;
    private readonly float[]? _featureMean;
    private readonly float[]? _featureScale;
    private readonly int _widestLayer;
    private readonly ThreadLocal<Workspace> _workspaces;

    private SingleRowScorer(VaeNetwork network, VaeLikelihood likelihood, FeatureStandardization? standardization)
    {
        var spec = network.Spec;
        var state = network.state_dict();
        Layer Read(string name) => new(TensorCopy.ToArray(state[$"{name}.weight"]), TensorCopy.ToArray(state[$"{name}.bias"]));
        _encoder = Enumerable.Range(0, spec.HiddenSizes.Length).Select(i => Read($"_encoderBody.linear{i}")).ToArray();
        _mean = Read("_mean");
        _logVariance = Read("_logVariance");
        _decoder = Enumerable.Range(0, spec.HiddenSizes.Length).Select(i => Read($"_decoder.linear{i}")).Append(Read("_decoder.output")).ToArray();
        _logVarianceLimit = (float)spec.LogVarianceLimit;
        _likelihood = likelihood;
        _featureMean = standardization?.Mean;
        _featureScale = standardization?.Scale;
        InputWidth = spec.InputWidth;
        LatentDimension = spec.LatentDimension;
        _widestLayer = _encoder.Concat(_decoder).Select(l => l.Outputs).Append(InputWidth).Append(LatentDimension).Max();
        _workspaces = new ThreadLocal<Workspace>(() => new Workspace(_widestLayer, InputWidth, LatentDimension));
    }

    public int InputWidth { get; }
    public int LatentDimension { get; }

    /// <summary>A scorer for <paramref name="network"/>, or null when it is not an MLP (the convolutional network stays on libtorch).</summary>
    public static SingleRowScorer? For(VaeNetwork network, VaeLikelihood likelihood, FeatureStandardization? standardization)
    {
        if (network.Spec.Architecture != VaeArchitecture.Mlp) return null;
        using var noGrad = no_grad();
        return new SingleRowScorer(network, likelihood, standardization);
    }

    /// <summary>
    /// Scores one row whose values are all in the model's domain: μ(x) into <paramref name="latent"/> [L], the score of
    /// <paramref name="kind"/> as returned, and when <paramref name="featureScores"/> is not empty each feature's
    /// reconstruction-error term into it [d].
    /// </summary>
    public float Score(VaeScoreKind kind, ReadOnlySpan<float> row, Span<float> latent, ScoreCalibration? calibration, Span<float> featureScores)
    {
        var work = _workspaces.Value!;
        var x = work.Input.AsSpan(0, InputWidth);
        if (_featureMean is null) row.CopyTo(x);
        else
        {
            // x̃ = (x − m) / s
            TensorPrimitives.Subtract(row, _featureMean, x);
            TensorPrimitives.Divide(x, _featureScale!, x);
        }

        var (hidden, hiddenWidth) = Forward(_encoder, work.Input, InputWidth, work, last: null);
        var mean = work.Mean.AsSpan(0, LatentDimension);
        var logVariance = work.LogVariance.AsSpan(0, LatentDimension);
        _mean.Apply(hidden.AsSpan(0, hiddenWidth), mean, relu: false);
        _logVariance.Apply(hidden.AsSpan(0, hiddenWidth), logVariance, relu: false);
        TensorPrimitives.Min(logVariance, _logVarianceLimit, logVariance);
        TensorPrimitives.Max(logVariance, -_logVarianceLimit, logVariance);
        mean.CopyTo(latent);
        var (output, _) = Forward(_decoder, work.Mean, LatentDimension, work, last: work.Decoded);
        ReadOnlySpan<float> decoded = output.AsSpan(0, InputWidth);

        if (!featureScores.IsEmpty) ReconstructionTerms(decoded, x, featureScores);
        return kind switch
        {
            VaeScoreKind.ReconstructionError => (float)ReconstructionError(decoded, x),
            VaeScoreKind.SquaredError => (float)SquaredError(decoded, x),
            VaeScoreKind.NegativeElbo => (float)(Reconstruction(decoded, x) + Kl(mean, logVariance)),
            VaeScoreKind.ReconstructionAndLatent => Combined(decoded, x, mean, logVariance,
                calibration ?? throw new InvalidOperationException("The model was not calibrated for the ReconstructionAndLatent score.")),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), $"Unknown score kind {kind}."),
        };
    }

    /// <summary>
    /// Runs <paramref name="layers"/> from the first <paramref name="width"/> values of <paramref name="input"/>, alternating
    /// between the workspace's two buffers, ReLU after every layer but a last one written to <paramref name="last"/>.
    /// </summary>
    private static (float[] Output, int Width) Forward(Layer[] layers, float[] input, int width, Workspace work, float[]? last)
    {
        for (int i = 0; i < layers.Length; i++)
        {
            bool isLast = last is not null && i == layers.Length - 1;
            var output = isLast ? last! : input == work.A ? work.B : work.A;
            layers[i].Apply(input.AsSpan(0, width), output.AsSpan(0, layers[i].Outputs), relu: !isLast);
            (input, width) = (output, layers[i].Outputs);
        }
        return (input, width);
    }

    /// <summary>(R − m_R) / s_R + max(0, (K − m_K) / s_K − margin), as <see cref="VaeModel"/> computes it on libtorch.</summary>
    private float Combined(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, ReadOnlySpan<float> mean, ReadOnlySpan<float> logVariance,
        ScoreCalibration calibration)
    {
        float reconstruction = (float)ReconstructionError(decoded, x);
        float kl = (float)Kl(mean, logVariance);
        float latentExcess = Math.Max(0f, (kl - calibration.LatentCenter) / calibration.LatentScale - (float)VaeModel.LatentMargin);
        return (reconstruction - calibration.ReconstructionCenter) / calibration.ReconstructionScale + latentExcess;
    }

    /// <summary>Σᵢ of <see cref="ReconstructionTerm"/>.</summary>
    private double ReconstructionError(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += ReconstructionTerm(decoded[i], x[i]);
        return sum;
    }

    private void ReconstructionTerms(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, Span<float> terms)
    {
        for (int i = 0; i < x.Length; i++) terms[i] = (float)ReconstructionTerm(decoded[i], x[i]);
    }

    /// <summary>BCE(xᵢ, σ(lᵢ)) − H(xᵢ) (Bernoulli) or (x̃ᵢ − μ̃ᵢ)² (Gaussian).</summary>
    private double ReconstructionTerm(float decoded, float x)
    {
        if (_likelihood != VaeLikelihood.Bernoulli)
        {
            double difference = (double)decoded - x;
            return difference * difference;
        }
        return BinaryCrossEntropy(decoded, x) - BinaryEntropy(x);
    }

    /// <summary>−log p(x | z): Σᵢ BCE (Bernoulli) or ½ Σᵢ (x̃ᵢ − μ̃ᵢ)² + ½ d log 2π (Gaussian, as in the negative ELBO).</summary>
    private double Reconstruction(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x)
    {
        double sum = 0;
        if (_likelihood == VaeLikelihood.Bernoulli)
        {
            for (int i = 0; i < x.Length; i++) sum += BinaryCrossEntropy(decoded[i], x[i]);
            return sum;
        }
        for (int i = 0; i < x.Length; i++)
        {
            double difference = (double)decoded[i] - x[i];
            sum += difference * difference;
        }
        return 0.5 * sum + 0.5 * Math.Log(2 * Math.PI) * x.Length;
    }

    /// <summary>Σᵢ (σ(lᵢ) − xᵢ)² (Bernoulli) or Σᵢ ((μ̃ᵢ − x̃ᵢ) sᵢ)² in the input's units (Gaussian).</summary>
    private double SquaredError(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double difference = _likelihood == VaeLikelihood.Bernoulli
                ? 1 / (1 + Math.Exp(-decoded[i])) - x[i]
                : ((double)decoded[i] - x[i]) * (_featureScale?[i] ?? 1f);
            sum += difference * difference;
        }
        return sum;
    }

    /// <summary>½ Σⱼ (μⱼ² + σⱼ² − log σⱼ² − 1).</summary>
    private static double Kl(ReadOnlySpan<float> mean, ReadOnlySpan<float> logVariance)
    {
        double sum = 0;
        for (int j = 0; j < mean.Length; j++)
            sum += (double)mean[j] * mean[j] + Math.Exp(logVariance[j]) - logVariance[j] - 1;
        return 0.5 * sum;
    }

    /// <summary>BCE(x, σ(l)) = max(l, 0) − l x + log(1 + e^−|l|), the overflow-free form.</summary>
    private static double BinaryCrossEntropy(double logit, double x) => Math.Max(logit, 0) - logit * x + Math.Log(1 + Math.Exp(-Math.Abs(logit)));

    /// <summary>H(x) = −x log x − (1 − x) log(1 − x), with log clamped at 10⁻¹² as <see cref="VaeObjective.BinaryEntropy"/> does.</summary>
    private static double BinaryEntropy(double x) =>
        -(x * Math.Log(Math.Max(x, 1e-12)) + (1 - x) * Math.Log(Math.Max(1 - x, 1e-12)));

    /// <summary>A linear layer y = W x + b, W row-major [outputs × inputs].</summary>
    private sealed class Layer(float[] weight, float[] bias)
    {
        public int Outputs => bias.Length;

        public void Apply(ReadOnlySpan<float> input, Span<float> output, bool relu)
        {
            int inputs = input.Length;
            var w = weight.AsSpan();
            for (int i = 0; i < output.Length; i++)
                output[i] = TensorPrimitives.Dot(w.Slice(i * inputs, inputs), input) + bias[i];
            if (relu) TensorPrimitives.Max(output, 0f, output);
        }
    }

    /// <summary>One thread's buffers: two for the hidden layers in turn, the standardized input, μ, log σ² and the decoder's output.</summary>
    private sealed class Workspace(int widest, int inputWidth, int latent)
    {
        public readonly float[] A = new float[widest];
        public readonly float[] B = new float[widest];
        public readonly float[] Input = new float[inputWidth];
        public readonly float[] Mean = new float[latent];
        public readonly float[] LogVariance = new float[latent];
        public readonly float[] Decoded = new float[inputWidth];
    }
}
