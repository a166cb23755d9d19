using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MLNet.Vae.Model;

/// <summary>A linear layer y = W x + b over managed copies of its weights, W row-major [outputs × inputs]: the one-row path's unit.</summary>
internal sealed class DenseLayer(float[] weight, float[] bias)
{
    public int Outputs => bias.Length;

    /// <summary>The bytes of its weights, to decide whether splitting it over two cores pays.</summary>
    public long WeightBytes => (long)weight.Length * sizeof(float);

    /// <summary>Outputs [<paramref name="from"/>, <paramref name="to"/>) of W x + b, with ReLU when <paramref name="relu"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(ReadOnlySpan<float> input, Span<float> output, bool relu, int from, int to)
    {
        int inputs = input.Length;
        var w = weight.AsSpan();
        int i = from;
        if (Vector512.IsHardwareAccelerated && inputs >= Vector512<float>.Count)
        {
            // Four rows at a time: each 16-wide slice of x is loaded once for four rows, with four independent accumulators.
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
                output[i] = s0 + bias[i];
                output[i + 1] = s1 + bias[i + 1];
                output[i + 2] = s2 + bias[i + 2];
                output[i + 3] = s3 + bias[i + 3];
            }
        }
        for (; i < to; i++)
            output[i] = RowMath.Dot(w.Slice(i * inputs, inputs), input) + bias[i];
        if (relu) RowMath.Relu(output[from..to]);
    }
}
