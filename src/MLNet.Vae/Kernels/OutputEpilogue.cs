namespace MLNet.Vae.Kernels;

/// <summary>
/// Element-wise work on a range of a layer's outputs, run by the core that computed them, right after (see
/// <see cref="LayerSplitter"/>): a split layer's two halves then need no second pass over the whole output on one core.
/// </summary>
internal abstract class OutputEpilogue
{
    /// <summary>Processes outputs [<paramref name="start"/>, <paramref name="end"/>), which are computed and final.</summary>
    public abstract void Run(int start, int end);
}
