namespace MLNet.Vae.Model;

/// <summary>
/// Per-feature standardization x̃ = (x − m) / s fitted on the training rows, for the Gaussian likelihood.
/// A feature that is constant in the training data gets s = 1, so it stays finite and reconstructs as m.
/// </summary>
internal sealed record FeatureStandardization(float[] Mean, float[] Scale)
{
    private const double ConstantFeatureTolerance = 1e-8;

    /// <summary>Fits m and s (population standard deviation) column by column on a row-major [rows × width] matrix.</summary>
    public static FeatureStandardization Fit(ReadOnlySpan<float> rows, int rowCount, int width)
    {
        var sum = new double[width];
        var sumOfSquares = new double[width];
        for (int r = 0; r < rowCount; r++) AddRow(rows.Slice(r * width, width), sum, sumOfSquares);
        return FromMoments(sum, sumOfSquares, rowCount);
    }

    /// <summary>Adds a row's values and their squares to running per-feature sums (one pass, for data streamed in blocks).</summary>
    public static void AddRow(ReadOnlySpan<float> row, double[] sum, double[] sumOfSquares)
    {
        for (int i = 0; i < row.Length; i++)
        {
            sum[i] += row[i];
            sumOfSquares[i] += (double)row[i] * row[i];
        }
    }

    /// <summary>Whether a feature varies, from its sums over <paramref name="rowCount"/> rows: a constant one gets s = 1.</summary>
    public static bool Varies(double sum, double sumOfSquares, long rowCount)
    {
        double m = sum / rowCount;
        return Math.Max(0, sumOfSquares / rowCount - m * m) > ConstantFeatureTolerance;
    }

    /// <summary>m and s from per-feature sums of the values and of their squares over <paramref name="rowCount"/> rows.</summary>
    public static FeatureStandardization FromMoments(double[] sum, double[] sumOfSquares, long rowCount)
    {
        int width = sum.Length;
        var mean = new float[width];
        var scale = new float[width];
        for (int i = 0; i < width; i++)
        {
            double m = sum[i] / rowCount;
            double variance = Math.Max(0, sumOfSquares[i] / rowCount - m * m);
            mean[i] = (float)m;
            scale[i] = variance > ConstantFeatureTolerance ? (float)Math.Sqrt(variance) : 1f;
        }
        return new FeatureStandardization(mean, scale);
    }
}
