using MLNet.Vae.Platform;
using MLNet.Vae.Tensors;
using TorchSharp;

namespace MLNet.Vae.Network;

/// <summary>
/// Everything needed to build a network: saved with a model, so loading rebuilds the same shapes before reading weights.
/// </summary>
/// <param name="Architecture">MLP or convolutional.</param>
/// <param name="InputWidth">d, the row width.</param>
/// <param name="LatentDimension">L.</param>
/// <param name="HiddenSizes">MLP hidden widths, input side first (empty for the convolutional network).</param>
/// <param name="ImageShape">(C, H, W) of the rows, for the convolutional network.</param>
/// <param name="ConvolutionChannels">Channels of each stride-2 convolution, input side first (convolutional network).</param>
/// <param name="LogVarianceLimit">log σ² is clamped to ±this.</param>
/// <param name="PriorComponents">0: the prior is N(0, I); K ≥ 1: a learned mixture of K diagonal Gaussians (<see cref="VaeNetwork.LogPrior"/>).</param>
internal sealed record VaeNetworkSpec(
    VaeArchitecture Architecture,
    int InputWidth,
    int LatentDimension,
    int[] HiddenSizes,
    VaeImageShape? ImageShape,
    int[] ConvolutionChannels,
    double LogVarianceLimit,
    int PriorComponents = 0)
{
    private static readonly object GlobalGeneratorLock = new();

    /// <summary>
    /// Builds the network. TorchSharp's layers draw their default initial weights from libtorch's process-wide generator;
    /// its state is restored afterwards, so building (in Fit, Load or WithThreshold) never changes what the host draws.
    /// Fit then draws the weights it trains from its own generator (<see cref="VaeNetwork.Initialize"/>).
    /// </summary>
    public VaeNetwork Build()
    {
        // Before the network's first product: MKL keeps the answer of its first CPU check.
        TorchSharpNative.EnsureReady();
        lock (GlobalGeneratorLock)
        {
            using var hostState = torch.random.get_rng_state();
            try
            {
                return Architecture switch
                {
                    VaeArchitecture.Convolutional => new ConvVaeNetwork(this),
                    VaeArchitecture.Mlp => new MlpVaeNetwork(this),
                    _ => throw new ArgumentOutOfRangeException(nameof(Architecture), $"Architecture {(int)Architecture} is not a VaeArchitecture value."),
                };
            }
            finally
            {
                torch.random.set_rng_state(hostState);
            }
        }
    }

    /// <summary>
    /// The name and shape of every weight the built network holds, in its order, computed without building it: loading
    /// checks a file against it and Fit checks the size against <see cref="MaximumParameters"/> before any native memory
    /// is reserved. <c>NetworkSpecTests</c> holds it equal to the built networks' parameters.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A shape does not fit in 64 bits or the convolutions cannot take the image.</exception>
    public IReadOnlyList<(string Name, long[] Shape)> ParameterShapes()
    {
        var shapes = new List<(string, long[])>();
        // The mixture prior's parameters come first: the base network registers them before the layers.
        if (PriorComponents > 0)
        {
            shapes.Add((VaeNetwork.PriorMeansName, [PriorComponents, LatentDimension]));
            shapes.Add((VaeNetwork.PriorLogVariancesName, [PriorComponents, LatentDimension]));
            shapes.Add((VaeNetwork.PriorLogitsName, [PriorComponents]));
        }
        void Linear(string name, long inputs, long outputs)
        {
            shapes.Add((ParameterNames.Weight(name), [outputs, inputs]));
            shapes.Add((ParameterNames.Bias(name), [outputs]));
        }
        if (Architecture == VaeArchitecture.Convolutional)
        {
            var (channels, flat) = (ConvolutionChannels, ConvVaeNetwork.FlatFeatureCount(this));
            long inChannels = ImageShape!.Channels;
            for (int i = 0; i < channels.Length; i++)
            {
                string convolution = ParameterNames.Child(ParameterNames.EncoderConvolutions, ParameterNames.Convolution(i));
                shapes.Add((ParameterNames.Weight(convolution), [channels[i], inChannels, ConvVaeNetwork.Kernel, ConvVaeNetwork.Kernel]));
                shapes.Add((ParameterNames.Bias(convolution), [channels[i]]));
                inChannels = channels[i];
            }
            Linear(ParameterNames.Mean, flat, LatentDimension);
            Linear(ParameterNames.LogVariance, flat, LatentDimension);
            Linear(ParameterNames.DecoderInput, LatentDimension, flat);
            for (int i = channels.Length - 1, layer = 0; i >= 0; i--, layer++)
            {
                long outChannels = i == 0 ? ImageShape.Channels : channels[i - 1];
                string transposed = ParameterNames.Child(ParameterNames.DecoderConvolutions, ParameterNames.TransposedConvolution(layer));
                shapes.Add((ParameterNames.Weight(transposed), [channels[i], outChannels, ConvVaeNetwork.Kernel, ConvVaeNetwork.Kernel]));
                shapes.Add((ParameterNames.Bias(transposed), [outChannels]));
            }
            return shapes;
        }
        var layers = ParameterNames.MlpLayers(HiddenSizes.Length);
        long width = InputWidth;
        for (int i = 0; i < HiddenSizes.Length; i++)
        {
            Linear(layers.Encoder[i], width, HiddenSizes[i]);
            width = HiddenSizes[i];
        }
        Linear(layers.Mean, width, LatentDimension);
        Linear(layers.LogVariance, width, LatentDimension);
        width = LatentDimension;
        for (int i = HiddenSizes.Length - 1, layer = 0; i >= 0; i--, layer++)
        {
            Linear(layers.Decoder[layer], width, HiddenSizes[i]);
            width = HiddenSizes[i];
        }
        Linear(layers.Decoder[^1], width, InputWidth);
        return shapes;
    }

    /// <summary>The number of weights, Σ over <see cref="ParameterShapes"/> of the product of each shape (checked).</summary>
    public long ParameterCount() => ParameterShapes().Sum(p => p.Shape.Aggregate(1L, (product, d) => checked(product * d)));

    /// <summary>
    /// The largest network the library builds: 2²⁸ weights (1 GiB of float32; training holds four times that with the
    /// gradients and Adam's two moments). Wider data should use the convolutional network or smaller hidden layers.
    /// </summary>
    public const long MaximumParameters = 1L << 28;

    /// <summary>"784-400-20" or "conv 1x28x28-32-64-20": the shape, for logs and reports.</summary>
    public string Describe() => Architecture == VaeArchitecture.Convolutional
        ? $"conv {ImageShape!.Channels}x{ImageShape.Height}x{ImageShape.Width}-{string.Join("-", ConvolutionChannels)}-{LatentDimension}"
        : $"{InputWidth}-{string.Join("-", HiddenSizes)}-{LatentDimension}";
}
