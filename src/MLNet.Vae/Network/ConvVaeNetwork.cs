using TorchSharp.Modules;
using static TorchSharp.torch;
using MLNet.Vae.Platform;

namespace MLNet.Vae.Network;

/// <summary>
/// A convolutional VAE for images of shape (C, H, W), rows flattened in CHW order.
/// The image is first zero-padded at the bottom and right to sides that are multiples of 2ᵏ, so that each of the k stride-2
/// 4×4 convolutions (padding 1) halves the sides exactly and each stride-2 4×4 transposed convolution doubles them exactly;
/// the decoder's output is cropped back to H × W. Odd sides therefore need no output padding (TorchSharp 0.107 applied the
/// first value of a per-dimension output padding to both sides: a 7×9 image came back 7×11).
/// Encoder: the convolutions with ReLU, then linear heads for μ and log σ². Decoder: a linear layer with ReLU back to the
/// last feature map, then the transposed convolutions (ReLU between them); the last emits C channels of logits or
/// standardized means, unactivated. oneDNN is turned off for the process first (see <see cref="OneDnnSwitch"/>).
/// </summary>
internal sealed class ConvVaeNetwork : VaeNetwork
{
    internal const int Kernel = 4;
    private const int Stride = 2;
    private const int Padding = 1;

    private readonly Sequential _encoderConvolutions;
    private readonly Linear _mean;
    private readonly Linear _logVariance;
    private readonly Linear _decoderInput;
    private readonly Sequential _decoderConvolutions;
    private readonly long[] _featureMap;
    private readonly int _paddedHeight;
    private readonly int _paddedWidth;

    public ConvVaeNetwork(VaeNetworkSpec spec) : base(nameof(ConvVaeNetwork), spec)
    {
        OneDnnSwitch.EnsureDisabled();
        var shape = spec.ImageShape!;
        var channels = spec.ConvolutionChannels;
        long flat = FlatFeatureCount(spec);
        int factor = 1 << channels.Length;
        _paddedHeight = (shape.Height + factor - 1) / factor * factor;
        _paddedWidth = (shape.Width + factor - 1) / factor * factor;

        var encoder = new List<(string, nn.Module<Tensor, Tensor>)>();
        int inChannels = shape.Channels;
        for (int i = 0; i < channels.Length; i++)
        {
            encoder.Add((ParameterNames.Convolution(i), nn.Conv2d(inChannels, channels[i], Kernel, stride: Stride, padding: Padding)));
            encoder.Add((ParameterNames.Relu(i), nn.ReLU()));
            inChannels = channels[i];
        }
        _encoderConvolutions = nn.Sequential(encoder);
        _featureMap = [channels[^1], _paddedHeight / factor, _paddedWidth / factor];
        _mean = nn.Linear(flat, spec.LatentDimension);
        _logVariance = nn.Linear(flat, spec.LatentDimension);
        _decoderInput = nn.Linear(spec.LatentDimension, flat);

        var decoder = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = channels.Length - 1; i >= 0; i--)
        {
            int outChannels = i == 0 ? shape.Channels : channels[i - 1];
            decoder.Add((ParameterNames.TransposedConvolution(channels.Length - 1 - i), nn.ConvTranspose2d(channels[i], outChannels, Kernel, stride: Stride, padding: Padding)));
            if (i > 0) decoder.Add((ParameterNames.Relu(channels.Length - 1 - i), nn.ReLU()));
        }
        _decoderConvolutions = nn.Sequential(decoder);

        RegisterComponents();
    }

    /// <summary>
    /// The size of the last feature map, flattened: channels × ⌈H / 2ᵏ⌉ × ⌈W / 2ᵏ⌉ for k convolutions. Throws when the
    /// image has no shape or its sides are too small for k halvings.
    /// </summary>
    public static long FlatFeatureCount(VaeNetworkSpec spec)
    {
        var shape = spec.ImageShape ?? throw new ArgumentException("The convolutional network needs an image shape.", nameof(spec));
        var channels = spec.ConvolutionChannels;
        int factor = channels.Length > 16 ? int.MaxValue : 1 << channels.Length;
        if (channels.Length > 16 || shape.Height < factor / 2 || shape.Width < factor / 2)
        {
            throw new ArgumentOutOfRangeException(nameof(spec),
                $"{channels.Length} stride-2 convolutions need image sides of at least {Math.Max(1, factor / 2)} pixels, or the {shape.Height}x{shape.Width} " +
                "image would be mostly padding: use fewer ConvolutionChannels.");
        }
        return (long)channels[^1] * ((shape.Height + factor - 1) / factor) * ((shape.Width + factor - 1) / factor);
    }

    public override (Tensor Mean, Tensor LogVariance) Encode(Tensor x)
    {
        var shape = Spec.ImageShape!;
        using var images = x.view(-1, shape.Channels, shape.Height, shape.Width);
        using var padded = nn.functional.pad(images, [0, _paddedWidth - shape.Width, 0, _paddedHeight - shape.Height]);
        using var features = _encoderConvolutions.forward(padded);
        using var flat = features.flatten(1);
        using var logVariance = _logVariance.forward(flat);
        return (_mean.forward(flat), ClampLogVariance(logVariance));
    }

    public override Tensor Decode(Tensor z)
    {
        using var hidden = _decoderInput.forward(z);
        using var activated = nn.functional.relu(hidden);
        using var map = activated.view(-1, _featureMap[0], _featureMap[1], _featureMap[2]);
        using var images = _decoderConvolutions.forward(map);
        var shape = Spec.ImageShape!;
        using var cropped = images.narrow(2, 0, shape.Height).narrow(3, 0, shape.Width);
        return cropped.flatten(1);
    }
}
