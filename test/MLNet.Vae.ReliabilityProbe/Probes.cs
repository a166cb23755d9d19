namespace MLNet.Vae.ReliabilityProbe;

/// <summary>Every probe by name. Each throws <see cref="ProbeFailure"/> (or anything else) when the library misbehaves.</summary>
internal static class Probes
{
    public static readonly IReadOnlyDictionary<string, Action<string[]>> All = new Dictionary<string, Action<string[]>>
    {
        ["gc-stress"] = args => GarbageCollectionProbe.Run(Seconds(args, 15)),
        ["dispose-under-load"] = args => DisposeProbe.Run(Count(args, 10)),
        ["out-of-domain"] = _ => OutOfDomainProbe.Run(),
        ["read-once"] = _ => ReadOnceProbe.Run(),
        ["model-files"] = args => ModelFileProbe.Run(Count(args, 400), seed: args.Length > 1 ? int.Parse(args[1]) : 1),
        ["untrusted-streams"] = _ => ModelFileProbe.RunStreams(),
        ["fuzz-at-scale"] = args => FuzzAtScaleProbe.Run(Count(args, 10_000)),
        ["cancellation"] = _ => CancellationProbe.Run(),
        ["limits"] = _ => LimitsProbe.Run(),
        ["memory-limit"] = _ => LimitsProbe.RunMemoryLimit(),
        ["side-effects"] = _ => SideEffectsProbe.Run(),
        ["concurrency"] = _ => ConcurrencyProbe.Run(),
        ["mkl-dispatch"] = _ => MklDispatchProbe.Run(),
        ["mkl-dispatch-too-late"] = _ => MklDispatchProbe.RunAfterAnEarlierProduct(),
    };

    private static double Seconds(string[] args, double fallback) => args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    private static int Count(string[] args, int fallback) => args.Length > 0 ? int.Parse(args[0]) : fallback;
}
