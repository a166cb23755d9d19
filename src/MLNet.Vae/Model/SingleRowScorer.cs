using System.Runtime.CompilerServices;
using MLNet.Vae.Network;
using MLNet.Vae.Tensors;
using static TorchSharp.torch;
using MLNet.Vae.Kernels;
using MLNet.Vae.Scoring;

namespace MLNet.Vae.Model;

/// <summary>
/// One row through the MLP network in managed code, over a copy of its weights: what <c>PredictionEngine</c> runs. A one-row
/// call through libtorch costs about 70 µs, most of it per-operator dispatch and allocation around products that take a few
/// µs; here each layer is one matrix-vector product (<see cref="DenseLayer"/>) and the score terms are vectorized
/// (<see cref="RowMath"/>), into buffers reused by the calling thread.
/// </summary>
/// <remarks>
/// It computes the same formulas as <see cref="VaeObjective"/> (see there and <see cref="VaeScoreKind"/>), vectorized in float32
/// as libtorch computes them; <c>SingleRowScorerTests</c> holds every score kind, likelihood, the latent means and the feature scores equal to the
/// batched libtorch path within 1e-5. The weights are copied once, after Fit or loading; they do not change afterwards.
/// </remarks>
internal sealed class SingleRowScorer : IDisposable
{
    private readonly DenseLayer[] _encoder;
    private readonly DenseLayer _mean;
    private readonly DenseLayer _logVariance;
    private readonly DenseLayer[] _decoder;
    private readonly float _logVarianceLimit;
    private readonly VaeLikelihood _likelihood;
    private readonly float[]? _featureMean;
    private readonly float[]? _featureScale;
    private readonly int _widestLayer;
    private readonly ThreadLocal<Workspace> _workspaces;
    private readonly LayerSplitter? _splitter;

    /// <summary>Layers with more weights than this are split over two cores (<see cref="LayerSplitter"/>): 256 KiB.</summary>
    private const long SplitWeightBytes = 256 * 1024;

    private SingleRowScorer(VaeNetwork network, VaeLikelihood likelihood, FeatureStandardization? standardization)
    {
        var spec = network.Spec;
        var state = network.state_dict();
        DenseLayer Read(string name) => new(TensorCopy.ToArray(state[$"{name}.weight"]), TensorCopy.ToArray(state[$"{name}.bias"]));
        var names = MlpVaeNetwork.LayerNames(spec);
        _encoder = names.Encoder.Select(Read).ToArray();
        _mean = Read(names.Mean);
        _logVariance = Read(names.LogVariance);
        _decoder = names.Decoder.Select(Read).ToArray();
        _logVarianceLimit = (float)spec.LogVarianceLimit;
        _likelihood = likelihood;
        _featureMean = standardization?.Mean;
        _featureScale = standardization?.Scale;
        InputWidth = spec.InputWidth;
        LatentDimension = spec.LatentDimension;
        _widestLayer = _encoder.Concat(_decoder).Select(l => l.Outputs).Append(InputWidth).Append(LatentDimension).Max();
        _workspaces = new ThreadLocal<Workspace>(() => new Workspace(likelihood, _widestLayer, InputWidth, LatentDimension));
        if (Environment.ProcessorCount >= 2 && _encoder.Concat(_decoder).Any(l => l.WeightBytes > SplitWeightBytes))
            _splitter = LayerSplitter.Shared;
    }

    public int InputWidth { get; }
    public int LatentDimension { get; }

    /// <summary>
    /// A scorer for <paramref name="network"/>, or null when it is not an MLP with the standard normal prior (the
    /// convolutional network and the mixture prior stay on libtorch).
    /// </summary>
    public static SingleRowScorer? For(VaeNetwork network, VaeLikelihood likelihood, FeatureStandardization? standardization)
    {
        if (network.Spec.Architecture != VaeArchitecture.Mlp || network.HasMixturePrior) return null;
        // The state dictionary's tensors are handles on the weights: freed here, not by the finalizer.
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return new SingleRowScorer(network, likelihood, standardization);
    }

    /// <summary>
    /// Scores one row whose values are all in the model's domain: μ(x) into <paramref name="latent"/> [L], the score of
    /// <paramref name="kind"/> as returned, and when <paramref name="featureScores"/> is not empty each feature's
    /// reconstruction-error term into it [d].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float Score(VaeScoreKind kind, ReadOnlySpan<float> row, Span<float> latent, ScoreCalibration? calibration, Span<float> featureScores)
    {
        var work = _workspaces.Value!;
        var x = work.Input.AsSpan(0, InputWidth);
        // Bernoulli values clipped into [0, 1], as VaeModel.ToScoringSpace.
        if (_featureMean is null) RowMath.Clamp(row, 0f, 1f, x);
        else
        {
            // x̃ = (x − m) / s
            RowMath.Standardize(row, _featureMean, _featureScale!, x);
        }

        var (hidden, hiddenWidth) = Forward(_encoder, work.Input, InputWidth, work, last: null);
        var mean = work.Mean.AsSpan(0, LatentDimension);
        var logVariance = work.LogVariance.AsSpan(0, LatentDimension);
        _mean.Apply(hidden.AsSpan(0, hiddenWidth), mean, relu: false, 0, LatentDimension);
        _logVariance.Apply(hidden.AsSpan(0, hiddenWidth), logVariance, relu: false, 0, LatentDimension);
        for (int j = 0; j < logVariance.Length; j++) logVariance[j] = Math.Clamp(logVariance[j], -_logVarianceLimit, _logVarianceLimit);
        mean.CopyTo(latent);
        bool needsTerms = !featureScores.IsEmpty || kind is VaeScoreKind.ReconstructionError or VaeScoreKind.ReconstructionAndLatent
            or VaeScoreKind.ReconstructionAndLatentDensity || kind.UsesFeatureWeights();
        // tᵢ wᵢ for the weighted kinds: their feature scores are their weighted terms, as on the batched path.
        work.TermsEpilogue.Weights = !kind.UsesFeatureWeights() ? null
            : calibration?.FeatureWeights ?? throw new InvalidOperationException($"The model was not calibrated for the {kind} score.");
        // The terms are computed as the last layer's outputs are, each half of a split layer on its own core.
        var (output, _) = Forward(_decoder, work.Mean, LatentDimension, work, last: work.Decoded, needsTerms ? work.TermsEpilogue : null);
        ReadOnlySpan<float> decoded = output.AsSpan(0, InputWidth);

        var terms = work.Terms.AsSpan(0, InputWidth);
        var scratch = work.Scratch.AsSpan(0, InputWidth);
        if (!featureScores.IsEmpty) terms.CopyTo(featureScores);
        return kind switch
        {
            VaeScoreKind.ReconstructionError or VaeScoreKind.WeightedReconstructionError => RowMath.Sum(terms),
            VaeScoreKind.SquaredError => SquaredError(decoded, x, scratch),
            VaeScoreKind.NegativeElbo => (float)(Reconstruction(decoded, x, scratch) + Kl(mean, logVariance)),
            VaeScoreKind.ReconstructionAndLatent => Combined(RowMath.Sum(terms), mean, logVariance,
                calibration ?? throw new InvalidOperationException("The model was not calibrated for the ReconstructionAndLatent score.")),
            VaeScoreKind.ReconstructionAndLatentDensity => calibration is { Density: { } density }
                ? Combined(RowMath.Sum(terms), mean, logVariance, calibration) + VaeModel.DensityTerm(calibration, mean, density.LogNormalizers())
                : throw new InvalidOperationException("The model was not calibrated for the ReconstructionAndLatentDensity score."),
            VaeScoreKind.WeightedReconstructionAndLatentNeighbours => calibration is { Neighbours: not null }
                ? (RowMath.Sum(terms) - calibration.WeightedCenter) / calibration.WeightedScale + VaeModel.NeighbourTerm(calibration, mean)
                : throw new InvalidOperationException("The model was not calibrated for the WeightedReconstructionAndLatentNeighbours score."),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), $"Unknown score kind {kind}."),
        };
    }

    /// <summary>
    /// Runs <paramref name="layers"/> from the first <paramref name="width"/> values of <paramref name="input"/>, alternating
    /// between the workspace's two buffers, ReLU after every layer but a last one written to <paramref name="last"/>, on whose
    /// outputs <paramref name="lastEpilogue"/> runs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private (float[] Output, int Width) Forward(DenseLayer[] layers, float[] input, int width, Workspace work, float[]? last,
        OutputEpilogue? lastEpilogue = null)
    {
        for (int i = 0; i < layers.Length; i++)
        {
            bool isLast = last is not null && i == layers.Length - 1;
            var output = isLast ? last! : input == work.A ? work.B : work.A;
            var epilogue = isLast ? lastEpilogue : null;
            if (_splitter is not null && layers[i].WeightBytes > SplitWeightBytes)
                _splitter.Apply(layers[i], input, width, output, relu: !isLast, epilogue);
            else
            {
                layers[i].Apply(input.AsSpan(0, width), output, relu: !isLast, 0, layers[i].Outputs);
                epilogue?.Run(0, layers[i].Outputs);
            }
            (input, width) = (output, layers[i].Outputs);
        }
        return (input, width);
    }

    /// <summary>(R − m_R) / s_R + max(0, (K − m_K) / s_K − margin), as <see cref="VaeModel"/> computes it on libtorch.</summary>
    private static float Combined(float reconstruction, ReadOnlySpan<float> mean, ReadOnlySpan<float> logVariance, ScoreCalibration calibration)
    {
        float kl = (float)Kl(mean, logVariance);
        float latentExcess = Math.Max(0f, (kl - calibration.LatentCenter) / calibration.LatentScale - (float)VaeModel.LatentMargin);
        return (reconstruction - calibration.ReconstructionCenter) / calibration.ReconstructionScale + latentExcess;
    }

    /// <summary>
    /// Each feature's term of the reconstruction error, BCE(xᵢ, σ(lᵢ)) − H(xᵢ) (Bernoulli) or (x̃ᵢ − μ̃ᵢ)² (Gaussian), times wᵢ
    /// when <see cref="Weights"/> is set: from the workspace's decoder output and input into its terms, a range at a time.
    /// </summary>
    private sealed class ReconstructionTermsEpilogue(VaeLikelihood likelihood, float[] decoded, float[] x, float[] terms) : OutputEpilogue
    {
        /// <summary>The weighted kind's wᵢ for the current row, or null.</summary>
        public float[]? Weights { get; set; }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void Run(int start, int end)
        {
            var range = terms.AsSpan(start, end - start);
            if (likelihood == VaeLikelihood.Bernoulli)
                RowMath.BernoulliTerms(decoded.AsSpan(start, end - start), x.AsSpan(start, end - start), range, minusEntropy: true);
            else
                RowMath.SquaredDifferences(decoded.AsSpan(start, end - start), x.AsSpan(start, end - start), default, range);
            if (Weights is { } weights) RowMath.Multiply(range, weights.AsSpan(start, end - start), range);
        }
    }

    /// <summary>−log p(x | z): Σᵢ BCE (Bernoulli) or ½ Σᵢ (x̃ᵢ − μ̃ᵢ)² + ½ d log 2π (Gaussian, as in the negative ELBO).</summary>
    private double Reconstruction(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, Span<float> terms)
    {
        if (_likelihood == VaeLikelihood.Bernoulli)
        {
            RowMath.BernoulliTerms(decoded, x, terms, minusEntropy: false);
            return RowMath.Sum(terms);
        }
        RowMath.SquaredDifferences(decoded, x, default, terms);
        return 0.5 * RowMath.Sum(terms) + 0.5 * Math.Log(2 * Math.PI) * x.Length;
    }

    /// <summary>Σᵢ (σ(lᵢ) − xᵢ)² (Bernoulli) or Σᵢ ((μ̃ᵢ − x̃ᵢ) sᵢ)² in the input's units (Gaussian).</summary>
    private float SquaredError(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, Span<float> terms)
    {
        if (_likelihood == VaeLikelihood.Bernoulli) RowMath.SquaredSigmoidErrors(decoded, x, terms);
        else RowMath.SquaredDifferences(decoded, x, _featureScale, terms);
        return RowMath.Sum(terms);
    }

    /// <summary>½ Σⱼ (μⱼ² + σⱼ² − log σⱼ² − 1).</summary>
    private static double Kl(ReadOnlySpan<float> mean, ReadOnlySpan<float> logVariance)
    {
        double sum = 0;
        for (int j = 0; j < mean.Length; j++)
            sum += (double)mean[j] * mean[j] + Math.Exp(logVariance[j]) - logVariance[j] - 1;
        return 0.5 * sum;
    }

    /// <summary>Frees the per-thread buffers (the shared helper thread stays for other scorers).</summary>
    public void Dispose() => _workspaces.Dispose();

    /// <summary>
    /// One thread's buffers: two for the hidden layers in turn, the standardized input, μ, log σ², the decoder's output and the
    /// reconstruction terms (with the epilogue that computes them).
    /// </summary>
    private sealed class Workspace
    {
        public Workspace(VaeLikelihood likelihood, int widest, int inputWidth, int latent)
        {
            A = new float[widest];
            B = new float[widest];
            Input = new float[inputWidth];
            Mean = new float[latent];
            LogVariance = new float[latent];
            Decoded = new float[inputWidth];
            Terms = new float[inputWidth];
            Scratch = new float[inputWidth];
            TermsEpilogue = new ReconstructionTermsEpilogue(likelihood, Decoded, Input, Terms);
        }


        public readonly float[] A, B, Input, Mean, LogVariance, Decoded, Terms, Scratch;
        public readonly ReconstructionTermsEpilogue TermsEpilogue;
    }
}
