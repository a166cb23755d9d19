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
internal sealed record VaeNetworkSpec(
    VaeArchitecture Architecture,
    int InputWidth,
    int LatentDimension,
    int[] HiddenSizes,
    VaeImageShape? ImageShape,
    int[] ConvolutionChannels,
    double LogVarianceLimit)
{
    public VaeNetwork Build() => Architecture switch
    {
        VaeArchitecture.Convolutional => new ConvVaeNetwork(this),
        _ => new MlpVaeNetwork(this),
    };

    /// <summary>"784-400-20" or "conv 1x28x28-32-64-20": the shape, for logs and reports.</summary>
    public string Describe() => Architecture == VaeArchitecture.Convolutional
        ? $"conv {ImageShape!.Channels}x{ImageShape.Height}x{ImageShape.Width}-{string.Join("-", ConvolutionChannels)}-{LatentDimension}"
        : $"{InputWidth}-{string.Join("-", HiddenSizes)}-{LatentDimension}";
}
