using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.Vae.Network;

/// <summary>
/// A convolutional VAE for images of shape (C, H, W), rows flattened in CHW order.
/// Encoder: k stride-2 4×4 convolutions with padding 1 (each maps a side s to ⌊s/2⌋) and ReLU, then linear heads for μ and
/// log σ². Decoder: a linear layer with ReLU back to the last feature map, then k stride-2 4×4 transposed convolutions
/// (ReLU between them) whose output padding (0 or 1) restores each side exactly, odd sides included; the last one emits C
/// channels of logits or standardized means, unactivated.
/// </summary>
internal sealed class ConvVaeNetwork : VaeNetwork
{
    private const int Kernel = 4;
    private const int Stride = 2;
    private const int Padding = 1;

    private readonly Sequential _encoderConvolutions;
    private readonly Linear _mean;
    private readonly Linear _logVariance;
    private readonly Linear _decoderInput;
    private readonly Sequential _decoderConvolutions;
    private readonly long[] _featureMap;

    public ConvVaeNetwork(VaeNetworkSpec spec) : base(nameof(ConvVaeNetwork), spec)
    {
        var shape = spec.ImageShape ?? throw new ArgumentException("The convolutional network needs an image shape.", nameof(spec));
        var channels = spec.ConvolutionChannels;
        var heights = new int[channels.Length + 1];
        var widths = new int[channels.Length + 1];
        heights[0] = shape.Height;
        widths[0] = shape.Width;
        for (int i = 0; i < channels.Length; i++)
        {
            heights[i + 1] = heights[i] / Stride;
            widths[i + 1] = widths[i] / Stride;
        }
        if (heights[^1] < 1 || widths[^1] < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(spec),
                $"{channels.Length} stride-2 convolutions shrink a {shape.Height}x{shape.Width} image below one pixel: use fewer ConvolutionChannels.");
        }

        var encoder = new List<(string, nn.Module<Tensor, Tensor>)>();
        int inChannels = shape.Channels;
        for (int i = 0; i < channels.Length; i++)
        {
            encoder.Add(($"conv{i}", nn.Conv2d(inChannels, channels[i], Kernel, stride: Stride, padding: Padding)));
            encoder.Add(($"relu{i}", nn.ReLU()));
            inChannels = channels[i];
        }
        _encoderConvolutions = nn.Sequential(encoder);
        _featureMap = [channels[^1], heights[^1], widths[^1]];
        int flat = channels[^1] * heights[^1] * widths[^1];
        _mean = nn.Linear(flat, spec.LatentDimension);
        _logVariance = nn.Linear(flat, spec.LatentDimension);
        _decoderInput = nn.Linear(spec.LatentDimension, flat);

        var decoder = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = channels.Length - 1; i >= 0; i--)
        {
            int outChannels = i == 0 ? shape.Channels : channels[i - 1];
            // A stride-2 transposed convolution maps a side s to 2s + output padding: pick the padding that restores the encoder's side.
            long outputPadding = heights[i] - 2L * heights[i + 1];
            long outputPaddingWidth = widths[i] - 2L * widths[i + 1];
            decoder.Add(($"deconv{channels.Length - 1 - i}", nn.ConvTranspose2d(channels[i], outChannels, (Kernel, Kernel),
                stride: (Stride, Stride), padding: (Padding, Padding), output_padding: (outputPadding, outputPaddingWidth))));
            if (i > 0) decoder.Add(($"relu{channels.Length - 1 - i}", nn.ReLU()));
        }
        _decoderConvolutions = nn.Sequential(decoder);

        RegisterComponents();
    }

    public override (Tensor Mean, Tensor LogVariance) Encode(Tensor x)
    {
        var shape = Spec.ImageShape!;
        using var images = x.view(-1, shape.Channels, shape.Height, shape.Width);
        using var features = _encoderConvolutions.forward(images);
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
        return images.flatten(1);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _encoderConvolutions.Dispose();
            _mean.Dispose();
            _logVariance.Dispose();
            _decoderInput.Dispose();
            _decoderConvolutions.Dispose();
        }
        base.Dispose(disposing);
    }
}
