namespace MLNet.Vae.Tests.Reliability;

/// <summary>
/// Runs each reliability probe (test/MLNet.Vae.ReliabilityProbe) in a process of its own, so that a native crash, a hang
/// or an out-of-memory kill fails that test and not the whole run. docs/reliability.md states what each one guarantees.
/// </summary>
[TestClass]
public sealed class ReliabilityTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    [TestMethod]
    public void FitAndScore_UnderForcedGarbageCollections_GiveTheSameNumbersAndNoError() => AssertHolds("gc-stress", "15");

    [TestMethod]
    public void Dispose_WhileFourThreadsScore_CompletesOrRefusesEveryCall() => AssertHolds("dispose-under-load", "10");

    [TestMethod]
    public void OutOfDomainRows_AreNeverNormal() => AssertHolds("out-of-domain");

    [TestMethod]
    public void ReadOnceAndChangingSources_KeepEachScoreWithItsRow() => AssertHolds("read-once");

    [TestMethod]
    public void DamagedAndCraftedModelFiles_LoadSoundlyOrThrowInvalidData() => AssertHolds("model-files", "400", "1");

    [TestMethod]
    public void HostileStreams_AreRefusedInBoundedMemory() => AssertHolds("untrusted-streams");

    [TestMethod]
    public void Fit_StopsOnCancellation() => AssertHolds("cancellation");

    [TestMethod]
    public void Limits_AreCheckedAtTheDoor() => AssertHolds("limits");

    [TestMethod]
    public void Fit_NeedingMoreMemoryThanTheProcessMayUse_IsRefusedBeforeTraining() =>
        AssertHolds(new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x20000000" }, "memory-limit");

    [TestMethod]
    public void FitAndSave_LeaveNoGlobalSideEffectsAndNoDamagedFile() => AssertHolds("side-effects");

    [TestMethod]
    public void SeededFit_IsDeterministicBesideConcurrentLoadsClonesAndSaves() => AssertHolds("concurrency");

    [TestMethod]
    public void MklCpuDispatch_WhenForced_GivesProductsAndATrainingStepEqualToFloat64()
    {
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) Assert.Inconclusive("The redirection needs a CPU with AVX-512.");
        AssertHolds(new Dictionary<string, string> { ["MLNET_VAE_MKL_CPU_DISPATCH"] = "always" }, "mkl-dispatch");
    }

    [TestMethod]
    public void MklCpuDispatch_AfterAnEarlierTorchSharpProduct_SaysTooLateAndWhatToDo()
    {
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported) Assert.Inconclusive("The redirection needs a CPU with AVX-512.");
        // On Intel CPUs MKL chooses its AVX-512 kernels by itself, so an earlier product leaves nothing to be too late for.
        if (!File.ReadAllText("/proc/cpuinfo").Contains("AuthenticAMD", StringComparison.Ordinal)) Assert.Inconclusive("Only on AMD CPUs can the redirection come too late.");
        AssertHolds(new Dictionary<string, string> { ["MLNET_VAE_MKL_CPU_DISPATCH"] = "always" }, "mkl-dispatch-too-late");
    }

    [TestMethod]
    public void MklCpuDispatch_SwitchedOff_LeavesLibtorchAsItIs()
    {
        var (exitCode, text) = ChildProcess.Run("MLNet.Vae.ReliabilityProbe", Limit, new Dictionary<string, string> { ["MLNET_VAE_MKL_CPU_DISPATCH"] = "off" }, "mkl-dispatch");
        StringAssert.Contains(text, "off (MLNET_VAE_MKL_CPU_DISPATCH=off)");
        Assert.AreEqual(1, exitCode, "the probe reports that the redirection is not applied");
    }

    private static void AssertHolds(params string[] arguments) => AssertHolds(new Dictionary<string, string>(), arguments);

    private static void AssertHolds(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var (exitCode, text) = ChildProcess.Run("MLNet.Vae.ReliabilityProbe", Limit, environment, arguments);
        Console.WriteLine(text);
        Assert.AreEqual(0, exitCode, $"probe '{arguments[0]}' exited with {exitCode} (1: a failure it found; other: the process died):\n{text}");
    }
}
