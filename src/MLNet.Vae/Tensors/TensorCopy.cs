using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace MLNet.Vae.Tensors;

/// <summary>
/// Moves float32 data between managed memory and CPU tensors with one memory copy, through the tensor's own bytes.
/// TorchSharp's element accessor (<c>data&lt;float&gt;().CopyFrom/CopyTo/ToArray</c>) is about 60 times slower: on a 512×784
/// batch, 2.3 ms each way against 0.04 ms (<c>MLNet.Vae.Benchmarks profile</c>, docs/decisions.md).
/// </summary>
internal static class TensorCopy
{
    /// <summary>A new [rows × width] tensor holding the first rows × width values of <paramref name="values"/>.</summary>
    public static Tensor FromRows(ReadOnlySpan<float> values, long rows, long width)
    {
        var result = empty(rows, width, dtype: ScalarType.Float32);
        values[..checked((int)(rows * width))].CopyTo(MemoryMarshal.Cast<byte, float>(result.bytes));
        return result;
    }

    /// <summary>
    /// A [rows × width] tensor over the first rows × width values of <paramref name="values"/> itself, without a copy: the
    /// array stays pinned until the tensor's storage is freed, and a write to either shows in both. Fit trains on the rows it
    /// read this way, so the training data is held once (188 MB for 60 000 Fashion-MNIST images, instead of twice).
    /// </summary>
    public static Tensor Wrap(float[] values, long rows, long width)
    {
        if (rows * width == 0) return empty(rows, width, dtype: ScalarType.Float32);
        using var flat = frombuffer(values, ScalarType.Float32, count: rows * width);
        return flat.view(rows, width);
    }

    /// <summary>Copies a float32 CPU tensor's values, in row-major order, into <paramref name="destination"/>.</summary>
    public static void CopyTo(Tensor source, Span<float> destination)
    {
        if (source.dtype != ScalarType.Float32) throw new ArgumentException($"Expected a float32 tensor, got {source.dtype}.", nameof(source));
        using var dense = source.is_contiguous() ? source.alias() : source.contiguous();
        MemoryMarshal.Cast<byte, float>(dense.bytes).CopyTo(destination);
    }

    /// <summary>A float32 CPU tensor's values in row-major order.</summary>
    public static float[] ToArray(Tensor source)
    {
        var values = new float[source.numel()];
        CopyTo(source, values);
        return values;
    }

    /// <summary>A contiguous float32 CPU tensor's storage as a span (no copy): valid while the tensor lives.</summary>
    public static Span<float> Floats(Tensor tensor)
    {
        if (tensor.dtype != ScalarType.Float32 || !tensor.is_contiguous() || tensor.device_type != TorchSharp.DeviceType.CPU)
            throw new InvalidOperationException($"Expected a contiguous float32 CPU tensor, got {tensor.dtype} on {tensor.device_type}.");
        return MemoryMarshal.Cast<byte, float>(tensor.bytes);
    }
}
