using System.Runtime.InteropServices;

namespace MLNet.Vae.Platform;

/// <summary>
/// Arrays of training rows, hundreds of megabytes, that are written once right after they are allocated. On Linux their
/// memory is advised into transparent huge pages before the first write, so that the kernel maps it 2 MB at a time instead
/// of faulting it in 4 KB at a time.
/// </summary>
/// <remarks>
/// Reading the rows is mostly first-touch page faults, not ML.NET: measured on a 2-core AMD EPYC VM, filling a fresh 188 MB
/// array took 0.57-0.74 s and filling it again 0.01 s; the same fill of memory advised with <c>MADV_HUGEPAGE</c> took
/// 0.01-0.36 s. The advice is a hint: where transparent huge pages are off ("never"), on other systems, or when the kernel
/// has no free huge page, the memory is mapped as before, with the same contents. The array is pinned (the pinned object
/// heap does not move it), so the advised range stays the array's for its whole life.
/// </remarks>
internal static partial class LargeArrays
{
    /// <summary>Arrays from this size are advised: one huge page is 2 MB, and smaller arrays fault in a few pages anyway.</summary>
    public const long AdvisedFromBytes = 8L << 20;

    private const nint HugePageBytes = 2 << 20;
    private const int MadviseHugePage = 14;

    /// <summary>
    /// An uninitialized array of <paramref name="length"/> floats; from <see cref="AdvisedFromBytes"/> on Linux, pinned and
    /// advised into huge pages before anything writes it.
    /// </summary>
    public static float[] Allocate(int length)
    {
        if ((long)length * sizeof(float) < AdvisedFromBytes || !OperatingSystem.IsLinux())
            return GC.AllocateUninitializedArray<float>(length);
        var array = GC.AllocateUninitializedArray<float>(length, pinned: true);
        AdviseHugePages(array);
        return array;
    }

    private static unsafe void AdviseHugePages(float[] array)
    {
        fixed (float* first = array)
        {
            // madvise takes page-aligned ranges; only whole 2 MB pages inside the array can become huge pages.
            nint start = ((nint)first + HugePageBytes - 1) & ~(HugePageBytes - 1);
            nint end = ((nint)first + (nint)((long)array.Length * sizeof(float))) & ~(HugePageBytes - 1);
            if (end <= start) return;
            try
            {
                // The result is ignored on purpose: EINVAL where the kernel has no transparent huge pages means "as before".
                _ = Madvise(start, (nuint)(end - start), MadviseHugePage);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // A Linux without glibc (musl): no advice, same memory.
            }
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
