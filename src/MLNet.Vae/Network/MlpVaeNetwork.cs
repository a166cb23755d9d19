using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.Vae.Network;

/// <summary>
/// A multilayer-perceptron VAE: encoder d → h₁ → … → hₖ → (μ, log σ²) of size L, decoder L → hₖ → … → h₁ → d.
/// Hidden layers use ReLU; the two encoder heads and the decoder's output layer are linear, because μ and log σ² are
/// unbounded and the decoder emits logits (Bernoulli) or a standardized mean (Gaussian): a ReLU there would clip them.
/// </summary>
internal sealed class MlpVaeNetwork : VaeNetwork
{
    private readonly Sequential _encoderBody;
    private readonly Linear _mean;
    private readonly Linear _logVariance;
    private readonly Sequential _decoder;

    public MlpVaeNetwork(VaeNetworkSpec spec) : base(nameof(MlpVaeNetwork), spec)
    {
        var hidden = spec.HiddenSizes;
        var encoderLayers = new List<(string, nn.Module<Tensor, Tensor>)>();
        int width = spec.InputWidth;
        for (int i = 0; i < hidden.Length; i++)
        {
            encoderLayers.Add((ParameterNames.Linear(i), nn.Linear(width, hidden[i])));
            encoderLayers.Add((ParameterNames.Relu(i), nn.ReLU()));
            width = hidden[i];
        }
        _encoderBody = nn.Sequential(encoderLayers);
        _mean = nn.Linear(width, spec.LatentDimension);
        _logVariance = nn.Linear(width, spec.LatentDimension);

        var decoderLayers = new List<(string, nn.Module<Tensor, Tensor>)>();
        width = spec.LatentDimension;
        for (int i = hidden.Length - 1; i >= 0; i--)
        {
            decoderLayers.Add((ParameterNames.Linear(hidden.Length - 1 - i), nn.Linear(width, hidden[i])));
            decoderLayers.Add((ParameterNames.Relu(hidden.Length - 1 - i), nn.ReLU()));
            width = hidden[i];
        }
        decoderLayers.Add((ParameterNames.Output, nn.Linear(width, spec.InputWidth)));
        _decoder = nn.Sequential(decoderLayers);

        RegisterComponents();
    }

    public override (Tensor Mean, Tensor LogVariance) Encode(Tensor x)
    {
        using var hidden = _encoderBody.forward(x);
        using var logVariance = _logVariance.forward(hidden);
        return (_mean.forward(hidden), ClampLogVariance(logVariance));
    }

    public override Tensor Decode(Tensor z) => _decoder.forward(z);
}
