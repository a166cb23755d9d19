using System.Runtime.InteropServices;

namespace MLNet.Vae.Platform;

/// <summary>
/// Turns off libtorch's oneDNN (MKL-DNN) convolutions for the process, so that convolutions run on ATen's own
/// im2col + GEMM path. Measured on this project's 2-core AMD EPYC (Zen 5) machines with TorchSharp-cpu 0.107 (libtorch 2.10,
/// oneDNN 3.7.1): with 2 threads, oneDNN's convolution kernels gave NaN outputs and gradients from finite weights and inputs
/// within a few training steps (also with ONEDNN_MAX_CPU_ISA=AVX2), and transposed convolutions returned wrong shapes; with
/// 1 thread, or with oneDNN off, 2000 steps stayed finite and shapes were right. TorchSharp does not expose
/// <c>at::Context::setUserEnabledMkldnn</c>, so it is called by its exported C++ name. See docs/images.md.
/// </summary>
internal static partial class OneDnnSwitch
{
    private static readonly Lazy<bool> Disabled = new(DisableNow);

    /// <summary>Disables oneDNN once per process; true when it is off afterwards.</summary>
    public static bool EnsureDisabled() => Disabled.Value;

    private static bool DisableNow()
    {
        try
        {
            var context = GlobalContext();
            SetUserEnabledMkldnn(context, false);
            return !UserEnabledMkldnn(context);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Another libtorch build (not the one TorchSharp-cpu ships): leave it as it is.
            return false;
        }
    }

    [LibraryImport("libtorch_cpu.so", EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport("libtorch_cpu.so", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static partial void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    [LibraryImport("libtorch_cpu.so", EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool UserEnabledMkldnn(IntPtr context);
}
