using System.Numerics;

namespace MLNet.Vae.Model;

/// <summary>
/// Each feature's count, sum and sum of squares over the training rows, gathered in one pass (in memory or streamed in
/// blocks): what the standardization, the mean-prediction baseline and the check for degenerate data are computed from.
/// </summary>
internal sealed class FeatureMoments(int width)
{
    /// <summary>
    /// The smallest spread a feature is scaled by, relative to its magnitude: float32 tells values near m apart only to about
    /// 1.2e-7 |m|, so a spread below about ten of those steps is rounding, not variation.
    /// </summary>
    public const double RelativeScaleFloor = 1e-6;

    /// <summary>The smallest spread of a feature whose mean is 0 (or nearly): a positive normal float far below any real unit.</summary>
    public const double AbsoluteScaleFloor = 1e-30;

    private readonly double[] _sum = new double[width];
    private readonly double[] _sumOfSquares = new double[width];

    public int Width => _sum.Length;
    public long Count { get; private set; }

    /// <summary>
    /// Adds one row's values and their squares. Vectorized across features (each feature still adds its rows in order, in
    /// double, so the sums are the scalar loop's to the bit): 60,000 rows of 784 took 0.15 s one value at a time.
    /// </summary>
    public void Add(ReadOnlySpan<float> row)
    {
        var sums = _sum.AsSpan(0, row.Length);
        var squares = _sumOfSquares.AsSpan(0, row.Length);
        int i = 0, half = Vector<double>.Count;
        for (; Vector.IsHardwareAccelerated && i <= row.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            Vector.Widen(new Vector<float>(row[i..]), out var low, out var high);
            (new Vector<double>(sums[i..]) + low).CopyTo(sums[i..]);
            (new Vector<double>(sums[(i + half)..]) + high).CopyTo(sums[(i + half)..]);
            (new Vector<double>(squares[i..]) + low * low).CopyTo(squares[i..]);
            (new Vector<double>(squares[(i + half)..]) + high * high).CopyTo(squares[(i + half)..]);
        }
        for (; i < row.Length; i++)
        {
            _sum[i] += row[i];
            _sumOfSquares[i] += (double)row[i] * row[i];
        }
        Count++;
    }

    /// <summary>Adds <paramref name="count"/> rows of a row-major block.</summary>
    public void Add(ReadOnlySpan<float> rows, int count)
    {
        for (int r = 0; r < count; r++) Add(rows.Slice(r * Width, Width));
    }

    public double Mean(int feature) => _sum[feature] / Count;

    /// <summary>The population standard deviation of a feature.</summary>
    public double StandardDeviation(int feature)
    {
        double m = Mean(feature);
        return Math.Sqrt(Math.Max(0, _sumOfSquares[feature] / Count - m * m));
    }

    /// <summary>The spread below which a feature whose mean is <paramref name="mean"/> counts as constant.</summary>
    public static double ScaleFloor(double mean) => Math.Max(RelativeScaleFloor * Math.Abs(mean), AbsoluteScaleFloor);

    /// <summary>Whether a feature varies by more than float32 rounding around its mean (<see cref="ScaleFloor"/>).</summary>
    public bool Varies(int feature) => StandardDeviation(feature) > ScaleFloor(Mean(feature));

    /// <summary>The features that do not vary (<see cref="Varies"/>), in order.</summary>
    public int[] ConstantFeatures() => Enumerable.Range(0, Width).Where(i => !Varies(i)).ToArray();

    public double[] Means() => Enumerable.Range(0, Width).Select(Mean).ToArray();

    /// <summary>
    /// x̃ = (x − m) / s with s the feature's standard deviation, or <see cref="ScaleFloor"/> where it is smaller: a feature
    /// with a spread of 1e-5 (sensor readings in SI units) is scaled by its own spread, and one that never changes by a spread
    /// so small that any other value stands out.
    /// </summary>
    public FeatureStandardization Standardization()
    {
        var mean = new float[Width];
        var scale = new float[Width];
        for (int i = 0; i < Width; i++)
        {
            double m = Mean(i);
            mean[i] = (float)m;
            scale[i] = (float)Math.Max(StandardDeviation(i), ScaleFloor(m));
        }
        return new FeatureStandardization(mean, scale);
    }
}
