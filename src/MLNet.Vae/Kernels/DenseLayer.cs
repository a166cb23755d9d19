using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MLNet.Vae.Kernels;

/// <summary>
/// A linear layer y = W x + b over managed copies of its weights, W [outputs × inputs]: the one-row path's unit.
/// </summary>
/// <remarks>
/// A layer with at least <see cref="InputMajorOutputs"/> outputs keeps W input-major, in panels of 64 outputs (within a panel,
/// row k holds the 64 outputs' weights of input k), and computes y = b + Σ_{k: xₖ ≠ 0} xₖ W[:, k], so that it reads the weights of non-zero inputs only. A row
/// is memory-bound on these layers (the 784-400 and 400-784 layers hold 1.25 MB each), and their inputs are often half zeros:
/// blank pixels, and the hidden layers' ReLU outputs. A narrower layer keeps W row-major, one dot product per output.
/// </remarks>
internal sealed class DenseLayer
{
    /// <summary>From this many outputs on, the weights are stored input-major and zero inputs are skipped.</summary>
    public const int InputMajorOutputs = 64;

    /// <summary>The input-major layout's panel width: 64 outputs, four 512-bit registers.</summary>
    private const int Panel = 64;

    private readonly float[] _weight;
    private readonly float[] _bias;
    private readonly bool _inputMajor;

    /// <param name="weight">W row-major [outputs × inputs], as libtorch's Linear holds it.</param>
    /// <param name="bias">b [outputs].</param>
    /// <param name="inputMajor">The layout; by default input-major from <see cref="InputMajorOutputs"/> outputs on (the
    /// benchmark's profile sets it to compare the two).</param>
    public DenseLayer(float[] weight, float[] bias, bool? inputMajor = null)
    {
        _bias = bias;
        Inputs = bias.Length == 0 ? 0 : weight.Length / bias.Length;
        _inputMajor = inputMajor ?? bias.Length >= InputMajorOutputs;
        _weight = _inputMajor ? ToPanels(weight, bias.Length, Inputs) : weight;
    }

    public int Outputs => _bias.Length;

    /// <summary>
    /// Where a split over two cores cuts the outputs: near the middle, on a multiple of 64 so that both halves run whole blocks
    /// of the input-major kernel.
    /// </summary>
    public int SplitPoint => Math.Clamp((Outputs / 2 + Panel / 2) / Panel * Panel, 0, Outputs);

    public int Inputs { get; }

    /// <summary>The bytes of its weights, to decide whether splitting it over two cores pays.</summary>
    public long WeightBytes => (long)_weight.Length * sizeof(float);

    /// <summary>Outputs [<paramref name="from"/>, <paramref name="to"/>) of W x + b, with ReLU when <paramref name="relu"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(ReadOnlySpan<float> input, Span<float> output, bool relu, int from, int to)
    {
        if (_inputMajor) ApplyInputMajor(input, output, from, to);
        else ApplyRowMajor(input, output, from, to);
        if (relu) RowMath.Relu(output[from..to]);
    }

    /// <summary>
    /// y[from..to) = b + Σ over non-zero xₖ of xₖ Wᵀ[k, from..to). <paramref name="from"/> is a multiple of
    /// <see cref="Panel"/> (0 or <see cref="SplitPoint"/>). A whole panel is 64 outputs in four registers, its weights read
    /// in one forward stream; the last, narrower panel 16 outputs at a time, then one by one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ApplyInputMajor(ReadOnlySpan<float> input, Span<float> output, int from, int to)
    {
        Debug.Assert(from % Panel == 0, "a range starts on a panel");
        int inputs = input.Length;
        Span<int> nonZero = inputs <= 4096 ? stackalloc int[inputs] : new int[inputs];
        nonZero = nonZero[..NonZeroIndices(input, nonZero)];
        var w = _weight.AsSpan();
        _bias.AsSpan(from, to - from).CopyTo(output[from..to]);
        for (int p = from; p < to; p += Panel)
        {
            int width = Math.Min(Panel, Outputs - p);
            // Panel p / Panel: [inputs × width], row k holding the panel's weights of input k.
            var panel = w.Slice(p * inputs, inputs * width);
            int j = 0;
            if (Vector512.IsHardwareAccelerated && width == Panel)
            {
                const int V = 16;
                var a0 = Vector512.Create(output.Slice(p, V));
                var a1 = Vector512.Create(output.Slice(p + V, V));
                var a2 = Vector512.Create(output.Slice(p + 2 * V, V));
                var a3 = Vector512.Create(output.Slice(p + 3 * V, V));
                foreach (int k in nonZero)
                {
                    var x = Vector512.Create(input[k]);
                    var row = panel.Slice(k * Panel, Panel);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(row[..V]), x, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Create(row.Slice(V, V)), x, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Create(row.Slice(2 * V, V)), x, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Create(row.Slice(3 * V, V)), x, a3);
                }
                a0.CopyTo(output.Slice(p, V));
                a1.CopyTo(output.Slice(p + V, V));
                a2.CopyTo(output.Slice(p + 2 * V, V));
                a3.CopyTo(output.Slice(p + 3 * V, V));
                continue;
            }
            if (Vector512.IsHardwareAccelerated)
            {
                // The narrow last panel 16 outputs at a time, four inputs per step in four independent sums: one chain of
                // fused multiply-adds would wait on its own latency at every input.
                const int V = 16;
                for (; j + V <= width; j += V)
                {
                    var a0 = Vector512.Create(output.Slice(p + j, V));
                    Vector512<float> a1 = default, a2 = default, a3 = default;
                    int n = 0;
                    for (; n + 4 <= nonZero.Length; n += 4)
                    {
                        int k0 = nonZero[n], k1 = nonZero[n + 1], k2 = nonZero[n + 2], k3 = nonZero[n + 3];
                        a0 = Vector512.FusedMultiplyAdd(Vector512.Create(panel.Slice(k0 * width + j, V)), Vector512.Create(input[k0]), a0);
                        a1 = Vector512.FusedMultiplyAdd(Vector512.Create(panel.Slice(k1 * width + j, V)), Vector512.Create(input[k1]), a1);
                        a2 = Vector512.FusedMultiplyAdd(Vector512.Create(panel.Slice(k2 * width + j, V)), Vector512.Create(input[k2]), a2);
                        a3 = Vector512.FusedMultiplyAdd(Vector512.Create(panel.Slice(k3 * width + j, V)), Vector512.Create(input[k3]), a3);
                    }
                    for (; n < nonZero.Length; n++)
                        a0 = Vector512.FusedMultiplyAdd(Vector512.Create(panel.Slice(nonZero[n] * width + j, V)), Vector512.Create(input[nonZero[n]]), a0);
                    ((a0 + a1) + (a2 + a3)).CopyTo(output.Slice(p + j, V));
                }
            }
            for (; j + Vector<float>.Count <= width; j += Vector<float>.Count)
            {
                var a = new Vector<float>(output.Slice(p + j, Vector<float>.Count));
                foreach (int k in nonZero)
                    a = Vector.FusedMultiplyAdd(new Vector<float>(panel.Slice(k * width + j, Vector<float>.Count)), new Vector<float>(input[k]), a);
                a.CopyTo(output.Slice(p + j, Vector<float>.Count));
            }
            for (; j < width; j++)
            {
                float sum = output[p + j];
                foreach (int k in nonZero) sum += panel[k * width + j] * input[k];
                output[p + j] = sum;
            }
        }
    }

    /// <summary>Writes the indices k where xₖ ≠ 0 (NaN included) into <paramref name="indices"/>; returns how many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int NonZeroIndices(ReadOnlySpan<float> input, Span<int> indices)
    {
        int count = 0, k = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; k + Vector512<float>.Count <= input.Length; k += Vector512<float>.Count)
            {
                ulong mask = ~Vector512.Equals(Vector512.Create(input.Slice(k, Vector512<float>.Count)), Vector512<float>.Zero).ExtractMostSignificantBits() & 0xFFFF;
                for (; mask != 0; mask &= mask - 1) indices[count++] = k + BitOperations.TrailingZeroCount(mask);
            }
        }
        for (; k < input.Length; k++)
            if (input[k] != 0f) indices[count++] = k;
        return count;
    }

    /// <summary>y[i] = W[i, :] · x + b[i], four rows at a time: each 16-wide slice of x is loaded once for four rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ApplyRowMajor(ReadOnlySpan<float> input, Span<float> output, int from, int to)
    {
        int inputs = input.Length;
        var w = _weight.AsSpan();
        int i = from;
        if (Vector512.IsHardwareAccelerated && inputs >= Vector512<float>.Count)
        {
            int body = inputs - inputs % Vector512<float>.Count;
            for (; i + 4 <= to; i += 4)
            {
                var r0 = w.Slice(i * inputs, inputs);
                var r1 = w.Slice((i + 1) * inputs, inputs);
                var r2 = w.Slice((i + 2) * inputs, inputs);
                var r3 = w.Slice((i + 3) * inputs, inputs);
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int k = 0; k < body; k += Vector512<float>.Count)
                {
                    var x = Vector512.Create(input.Slice(k, Vector512<float>.Count));
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(r0.Slice(k, Vector512<float>.Count)), x, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Create(r1.Slice(k, Vector512<float>.Count)), x, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Create(r2.Slice(k, Vector512<float>.Count)), x, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Create(r3.Slice(k, Vector512<float>.Count)), x, a3);
                }
                float s0 = Vector512.Sum(a0), s1 = Vector512.Sum(a1), s2 = Vector512.Sum(a2), s3 = Vector512.Sum(a3);
                for (int k = body; k < inputs; k++)
                {
                    s0 += r0[k] * input[k];
                    s1 += r1[k] * input[k];
                    s2 += r2[k] * input[k];
                    s3 += r3[k] * input[k];
                }
                output[i] = s0 + _bias[i];
                output[i + 1] = s1 + _bias[i + 1];
                output[i + 2] = s2 + _bias[i + 2];
                output[i + 3] = s3 + _bias[i + 3];
            }
        }
        for (; i < to; i++)
            output[i] = RowMath.Dot(w.Slice(i * inputs, inputs), input) + _bias[i];
    }

    /// <summary>
    /// W [outputs × inputs] as panels of <see cref="Panel"/> outputs (the last one narrower), each panel [inputs × width]:
    /// panel p starts at p · Panel · inputs.
    /// </summary>
    private static float[] ToPanels(float[] weight, int outputs, int inputs)
    {
        var panels = new float[weight.Length];
        for (int p = 0; p < outputs; p += Panel)
        {
            int width = Math.Min(Panel, outputs - p);
            for (int k = 0; k < inputs; k++)
                for (int j = 0; j < width; j++) panels[p * inputs + k * width + j] = weight[(p + j) * inputs + k];
        }
        return panels;
    }
}
