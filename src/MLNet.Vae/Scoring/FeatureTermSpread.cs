namespace MLNet.Vae.Scoring;

/// <summary>
/// The spread of each feature's reconstruction-error term over the training rows, accumulated batch by batch (in float64,
/// so that a stream of millions of rows loses nothing), and the weights of
/// <see cref="VaeScoreKind.WeightedReconstructionError"/> made from it.
/// </summary>
internal sealed class FeatureTermSpread(int width)
{
    /// <summary>ε as a share of the mean standard deviation: a feature every training row reconstructs exactly weighs 1 / (0.3 mean σ).</summary>
    public const double EpsilonShare = 0.3;

    private readonly double[] _sum = new double[width];
    private readonly double[] _sumOfSquares = new double[width];
    private long _rows;

    /// <summary>Adds the terms of <paramref name="count"/> rows, [count × width] row-major; rows with a non-finite term are left out.</summary>
    public void Add(ReadOnlySpan<float> terms, int count)
    {
        for (int r = 0; r < count; r++)
        {
            var row = terms.Slice(r * width, width);
            bool finite = true;
            foreach (float t in row) finite &= float.IsFinite(t);
            if (!finite) continue;
            for (int i = 0; i < width; i++)
            {
                _sum[i] += row[i];
                _sumOfSquares[i] += (double)row[i] * row[i];
            }
            _rows++;
        }
    }

    /// <summary>wᵢ = 1 / (σᵢ + ε), ε = <see cref="EpsilonShare"/> × mean σ; all 1 when no row was added or nothing varies.</summary>
    public float[] Weights()
    {
        var deviations = new double[width];
        for (int i = 0; i < width && _rows > 0; i++)
        {
            double mean = _sum[i] / _rows;
            deviations[i] = Math.Sqrt(Math.Max(0, _sumOfSquares[i] / _rows - mean * mean));
        }
        double epsilon = EpsilonShare * (width == 0 ? 0 : deviations.Average());
        return deviations.Select(d => epsilon > 1e-12 ? (float)(1 / (d + epsilon)) : 1f).ToArray();
    }
}
