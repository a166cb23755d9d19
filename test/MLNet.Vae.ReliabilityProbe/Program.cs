using MLNet.Vae.ReliabilityProbe;

// Usage: MLNet.Vae.ReliabilityProbe <probe> [arguments]; see Probes.All for the list.
if (args.Length == 0 || !Probes.All.TryGetValue(args[0], out var probe))
{
    Console.Error.WriteLine($"usage: MLNet.Vae.ReliabilityProbe <{string.Join(" | ", Probes.All.Keys)}> [arguments]");
    return 2;
}
try
{
    probe(args[1..]);
    Console.WriteLine($"{args[0]}: held");
    return 0;
}
catch (ProbeFailure failure)
{
    Console.WriteLine($"{args[0]}: FAILED: {failure.Message}");
    return 1;
}
