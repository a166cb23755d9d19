namespace MLNet.Vae;

/// <summary>The encoder and decoder networks.</summary>
public enum VaeArchitecture
{
    /// <summary>Fully connected layers (<see cref="VaeOptions.HiddenLayerSizes"/>); for any vector.</summary>
    Mlp,

    /// <summary>
    /// For images: stride-2 4×4 convolutions down (<see cref="VaeOptions.ConvolutionChannels"/>, each halving height and width),
    /// linear heads for μ and log σ², and the mirror image up with stride-2 transposed convolutions. Needs the image shape
    /// (<see cref="VaeOptions.ImageShape"/>, or a feature column with (C, H, W) dimensions as ImageAnalytics makes it).
    /// </summary>
    Convolutional,
}
