using System.Numerics;
using MLNet.Vae.Export;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MLNet.Vae.Scoring;

/// <summary>
/// Training rows' latent means μ(x), kept to measure how far a new row's code lies from its nearest ones: the latent term
/// of <see cref="VaeScoreKind.WeightedReconstructionAndLatentNeighbours"/>. N(z) is the mean Euclidean distance from z to
/// the 2nd to (k + 1)th nearest stored codes: the nearest is always left out, so that a training row whose own code is
/// stored is not its own neighbour, and every row, stored or new, is measured the same way.
/// </summary>
/// <param name="Codes">The stored codes, row-major [M × L].</param>
/// <param name="Neighbours">k, the number of distances averaged.</param>
internal sealed record LatentNeighbours(float[] Codes, int Neighbours)
{
    /// <summary>
    /// At most this many codes are stored, spread evenly over the calibration rows: on Fashion-MNIST one-class, 2,048 of the
    /// 6,000 training codes rank anomalies as all of them do (docs/choosing-options.md), at 41,000 multiply-adds a row.
    /// </summary>
    public const int MaximumCodes = 2048;
    /// <summary>The k of <see cref="Fit"/>: 5, 10 and 20 rank alike (docs/choosing-options.md).</summary>
    public const int DefaultNeighbours = 10;

    /// <summary>
    /// What the neighbour kinds calibrate: the codes stored from the calibration rows' latent means (<see cref="Fit"/>), and the
    /// median and robust spread of those rows' own N, the scale N is standardized by.
    /// </summary>
    public static (LatentNeighbours Codes, RobustScale Distance) Calibrate(CalibrationSample sample)
    {
        var neighbours = Fit(sample.Means, sample.Count, sample.LatentDimension);
        var distances = new float[sample.Count];
        Parallel.For(0, sample.Count, r => distances[r] = neighbours.MeanDistance(sample.MeanOf(r)));
        return (neighbours, RobustScale.Fit(distances));
    }

    /// <summary>
    /// Up to <see cref="MaximumCodes"/> of <paramref name="count"/> codes [count × <paramref name="dimension"/>], spread evenly,
    /// with k = <see cref="DefaultNeighbours"/>, fewer when fewer codes are stored (0 for a single code: N is then 0).
    /// </summary>
    public static LatentNeighbours Fit(ReadOnlySpan<float> codes, int count, int dimension)
    {
        int stored = Math.Min(count, MaximumCodes);
        var kept = new float[stored * dimension];
        for (int m = 0; m < stored; m++)
            codes.Slice((int)((long)m * count / stored) * dimension, dimension).CopyTo(kept.AsSpan(m * dimension));
        return new LatentNeighbours(kept, Math.Min(DefaultNeighbours, Math.Max(0, stored - 1)));
    }

    /// <summary>Whether it holds finite codes over <paramref name="dimension"/> dimensions and 0 ≤ k &lt; their count.</summary>
    public bool IsValidFor(int dimension)
    {
        // A file's JSON can leave the codes out.
        if (Codes is null || dimension < 1 || Codes.Length == 0 || Codes.Length % dimension != 0) return false;
        int count = Codes.Length / dimension;
        return Neighbours >= 0 && Neighbours < count && count <= MaximumCodes && Codes.All(float.IsFinite);
    }

    /// <summary>
    /// N as ONNX nodes, [n, 1] (k ≥ 1): the squared distances from ‖z‖² − 2 z·c + ‖c‖² in float64, one MatMul for all codes
    /// (float32 would lose the small distances to cancellation), clamped at 0; TopK of their negatives picks the k + 1
    /// smallest, and the smallest of them is subtracted from the sum of their square roots.
    /// </summary>
    public string OnnxMeanDistance(OnnxGraphBuilder g, string mean, int dimension)
    {
        int l = dimension, count = CountFor(l), k = Neighbours;
        var transposed = new double[l * count];
        var squaredNorms = new double[count];
        for (int m = 0; m < count; m++)
            for (int j = 0; j < l; j++)
            {
                double v = Codes[m * l + j];
                transposed[j * count + m] = v;
                squaredNorms[m] += v * v;
            }
        string z = g.Node("Cast", [mean], n => n.AddAttribute("to", 11L));
        string cross = g.Node("MatMul", z, g.Context.AddInitializer(transposed, [l, count], "Vae.neighbourCodes", makeUniqueName: true));
        string zNorms = g.SumRows(g.Node("Mul", z, z));
        string twoCross = g.Node("Mul", cross, g.Context.AddInitializer(2.0, "Vae.two", makeUniqueName: true));
        string squared = g.Node("Add", g.Node("Sub", zNorms, twoCross), g.Context.AddInitializer(squaredNorms, [1, count], "Vae.neighbourNorms", makeUniqueName: true));
        string clamped = g.Node("Max", squared, g.Context.AddInitializer(0.0, "Vae.zeroDouble", makeUniqueName: true));
        // TopK returns the largest first: of −d², the k + 1 smallest d², nearest first.
        string[] nearest = g.Nodes("TopK", [g.Node("Neg", clamped), g.Context.AddInitializer(new long[] { k + 1 }, [1], "Vae.neighboursPlusOne", makeUniqueName: true)], 2);
        string distances = g.ToFloat(g.Node("Sqrt", g.Node("Neg", nearest[0])));
        string skipped = g.Node("Slice", distances, g.Int64s("firstStart", 0), g.Int64s("firstEnd", 1), g.Int64s("firstAxis", 1));
        return g.Node("Div", g.Node("Sub", g.SumRows(distances), skipped), g.Constant("neighbours", (float)k));
    }

    /// <summary>How many codes are stored, for <paramref name="dimension"/> dimensions.</summary>
    public int CountFor(int dimension) => Codes.Length / dimension;

    /// <summary>The codes dimension-major, [L × M padded to whole blocks], so that one pass over a dimension updates every distance.</summary>
    private float[]? _byDimension;

    /// <summary>A copy (<c>with</c>) of the parameters alone: the layout below belongs to the codes it was made from.</summary>
    private LatentNeighbours(LatentNeighbours original)
    {
        Codes = original.Codes;
        Neighbours = original.Neighbours;
    }

    /// <summary>
    /// N(z): the mean distance from <paramref name="z"/> to the 2nd to (k + 1)th nearest codes, from float32 differences
    /// accumulated per dimension, on the batched and the one-row path alike (the ONNX graph computes the same in float64).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float MeanDistance(ReadOnlySpan<float> z)
    {
        if (Neighbours == 0) return 0;
        var byDimension = ByDimension(z.Length);
        int padded = byDimension.Length / z.Length;
        float[] squared = ArrayPool.Rent(padded);
        try
        {
            SquaredDistances(byDimension, padded, z, squared);
            return MeanOfNearest(squared, CountFor(z.Length), Neighbours);
        }
        finally
        {
            ArrayPool.Return(squared);
        }
    }

    /// <summary>
    /// d²ₘ = Σⱼ (cₘⱼ − zⱼ)² for every code m into <paramref name="squared"/>: a block of <see cref="BlockVectors"/> vectors of
    /// codes at a time, its sums kept in registers over all L dimensions, so each code value is read once and no sum is
    /// stored until the block is done.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SquaredDistances(float[] byDimension, int padded, ReadOnlySpan<float> z, float[] squared)
    {
        int width = Vector<float>.Count;
        ref float codes = ref MemoryMarshal.GetArrayDataReference(byDimension);
        ref float sums = ref MemoryMarshal.GetArrayDataReference(squared);
        for (int m = 0; m < padded; m += BlockVectors * width)
        {
            Vector<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
            for (int j = 0; j < z.Length; j++)
            {
                var zj = new Vector<float>(z[j]);
                nuint row = (nuint)(j * padded + m);
                s0 = SquareAdd(ref codes, row, zj, s0);
                s1 = SquareAdd(ref codes, row + (nuint)width, zj, s1);
                s2 = SquareAdd(ref codes, row + (nuint)(2 * width), zj, s2);
                s3 = SquareAdd(ref codes, row + (nuint)(3 * width), zj, s3);
                s4 = SquareAdd(ref codes, row + (nuint)(4 * width), zj, s4);
                s5 = SquareAdd(ref codes, row + (nuint)(5 * width), zj, s5);
                s6 = SquareAdd(ref codes, row + (nuint)(6 * width), zj, s6);
                s7 = SquareAdd(ref codes, row + (nuint)(7 * width), zj, s7);
            }
            s0.StoreUnsafe(ref sums, (nuint)m);
            s1.StoreUnsafe(ref sums, (nuint)(m + width));
            s2.StoreUnsafe(ref sums, (nuint)(m + 2 * width));
            s3.StoreUnsafe(ref sums, (nuint)(m + 3 * width));
            s4.StoreUnsafe(ref sums, (nuint)(m + 4 * width));
            s5.StoreUnsafe(ref sums, (nuint)(m + 5 * width));
            s6.StoreUnsafe(ref sums, (nuint)(m + 6 * width));
            s7.StoreUnsafe(ref sums, (nuint)(m + 7 * width));
        }
    }

    /// <summary>sum + (c − z)² for the vector of codes at <paramref name="offset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> SquareAdd(ref float codes, nuint offset, Vector<float> z, Vector<float> sum)
    {
        var d = Vector.LoadUnsafe(ref codes, offset) - z;
        return Vector.FusedMultiplyAdd(d, d, sum);
    }

    /// <summary>
    /// Vectors of codes per block of <see cref="SquaredDistances"/>; the codes are padded to whole blocks. Eight independent
    /// sums hide the multiply-add's latency: 2,048 codes of 20 dimensions took 2.3 µs against 2.9 µs with four (AMD EPYC).
    /// </summary>
    private const int BlockVectors = 8;

    /// <summary>The mean of √d² over the 2nd to (k + 1)th smallest of the first <paramref name="count"/> values (k + 1 ≤ count).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float MeanOfNearest(float[] squared, int count, int k)
    {
        // The k + 1 smallest, kept sorted by insertion. The first k + 1 values fill them; after that a value enters only when
        // it is below the largest kept (the bar), and a whole vector with no value below the bar is passed over in one
        // comparison: after the first few hundred codes, most are.
        Span<float> nearest = stackalloc float[k + 1];
        for (int i = 0; i <= k; i++) Insert(nearest, i, squared[i]);
        float bar = nearest[k];
        int m = k + 1, width = Vector<float>.Count;
        for (; m + width <= count; m += width)
        {
            if (!Vector.LessThanAny(new Vector<float>(squared, m), new Vector<float>(bar))) continue;
            for (int i = m; i < m + width; i++)
                if (squared[i] < bar)
                {
                    Insert(nearest, k, squared[i]);
                    bar = nearest[k];
                }
        }
        for (; m < count; m++)
            if (squared[m] < bar)
            {
                Insert(nearest, k, squared[m]);
                bar = nearest[k];
            }
        double sum = 0;
        for (int i = 1; i <= k; i++) sum += Math.Sqrt(nearest[i]);
        return (float)(sum / k);
    }

    /// <summary>Writes <paramref name="d"/> at <paramref name="last"/> (dropping what was there) and moves it down into sorted order.</summary>
    private static void Insert(Span<float> nearest, int last, float d)
    {
        int i = last;
        while (i > 0 && nearest[i - 1] > d)
        {
            nearest[i] = nearest[i - 1];
            i--;
        }
        nearest[i] = d;
    }

    /// <summary>The codes dimension-major (built once), each dimension's row padded with zeros to whole blocks; the padding's distances are never read.</summary>
    private float[] ByDimension(int dimension)
    {
        if (_byDimension is { } built) return built;
        int count = CountFor(dimension), block = BlockVectors * Vector<float>.Count;
        int padded = (count + block - 1) / block * block;
        var result = new float[dimension * padded];
        for (int m = 0; m < count; m++)
            for (int j = 0; j < dimension; j++)
                result[j * padded + m] = Codes[m * dimension + j];
        return _byDimension = result;
    }

    /// <summary>Per-call scratch of the squared distances, from the shared pool: scoring threads do not allocate.</summary>
    private static System.Buffers.ArrayPool<float> ArrayPool => System.Buffers.ArrayPool<float>.Shared;
}
