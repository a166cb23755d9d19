using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using TorchSharp;

namespace MLNet.Vae.Platform;

/// <summary>
/// Lets the Intel MKL inside libtorch run its AVX-512 kernels on AMD CPUs that have AVX-512. MKL asks
/// <c>mkl_serv_intel_cpu_true()</c> whether the CPU may take its Intel code paths; on AMD the answer is 0 and sgemm stays on
/// AVX2: measured on a 2-core AMD EPYC, a 512×784 by 784×400 product ran at 204 GFLOP/s as shipped and 474 GFLOP/s with the
/// answer 1, and a training step of the 784-400-20 network fell from 4.45 to 2.85 ms
/// (docs/design/performance.md).
/// </summary>
/// <remarks>
/// <para>libtorch_cpu.so calls that function through its own global offset table; <see cref="EnsureConfigured"/> points
/// that one slot at a six-byte function returning 1 (<c>mov eax, 1; ret</c>, in a page of its own that is executable and not
/// writable). Nothing on disk changes, no other library is affected, and it happens once per process, before this library
/// builds its first network, since MKL keeps its answer once it has asked. Afterwards it reads MKL's kernel choice back, so
/// that a host whose own TorchSharp product came first is told "too late" instead of "applied".</para>
/// <para>The switch: the environment variable <c>MLNET_VAE_MKL_CPU_DISPATCH</c> = <c>auto</c> (default: only on x86-64 CPUs
/// whose vendor is AMD and that report AVX-512 F, CD, BW, DQ and VL, the sets MKL's AVX-512 kernels use), <c>off</c> (never),
/// or <c>always</c> (any x86-64 CPU with those sets; on Intel CPUs it changes nothing, which makes the mechanism testable
/// there).</para>
/// </remarks>
internal static unsafe partial class MklCpuDispatch
{
    /// <summary>The environment variable that turns the redirection off (<c>off</c>) or forces it (<c>always</c>).</summary>
    public const string SwitchVariable = "MLNET_VAE_MKL_CPU_DISPATCH";
    private const string Library = "libtorch_cpu.so";
    private const string Symbol = "mkl_serv_intel_cpu_true";
    private static readonly Lazy<string> Outcome = new(Configure, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Applies the redirection once per process, where the switch and the CPU allow it.</summary>
    public static void EnsureConfigured() => _ = Outcome.Value;

    /// <summary>What <see cref="EnsureConfigured"/> did, in words (for logs and the benchmark).</summary>
    public static string Description => Outcome.Value;

    /// <summary>Whether libtorch's MKL now takes its Intel code paths because of this class.</summary>
    public static bool Applied => Outcome.Value.StartsWith("applied", StringComparison.Ordinal);

    /// <summary>Whether the redirection was made but MKL had already chosen its kernels (a product ran before it).</summary>
    public static bool TooLate => Outcome.Value.StartsWith("too late", StringComparison.Ordinal);

    private static string Configure()
    {
        string setting = (Environment.GetEnvironmentVariable(SwitchVariable) ?? "auto").Trim().ToLowerInvariant();
        if (setting == "off") return $"off ({SwitchVariable}=off)";
        if (setting is not ("auto" or "always" or ""))
            return $"not applied: {SwitchVariable}={setting} is not one of auto, off, always";
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64 || !OperatingSystem.IsLinux())
            return "not needed: not Linux on x86-64";
        bool avx512 = Avx512F.IsSupported && Avx512CD.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported;
        if (!avx512) return "not needed: the CPU has no AVX-512 for MKL to use";
        string vendor = CpuVendor();
        if (setting != "always" && vendor != "AuthenticAMD") return $"not needed: {vendor} CPU (MKL already chooses its own kernels)";

        torch.InitializeDeviceType(DeviceType.CPU);
        var slots = ImportSlots.Find(Library, Symbol, out string whyNot);
        if (slots is null) return $"not applied: {whyNot}";
        if (slots.Count == 0) return $"not applied: {Library} does not call {Symbol} through its offset table";
        nint answerYes = AnswerOne();
        if (!slots.Redirect(answerYes)) return $"not applied: {Symbol}'s slot was already redirected by something else";
        // MKL asks once and keeps the answer: a product run earlier in the process fixed its kernels before the redirection.
        int? kernels = KernelClass(slots.Library);
        if (kernels < AvxFiveTwelveKernels)
            return $"too late: MKL chose its kernels (class {kernels}, not AVX-512) at a matrix product TorchSharp ran before " +
                   "MLNet.Vae's first network in this process. Products stay on the slower AVX2 path; results are unchanged. To get " +
                   "the AVX-512 kernels, fit or load a VAE before any other TorchSharp product in the process.";
        return $"applied on {vendor} ({slots.Count} slot(s) of {Symbol} in {slots.Library}; MKL kernel class {kernels?.ToString() ?? "not readable"})";
    }

    /// <summary>
    /// MKL's CPU class for its kernels, as <c>mkl_serv_cpu_detect</c> reports it (its first answer, kept for the process):
    /// 7 and above are the AVX-512 kernels (measured here: 7 with the redirection in place, 0 on AMD without it).
    /// </summary>
    private const int AvxFiveTwelveKernels = 7;

    private static int? KernelClass(string library)
    {
        nint handle = NativeLibrary.Load(library);
        try
        {
            if (!NativeLibrary.TryGetExport(handle, "mkl_serv_cpu_detect", out nint detect)) return null;
            return ((delegate* unmanaged<int, int>)detect)(0);
        }
        finally
        {
            NativeLibrary.Free(handle);
        }
    }

    /// <summary>The CPUID vendor string, e.g. AuthenticAMD or GenuineIntel.</summary>
    private static string CpuVendor()
    {
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        Span<int> words = [ebx, edx, ecx];
        return System.Text.Encoding.ASCII.GetString(MemoryMarshal.AsBytes(words));
    }

    /// <summary>A native function <c>int f(void)</c> returning 1, in a page that is executable and never writable again.</summary>
    private static nint AnswerOne()
    {
        const int read = 1, write = 2, execute = 4, mapPrivate = 0x02, mapAnonymous = 0x20;
        nint page = MMap(0, Environment.SystemPageSize, read | write, mapPrivate | mapAnonymous, -1, 0);
        if (page == -1) throw new InvalidOperationException($"mmap failed (errno {Marshal.GetLastPInvokeError()}).");
        ReadOnlySpan<byte> movEaxOneRet = [0xB8, 0x01, 0x00, 0x00, 0x00, 0xC3];
        movEaxOneRet.CopyTo(new Span<byte>((void*)page, movEaxOneRet.Length));
        if (ImportSlots.MProtect(page, Environment.SystemPageSize, read | execute) != 0)
            throw new InvalidOperationException($"mprotect failed (errno {Marshal.GetLastPInvokeError()}).");
        return page;
    }

    [LibraryImport("libc.so.6", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint MMap(nint address, nint length, int protection, int flags, int fd, nint offset);
}
