using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace MLNet.Vae.Platform;

/// <summary>
/// Runs libtorch on one thread for the calling thread only, and gives it back its own count afterwards. libtorch's
/// intra-op thread count belongs to each OS thread (OpenMP's <c>nthreads</c> setting and MKL's local thread count), so
/// two .NET threads each set to one thread can run their own products side by side while the rest of the process keeps
/// its count (measured: two such threads each ran a 512×784 by 784×400 product in 1.55-1.76 ms while the main thread
/// still reported 2 threads and ran it in 0.87-0.92 ms).
/// </summary>
/// <remarks>
/// <c>torch.set_num_threads</c> also stores the count as the process's default, the one a thread takes the first time it
/// runs an operator; a host thread starting then would keep one thread for good. So the two per-thread settings are set
/// directly (<c>omp_set_num_threads</c> and MKL's <c>MKL_Set_Num_Threads_Local</c>, found through libtorch_cpu.so's own
/// dependencies), after <c>get_num_threads</c> has run libtorch's first-use setup of the calling thread, which would
/// otherwise overwrite them. Where they cannot be found (another libtorch build), <c>set_num_threads</c> is used.
/// </remarks>
internal readonly unsafe struct IntraOpThreads : IDisposable
{
    // Looked up at the first part, after get_num_threads has loaded libtorch, never before it.
    private static readonly Lazy<(nint OpenMp, nint Mkl)> Setters = new(FindSetters);

    private readonly int _previous;
    private readonly int _previousMkl;
    private readonly bool _direct;

    private IntraOpThreads(int previous, int previousMkl, bool direct) => (_previous, _previousMkl, _direct) = (previous, previousMkl, direct);

    /// <summary>The calling thread's libtorch thread count.</summary>
    public static int OfThisThread => get_num_threads();

    /// <summary>Sets the calling thread's libtorch thread count to one until the result is disposed, on the same thread.</summary>
    public static IntraOpThreads One()
    {
        int previous = get_num_threads();
        if (previous == 1) return default;
        if (Setters.Value is (not 0, not 0) setters)
        {
            ((delegate* unmanaged<int, void>)setters.OpenMp)(1);
            int previousMkl = ((delegate* unmanaged<int, int>)setters.Mkl)(1);
            return new IntraOpThreads(previous, previousMkl, direct: true);
        }
        set_num_threads(1);
        return new IntraOpThreads(previous, 0, direct: false);
    }

    public void Dispose()
    {
        if (_previous <= 1) return;
        if (_direct)
        {
            ((delegate* unmanaged<int, void>)Setters.Value.OpenMp)(_previous);
            // MKL's answer 0 means "no setting of this thread's own": giving it 0 back restores exactly that.
            ((delegate* unmanaged<int, int>)Setters.Value.Mkl)(_previousMkl);
        }
        else
        {
            set_num_threads(_previous);
        }
    }

    private static (nint OpenMp, nint Mkl) FindSetters()
    {
        // libtorch_cpu.so is loaded by TorchSharp before any caller gets here; its soname finds that copy.
        if (!NativeLibrary.TryLoad("libtorch_cpu.so", out nint library)) return (0, 0);
        try
        {
            // dlsym on a library's handle searches its dependencies too: the OpenMP runtime libtorch was linked with. MKL's C
            // function is MKL_Set_Num_Threads_Local (mkl.h maps mkl_set_num_threads_local to it); the lower-case symbol is
            // the Fortran one, which takes a pointer.
            return NativeLibrary.TryGetExport(library, "omp_set_num_threads", out nint openMp)
                && NativeLibrary.TryGetExport(library, "MKL_Set_Num_Threads_Local", out nint mkl) ? (openMp, mkl) : (0, 0);
        }
        finally
        {
            NativeLibrary.Free(library);
        }
    }
}
