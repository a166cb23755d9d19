using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.Vae.Network;

/// <summary>
/// A multilayer-perceptron VAE: encoder d → h₁ → … → hₖ → (μ, log σ²) of size L, decoder L → hₖ → … → h₁ → d.
/// Hidden layers use ReLU; the two encoder heads and the decoder's output layer are linear, because μ and log σ² are
/// unbounded and the decoder emits logits (Bernoulli) or a standardized mean (Gaussian): a ReLU there would clip them.
/// The log-variance head is clamped to [−limit, limit] so that exp(log σ²) stays finite. It knows nothing of ML.NET.
/// </summary>
internal sealed class MlpVaeNetwork : nn.Module
{
    private readonly Sequential _encoderBody;
    private readonly Linear _mean;
    private readonly Linear _logVariance;
    private readonly Sequential _decoder;

    public MlpVaeNetwork(int inputWidth, IReadOnlyList<int> hiddenSizes, int latentDimension, double logVarianceLimit) : base(nameof(MlpVaeNetwork))
    {
        InputWidth = inputWidth;
        LogVarianceLimit = logVarianceLimit;
        LatentDimension = latentDimension;
        HiddenSizes = hiddenSizes.ToArray();

        var encoderLayers = new List<(string, nn.Module<Tensor, Tensor>)>();
        int width = inputWidth;
        for (int i = 0; i < HiddenSizes.Count; i++)
        {
            encoderLayers.Add(($"linear{i}", nn.Linear(width, HiddenSizes[i])));
            encoderLayers.Add(($"relu{i}", nn.ReLU()));
            width = HiddenSizes[i];
        }
        _encoderBody = nn.Sequential(encoderLayers);
        _mean = nn.Linear(width, latentDimension);
        _logVariance = nn.Linear(width, latentDimension);

        var decoderLayers = new List<(string, nn.Module<Tensor, Tensor>)>();
        width = latentDimension;
        for (int i = HiddenSizes.Count - 1; i >= 0; i--)
        {
            decoderLayers.Add(($"linear{HiddenSizes.Count - 1 - i}", nn.Linear(width, HiddenSizes[i])));
            decoderLayers.Add(($"relu{HiddenSizes.Count - 1 - i}", nn.ReLU()));
            width = HiddenSizes[i];
        }
        decoderLayers.Add(("output", nn.Linear(width, inputWidth)));
        _decoder = nn.Sequential(decoderLayers);

        RegisterComponents();
    }

    public int InputWidth { get; }

    public int LatentDimension { get; }

    public IReadOnlyList<int> HiddenSizes { get; }

    public double LogVarianceLimit { get; }

    /// <summary>The posterior q(z | x) = N(μ, diag(exp(log σ²))) of a batch x of shape [n, d].</summary>
    public (Tensor Mean, Tensor LogVariance) Encode(Tensor x)
    {
        using var hidden = _encoderBody.forward(x);
        using var logVariance = _logVariance.forward(hidden);
        return (_mean.forward(hidden), logVariance.clamp(-LogVarianceLimit, LogVarianceLimit));
    }

    /// <summary>The decoder's raw output for latent codes z of shape [n, L]: logits (Bernoulli) or standardized means (Gaussian).</summary>
    public Tensor Decode(Tensor z) => _decoder.forward(z);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _encoderBody.Dispose();
            _mean.Dispose();
            _logVariance.Dispose();
            _decoder.Dispose();
        }
        base.Dispose(disposing);
    }
}
