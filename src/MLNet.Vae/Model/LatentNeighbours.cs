using System.Numerics;
using System.Runtime.CompilerServices;

namespace MLNet.Vae.Model;

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

    /// <summary>How many codes are stored, for <paramref name="dimension"/> dimensions.</summary>
    public int CountFor(int dimension) => Codes.Length / dimension;

    /// <summary>The codes dimension-major, [L × M padded to whole vectors], so that one pass over a dimension updates every distance.</summary>
    private float[]? _byDimension;

    /// <summary>A copy (<c>with</c>) of the parameters alone: the layout below belongs to the codes it was made from.</summary>
    private LatentNeighbours(LatentNeighbours original)
    {
        Codes = original.Codes;
        Neighbours = original.Neighbours;
    }

    /// <summary>
    /// N(z): the mean distance from <paramref name="z"/> to the 2nd to (k + 1)th nearest codes, in float32 differences
    /// accumulated per dimension, as <see cref="VaeOnnxGraph"/> and the batched path compute it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float MeanDistance(ReadOnlySpan<float> z)
    {
        if (Neighbours == 0) return 0;
        var byDimension = ByDimension(z.Length);
        int padded = byDimension.Length / z.Length, width = Vector<float>.Count;
        // Squared distances to every code, a dimension at a time: d²ₘ += (cₘⱼ − zⱼ)².
        float[] squared = ArrayPool.Rent(padded);
        try
        {
            Array.Clear(squared, 0, padded);
            for (int j = 0; j < z.Length; j++)
            {
                var zj = new Vector<float>(z[j]);
                var codes = byDimension.AsSpan(j * padded, padded);
                for (int m = 0; m < padded; m += width)
                {
                    var difference = new Vector<float>(codes[m..]) - zj;
                    (new Vector<float>(squared, m) + difference * difference).CopyTo(squared, m);
                }
            }
            return MeanOfNearest(squared.AsSpan(0, CountFor(z.Length)), Neighbours);
        }
        finally
        {
            ArrayPool.Return(squared);
        }
    }

    /// <summary>The mean of √d² over the 2nd to (k + 1)th smallest of <paramref name="squared"/> (k + 1 ≤ its length).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float MeanOfNearest(ReadOnlySpan<float> squared, int k)
    {
        // The k + 1 smallest, kept sorted by insertion: most values fail the first comparison with the largest kept.
        Span<float> nearest = stackalloc float[k + 1];
        int kept = 0;
        foreach (float d in squared)
        {
            if (kept == nearest.Length && !(d < nearest[kept - 1])) continue;
            int i = kept == nearest.Length ? kept - 1 : kept++;
            while (i > 0 && nearest[i - 1] > d)
            {
                nearest[i] = nearest[i - 1];
                i--;
            }
            nearest[i] = d;
        }
        double sum = 0;
        for (int i = 1; i <= k; i++) sum += Math.Sqrt(nearest[i]);
        return (float)(sum / k);
    }

    /// <summary>The codes dimension-major (built once), each dimension's row padded with zeros to whole vectors; the padding's distances are never read.</summary>
    private float[] ByDimension(int dimension)
    {
        if (_byDimension is { } built) return built;
        int count = CountFor(dimension);
        int padded = (count + Vector<float>.Count - 1) / Vector<float>.Count * Vector<float>.Count;
        var result = new float[dimension * padded];
        for (int m = 0; m < count; m++)
            for (int j = 0; j < dimension; j++)
                result[j * padded + m] = Codes[m * dimension + j];
        return _byDimension = result;
    }

    /// <summary>Per-call scratch of the squared distances, from the shared pool: scoring threads do not allocate.</summary>
    private static System.Buffers.ArrayPool<float> ArrayPool => System.Buffers.ArrayPool<float>.Shared;
}
