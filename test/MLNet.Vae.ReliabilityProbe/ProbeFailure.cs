namespace MLNet.Vae.ReliabilityProbe;

/// <summary>What a probe found wrong. Any other exception escaping a probe is a failure too (the process exits non-zero).</summary>
internal sealed class ProbeFailure(string message) : Exception(message)
{
    public static void Unless(bool condition, string message)
    {
        if (!condition) throw new ProbeFailure(message);
    }
}
