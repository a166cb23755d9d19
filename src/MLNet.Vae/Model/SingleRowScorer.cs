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
/// The network's layers are its own; the score is the batched path's code (<see cref="RowScoring"/> and the kind's
/// <see cref="ScoreKindModel.Terms"/>), so the two paths differ only by their products' rounding
/// (<c>SingleRowScorerTests</c>, <c>ScoringAgreementTests</c>). The weights are copied once, after Fit or loading; they do
/// not change afterwards.
/// </remarks>
internal sealed class SingleRowScorer : IDisposable
{
    private readonly DenseLayer[] _encoder;
    private readonly DenseLayer _mean;
    private readonly DenseLayer _logVariance;
    private readonly DenseLayer[] _decoder;
    private readonly float _logVarianceLimit;
    private readonly float[]? _featureMean;
    private readonly float[]? _featureScale;
    private readonly int _widestLayer;
    private readonly ThreadLocal<Workspace> _workspaces;
    private readonly LayerSplitter? _splitter;

    /// <summary>Layers with more weights than this are split over two cores (<see cref="LayerSplitter"/>): 256 KiB.</summary>
    private const long SplitWeightBytes = 256 * 1024;

    private SingleRowScorer(VaeNetwork network, FeatureStandardization? standardization)
    {
        var spec = network.Spec;
        var state = network.state_dict();
        DenseLayer Read(string name) => new(TensorCopy.ToArray(state[ParameterNames.Weight(name)]), TensorCopy.ToArray(state[ParameterNames.Bias(name)]));
        var names = ParameterNames.MlpLayers(spec.HiddenSizes.Length);
        _encoder = names.Encoder.Select(Read).ToArray();
        _mean = Read(names.Mean);
        _logVariance = Read(names.LogVariance);
        _decoder = names.Decoder.Select(Read).ToArray();
        _logVarianceLimit = (float)spec.LogVarianceLimit;
        _featureMean = standardization?.Mean;
        _featureScale = standardization?.Scale;
        InputWidth = spec.InputWidth;
        LatentDimension = spec.LatentDimension;
        _widestLayer = _encoder.Concat(_decoder).Select(l => l.Outputs).Append(InputWidth).Append(LatentDimension).Max();
        _workspaces = new ThreadLocal<Workspace>(() => new Workspace(_widestLayer, InputWidth, LatentDimension));
        if (Environment.ProcessorCount >= 2 && _encoder.Concat(_decoder).Any(l => l.WeightBytes > SplitWeightBytes))
            _splitter = LayerSplitter.Shared;
    }

    public int InputWidth { get; }
    public int LatentDimension { get; }

    /// <summary>
    /// A scorer for <paramref name="network"/>, or null when it is not an MLP with the standard normal prior (the
    /// convolutional network and the mixture prior stay on libtorch).
    /// </summary>
    public static SingleRowScorer? For(VaeNetwork network, FeatureStandardization? standardization)
    {
        if (network.Spec.Architecture != VaeArchitecture.Mlp || network.HasMixturePrior) return null;
        // The state dictionary's tensors are handles on the weights: freed here, not by the finalizer.
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return new SingleRowScorer(network, standardization);
    }

    /// <summary>
    /// Scores one row whose values are all in the model's domain: μ(x) into <paramref name="latent"/> [L], the score of
    /// <paramref name="kind"/> as returned, and when <paramref name="featureScores"/> is not empty each feature's
    /// reconstruction-error term into it [d].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float Score(ScoreKindModel kind, ReadOnlySpan<float> row, Span<float> latent, Span<float> featureScores)
    {
        var work = _workspaces.Value!;
        var x = work.Input.AsSpan(0, InputWidth);
        // x̃ = (x − m) / s, or Bernoulli values clipped into [0, 1], as VaeModel.ToScoringSpace.
        if (_featureMean is null) RowMath.Clamp(row, 0f, 1f, x);
        else RowMath.Standardize(row, _featureMean, _featureScale!, x);

        var (hidden, hiddenWidth) = Forward(_encoder, work.Input, InputWidth, work, last: null);
        var mean = work.Mean.AsSpan(0, LatentDimension);
        var logVariance = work.LogVariance.AsSpan(0, LatentDimension);
        _mean.Apply(hidden.AsSpan(0, hiddenWidth), mean, relu: false, 0, LatentDimension);
        _logVariance.Apply(hidden.AsSpan(0, hiddenWidth), logVariance, relu: false, 0, LatentDimension);
        for (int j = 0; j < logVariance.Length; j++) logVariance[j] = Math.Clamp(logVariance[j], -_logVarianceLimit, _logVarianceLimit);
        mean.CopyTo(latent);
        // The kind's terms are computed as the last layer's outputs are, each half of a split layer on its own core.
        work.TermsEpilogue.Kind = kind;
        var (output, _) = Forward(_decoder, work.Mean, LatentDimension, work, last: work.Decoded, work.TermsEpilogue);
        float latentTerm = kind.UsesLatentTerm ? ScoreKindModel.Kl(mean, logVariance) : 0f;
        return RowScoring.Finish(kind, output.AsSpan(0, InputWidth), x, mean, latentTerm, work.Terms.AsSpan(0, InputWidth), featureScores);
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

    /// <summary>The kind's terms (<see cref="ScoreKindModel.Terms"/>) from the workspace's decoder output and input into its terms, a range at a time.</summary>
    private sealed class KindTermsEpilogue(float[] decoded, float[] x, float[] terms) : OutputEpilogue
    {
        /// <summary>The kind of the current row.</summary>
        public ScoreKindModel? Kind { get; set; }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void Run(int start, int end) =>
            Kind!.Terms(decoded.AsSpan(start, end - start), x.AsSpan(start, end - start), terms.AsSpan(start, end - start), start);
    }

    /// <summary>Frees the per-thread buffers (the shared helper thread stays for other scorers).</summary>
    public void Dispose() => _workspaces.Dispose();

    /// <summary>
    /// One thread's buffers: two for the hidden layers in turn, the input in the network's space, μ, log σ², the decoder's
    /// output and the kind's terms (with the epilogue that computes them).
    /// </summary>
    private sealed class Workspace
    {
        public Workspace(int widest, int inputWidth, int latent)
        {
            A = new float[widest];
            B = new float[widest];
            Input = new float[inputWidth];
            Mean = new float[latent];
            LogVariance = new float[latent];
            Decoded = new float[inputWidth];
            Terms = new float[inputWidth];
            TermsEpilogue = new KindTermsEpilogue(Decoded, Input, Terms);
        }

        public readonly float[] A, B, Input, Mean, LogVariance, Decoded, Terms;
        public readonly KindTermsEpilogue TermsEpilogue;
    }
}
