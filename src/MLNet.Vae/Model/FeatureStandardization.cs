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
        for (int r = 0; r < rowCount; r++)
        {
            var row = rows.Slice(r * width, width);
            for (int i = 0; i < width; i++)
            {
                sum[i] += row[i];
                sumOfSquares[i] += (double)row[i] * row[i];
            }
        }
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
