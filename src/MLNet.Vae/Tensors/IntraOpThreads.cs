using static TorchSharp.torch;

namespace MLNet.Vae.Tensors;

/// <summary>
/// Runs libtorch on one thread for the calling thread only, and gives it back its own count afterwards. libtorch's
/// intra-op thread count belongs to each OS thread (OpenMP's <c>nthreads</c> setting and MKL's local thread count), so
/// two .NET threads each set to one thread can run their own products side by side while the rest of the process keeps
/// its count (measured: two such threads each ran a 512×784 by 784×400 product in 1.55-1.76 ms while the main thread
/// still reported 2 threads and ran it in 0.87-0.92 ms).
/// </summary>
/// <remarks>
/// libtorch also keeps the last count set as the one a thread starts with the first time it runs an operator, so a thread
/// of the host that runs its first libtorch operator while a part is running starts with one thread. Threads that have
/// run libtorch before keep their own count.
/// </remarks>
internal readonly struct IntraOpThreads : IDisposable
{
    private readonly int _previous;

    private IntraOpThreads(int previous) => _previous = previous;

    /// <summary>The calling thread's libtorch thread count.</summary>
    public static int OfThisThread => get_num_threads();

    /// <summary>Sets the calling thread's libtorch thread count to one until the result is disposed, on the same thread.</summary>
    public static IntraOpThreads One()
    {
        int previous = get_num_threads();
        if (previous != 1) set_num_threads(1);
        return new IntraOpThreads(previous);
    }

    public void Dispose()
    {
        if (_previous > 1) set_num_threads(_previous);
    }
}
