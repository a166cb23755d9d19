using TorchSharp;

namespace MLNet.Vae.Platform;

/// <summary>
/// Loads TorchSharp's native libraries once, before the library's first network, and turns a failure into a message that
/// says what to do. On Linux whose libstdc++ predates GCC 13 (Debian 12) libLibTorchSharp.so loads only once MLNet.Vae's
/// build fix has patched the copy in the application's output; TorchSharp then reports a misleading missing reference to
/// libtorch-cpu-linux-x64. The NuGet package applies the fix to every project that references it; a project that
/// references src/MLNet.Vae/MLNet.Vae.csproj directly gets no package targets and must import them (docs/design/torchsharp-loading.md).
/// </summary>
internal static class TorchSharpNative
{
    private static readonly Lazy<Exception?> Failure = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Throws <see cref="InvalidOperationException"/> with the way out when TorchSharp's native libraries do not load.</summary>
    public static void EnsureLoaded()
    {
        if (Failure.Value is { } failure) throw new InvalidOperationException(Advice(failure), failure);
    }

    /// <summary>
    /// <see cref="EnsureLoaded"/>, then MKL's CPU dispatch (<see cref="MklCpuDispatch.EnsureConfigured"/>): what must have
    /// happened before the library's first product, since MKL keeps the kernels it chooses at the first one.
    /// </summary>
    public static void EnsureReady()
    {
        EnsureLoaded();
        MklCpuDispatch.EnsureConfigured();
    }

    private static Exception? Load()
    {
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
            return null;
        }
        catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            return e;
        }
    }

    private static string Advice(Exception failure)
    {
        string reason = (failure.InnerException ?? failure).Message.Split('\n')[0];
        return $"TorchSharp's native library did not load ({reason}). On Linux whose libstdc++ is older than GCC 13 (Debian 12) it " +
               "loads only once MLNet.Vae's build fix has patched the copy in your build output. The MLNet.Vae NuGet package applies it " +
               "to every project that references it. A project that references src/MLNet.Vae/MLNet.Vae.csproj directly must add, besides " +
               "that ProjectReference: <ProjectReference Include=\"<repo>/src/MLNet.Vae.Build/MLNet.Vae.Build.csproj\" " +
               "ReferenceOutputAssembly=\"false\" Private=\"false\" /> and <Import Project=\"<repo>/src/MLNet.Vae.Build/build/MLNet.Vae.TorchSharpFix.targets\" /> " +
               "(docs/design/torchsharp-loading.md in the MLNet.Vae repository).";
    }
}
