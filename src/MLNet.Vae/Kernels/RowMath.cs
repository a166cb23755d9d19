using System.Numerics;
using System.Runtime.CompilerServices;

namespace MLNet.Vae.Kernels;

/// <summary>
/// The element-wise arithmetic of the one-row path, vectorized with <see cref="Vector{T}"/> and compiled fully optimized from
/// the first call. TensorPrimitives does the same, but its methods start as unoptimized tier-0 code: on this project's
/// machine the first 5 000 rows ran at 100-120 µs instead of 43-49 µs, until tiered compilation caught up.
/// </summary>
internal static class RowMath
{
    private const float LogFloor = 1e-12f;
    // e^−88 is already a denormal float, which the CPU handles a hundred times slower; log(1 + e^−80) rounds to 0 anyway.
    private const float ExponentFloor = -80f;

    /// <summary>Σᵢ aᵢ bᵢ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = Vector<float>.Zero;
        int i = 0;
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
            sum = Vector.FusedMultiplyAdd(new Vector<float>(a[i..]), new Vector<float>(b[i..]), sum);
        float total = Vector.Sum(sum);
        for (; i < a.Length; i++) total += a[i] * b[i];
        return total;
    }

    /// <summary>Σᵢ aᵢ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Sum(ReadOnlySpan<float> a)
    {
        var sum = Vector<float>.Zero;
        int i = 0;
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count) sum += new Vector<float>(a[i..]);
        float total = Vector.Sum(sum);
        for (; i < a.Length; i++) total += a[i];
        return total;
    }

    /// <summary>dᵢ = aᵢ bᵢ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> destination)
    {
        int i = 0;
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
            (new Vector<float>(a[i..]) * new Vector<float>(b[i..])).CopyTo(destination[i..]);
        for (; i < a.Length; i++) destination[i] = a[i] * b[i];
    }

    /// <summary>aᵢ ← c aᵢ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(Span<float> a, float c)
    {
        int i = 0;
        var factor = new Vector<float>(c);
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count) (new Vector<float>(a[i..]) * factor).CopyTo(a[i..]);
        for (; i < a.Length; i++) a[i] *= c;
    }

    /// <summary>aᵢ ← max(aᵢ, 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Relu(Span<float> a)
    {
        int i = 0;
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
            Vector.Max(new Vector<float>(a[i..]), Vector<float>.Zero).CopyTo(a[i..]);
        for (; i < a.Length; i++) a[i] = Math.Max(a[i], 0f);
    }

    /// <summary>dᵢ = min(max(xᵢ, <paramref name="low"/>), <paramref name="high"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Clamp(ReadOnlySpan<float> x, float low, float high, Span<float> destination)
    {
        int i = 0;
        var lows = new Vector<float>(low);
        var highs = new Vector<float>(high);
        for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            Vector.Min(Vector.Max(new Vector<float>(x[i..]), lows), highs).CopyTo(destination[i..]);
        for (; i < x.Length; i++) destination[i] = Math.Min(Math.Max(x[i], low), high);
    }

    /// <summary>dᵢ = (xᵢ − mᵢ) / sᵢ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Standardize(ReadOnlySpan<float> x, ReadOnlySpan<float> mean, ReadOnlySpan<float> scale, Span<float> destination)
    {
        int i = 0;
        for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            ((new Vector<float>(x[i..]) - new Vector<float>(mean[i..])) / new Vector<float>(scale[i..])).CopyTo(destination[i..]);
        for (; i < x.Length; i++) destination[i] = (x[i] - mean[i]) / scale[i];
    }

    /// <summary>tᵢ = ((aᵢ − bᵢ) sᵢ)², sᵢ = 1 when <paramref name="scale"/> is empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SquaredDifferences(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> scale, Span<float> terms)
    {
        int i = 0;
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var d = new Vector<float>(a[i..]) - new Vector<float>(b[i..]);
            if (!scale.IsEmpty) d *= new Vector<float>(scale[i..]);
            (d * d).CopyTo(terms[i..]);
        }
        for (; i < a.Length; i++)
        {
            float d = (a[i] - b[i]) * (scale.IsEmpty ? 1f : scale[i]);
            terms[i] = d * d;
        }
    }

    /// <summary>tᵢ = (σ(lᵢ) − xᵢ)², σ(l) = 1 / (1 + e^−l).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SquaredSigmoidErrors(ReadOnlySpan<float> logits, ReadOnlySpan<float> x, Span<float> terms)
    {
        int i = 0;
        var one = Vector<float>.One;
        var floor = new Vector<float>(ExponentFloor);
        for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var d = one / (one + Vector.Exp(Vector.Max(-new Vector<float>(logits[i..]), floor))) - new Vector<float>(x[i..]);
            (d * d).CopyTo(terms[i..]);
        }
        for (; i < x.Length; i++)
        {
            float d = 1f / (1f + MathF.Exp(Math.Max(-logits[i], ExponentFloor))) - x[i];
            terms[i] = d * d;
        }
    }

    /// <summary>
    /// xᵢ log xᵢ + (1 − xᵢ) log(1 − xᵢ) = −H(xᵢ) for each lane, logs clamped at 10⁻¹². A vector of 0s and 1s only (blank
    /// pixels, 28% of the 8-pixel vectors of Fashion-MNIST) returns 0 without its two logarithms.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> NegativeEntropyTerms(Vector<float> v)
    {
        var complement = Vector<float>.One - v;
        if (Vector.EqualsAll(v * complement, Vector<float>.Zero)) return Vector<float>.Zero;
        var logFloor = new Vector<float>(LogFloor);
        return v * Log(Vector.Max(v, logFloor)) + complement * Log(Vector.Max(complement, logFloor));
    }

    /// <summary>x log x + (1 − x) log(1 − x) = −H(x) for one value, logs clamped at 10⁻¹²: the vector loops' tails.</summary>
    private static float NegativeEntropyTerm(float v) => v * MathF.Log(Math.Max(v, LogFloor)) + (1 - v) * MathF.Log(Math.Max(1 - v, LogFloor));

    /// <summary>
    /// tᵢ = BCE(xᵢ, σ(lᵢ)) = max(lᵢ, 0) − lᵢ xᵢ + log(1 + e^−|lᵢ|), minus H(xᵢ) = −xᵢ log xᵢ − (1 − xᵢ) log(1 − xᵢ) when
    /// <paramref name="minusEntropy"/> (logs clamped at 10⁻¹², so that 0 log 0 = 0), for x already in
    /// [0, 1] (<see cref="Model.VaeModel.ToScoringSpace(TorchSharp.torch.Tensor)"/>, <see cref="Clamp"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BernoulliTerms(ReadOnlySpan<float> logits, ReadOnlySpan<float> x, Span<float> terms, bool minusEntropy)
    {
        int i = 0;
        var one = Vector<float>.One;
        var exponentFloor = new Vector<float>(ExponentFloor);
        for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var l = new Vector<float>(logits[i..]);
            var v = new Vector<float>(x[i..]);
            var t = Vector.Max(l, Vector<float>.Zero) - l * v + Log(one + ExpOfNonPositive(Vector.Max(-Vector.Abs(l), exponentFloor)));
            if (minusEntropy) t += NegativeEntropyTerms(v);
            t.CopyTo(terms[i..]);
        }
        for (; i < x.Length; i++)
        {
            float l = logits[i], v = x[i];
            float t = Math.Max(l, 0f) - l * v + MathF.Log(1f + MathF.Exp(Math.Max(-Math.Abs(l), ExponentFloor)));
            if (minusEntropy) t += NegativeEntropyTerm(v);
            terms[i] = t;
        }
    }

    /// <summary>
    /// The Bernoulli loss of a row and its derivative in one pass: returns Σᵢ BCE(xᵢ, σ(lᵢ)) = Σᵢ softplus(lᵢ) − xᵢ lᵢ, and
    /// writes gᵢ = <paramref name="scale"/> (σ(lᵢ) − xᵢ), the derivative of the loss times the scale. Both come from one
    /// e = exp(−|l|): softplus(l) = max(l, 0) + ln(1 + e), σ(l) = 1 / (1 + e) for l ≥ 0 and e / (1 + e) below.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float BernoulliLossAndGradient(ReadOnlySpan<float> logits, ReadOnlySpan<float> x, Span<float> gradient, float scale)
    {
        int i = 0;
        var one = Vector<float>.One;
        var exponentFloor = new Vector<float>(ExponentFloor);
        var scales = new Vector<float>(scale);
        var sum = Vector<float>.Zero;
        for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var l = new Vector<float>(logits[i..]);
            var v = new Vector<float>(x[i..]);
            var e = ExpOfNonPositive(Vector.Max(-Vector.Abs(l), exponentFloor));
            var onePlusE = one + e;
            sum += Vector.Max(l, Vector<float>.Zero) - l * v + Log(onePlusE);
            var sigmoid = Vector.ConditionalSelect(Vector.GreaterThanOrEqual(l, Vector<float>.Zero), one, e) / onePlusE;
            ((sigmoid - v) * scales).CopyTo(gradient[i..]);
        }
        float total = Vector.Sum(sum);
        for (; i < x.Length; i++)
        {
            float l = logits[i], v = x[i];
            float e = MathF.Exp(Math.Max(-Math.Abs(l), ExponentFloor));
            total += Math.Max(l, 0f) - l * v + MathF.Log(1f + e);
            gradient[i] = ((l >= 0 ? 1f : e) / (1f + e) - v) * scale;
        }
        return total;
    }

    /// <summary>The Gaussian loss of a row and its derivative: returns ½ Σᵢ (oᵢ − xᵢ)² and writes gᵢ = <paramref name="scale"/> (oᵢ − xᵢ).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float GaussianLossAndGradient(ReadOnlySpan<float> output, ReadOnlySpan<float> x, Span<float> gradient, float scale)
    {
        int i = 0;
        var scales = new Vector<float>(scale);
        var sum = Vector<float>.Zero;
        for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var difference = new Vector<float>(output[i..]) - new Vector<float>(x[i..]);
            sum += difference * difference;
            (difference * scales).CopyTo(gradient[i..]);
        }
        float total = Vector.Sum(sum);
        for (; i < x.Length; i++)
        {
            float difference = output[i] - x[i];
            total += difference * difference;
            gradient[i] = difference * scale;
        }
        return 0.5f * total;
    }

    /// <summary>
    /// ln x for positive normal x (every caller clamps it), as Cephes' logf computes it: x = m 2ᵉ with m in [√½, √2),
    /// ln x = (m − 1) − (m − 1)²/2 + (m − 1)³ P(m − 1) + e ln 2, P of degree 8, ln 2 split in two for accuracy; within a few
    /// float ulps of MathF.Log. Vector.Log took 4 µs for a row of 784 values on this project's machine, most of a one-row
    /// Bernoulli score, which takes three logarithms per pixel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector<float> Log(Vector<float> x)
    {
        var bits = Vector.AsVectorInt32(x);
        var exponent = Vector.ShiftRightLogical(bits, 23) - new Vector<int>(127);
        var m = Vector.AsVectorSingle((bits & new Vector<int>(0x007FFFFF)) | new Vector<int>(0x3F800000));
        // m in [1, 2): above √2 halve it, so that m − 1 stays small on both sides of 0.
        var high = Vector.GreaterThan(m, new Vector<float>(1.41421356f));
        m = Vector.ConditionalSelect(high, m * 0.5f, m);
        var e = Vector.ConvertToSingle(exponent - high);
        var f = m - Vector<float>.One;
        var z = f * f;
        var p = new Vector<float>(7.0376836292e-2f);
        p = p * f + new Vector<float>(-1.1514610310e-1f);
        p = p * f + new Vector<float>(1.1676998740e-1f);
        p = p * f + new Vector<float>(-1.2420140846e-1f);
        p = p * f + new Vector<float>(1.4249322787e-1f);
        p = p * f + new Vector<float>(-1.6668057665e-1f);
        p = p * f + new Vector<float>(2.0000714765e-1f);
        p = p * f + new Vector<float>(-2.4999993993e-1f);
        p = p * f + new Vector<float>(3.3333331174e-1f);
        var y = f * z * p + e * new Vector<float>(-2.12194440e-4f) - z * new Vector<float>(0.5f);
        return f + y + e * new Vector<float>(0.693359375f);
    }

    /// <summary>
    /// eˣ for x in [−80, 0], as Cephes' expf computes it: x = n ln 2 + r with n = ⌊x log₂e + ½⌋ and |r| ≤ ½ ln 2,
    /// eˣ = 2ⁿ (1 + r + r² P(r)), P of degree 5; 2ⁿ is built from its exponent bits (n ≥ −116 here, a normal float).
    /// Within a few float ulps of MathF.Exp; Vector.Exp took 3.4 µs for a row of 784 values on this project's machine.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector<float> ExpOfNonPositive(Vector<float> x)
    {
        var n = Vector.Floor(x * new Vector<float>(1.44269504088896341f) + new Vector<float>(0.5f));
        var r = x - n * new Vector<float>(0.693359375f) - n * new Vector<float>(-2.12194440e-4f);
        var p = new Vector<float>(1.9875691500e-4f);
        p = p * r + new Vector<float>(1.3981999507e-3f);
        p = p * r + new Vector<float>(8.3334519073e-3f);
        p = p * r + new Vector<float>(4.1665795894e-2f);
        p = p * r + new Vector<float>(1.6666665459e-1f);
        p = p * r + new Vector<float>(5.0000001201e-1f);
        var power = Vector.AsVectorSingle(Vector.ShiftLeft(Vector.ConvertToInt32(n) + new Vector<int>(127), 23));
        return (p * r * r + r + Vector<float>.One) * power;
    }
}
