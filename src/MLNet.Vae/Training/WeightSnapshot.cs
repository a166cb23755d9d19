using MLNet.Vae.Network;
using static TorchSharp.torch;

namespace MLNet.Vae.Training;

/// <summary>A copy of a network's weights (for early stopping's "restore the best epoch"). Owns native memory.</summary>
internal sealed class WeightSnapshot : IDisposable
{
    private readonly Dictionary<string, Tensor> _weights = new(StringComparer.Ordinal);

    public WeightSnapshot(VaeNetwork network) => Take(network);

    /// <summary>Replaces the stored copy with the network's current weights.</summary>
    public void Take(VaeNetwork network)
    {
        Dispose();
        using var noGrad = no_grad();
        foreach (var (name, parameter) in network.named_parameters())
            _weights[name] = parameter.detach().clone().DetachFromDisposeScope();
    }

    /// <summary>Writes the stored weights back into the network.</summary>
    public void Restore(VaeNetwork network)
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in network.named_parameters())
            parameter.copy_(_weights[name]);
    }

    public void Dispose()
    {
        foreach (var weight in _weights.Values) weight.Dispose();
        _weights.Clear();
    }
}
