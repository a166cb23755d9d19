namespace MLNet.Vae.Scoring;

/// <summary>
/// Where a quantity sits on the training rows: its median and robust spread (the inter-quartile range / 1.349, which equals
/// σ for normal data; the standard deviation when the range is 0, and 1 when that is 0 too), so that terms of different
/// units add up and a score reads in robust standard deviations.
/// </summary>
internal sealed record RobustScale(float Center, float Scale)
{
    public static readonly RobustScale Identity = new(0, 1);

    public float Standardize(float value) => (value - Center) / Scale;

    public bool IsValid => float.IsFinite(Center) && float.IsFinite(Scale) && Scale > 0;

    /// <summary>The median and robust spread of the finite values (0 and 1 when there are none).</summary>
    public static RobustScale Fit(IEnumerable<float> values)
    {
        var finite = values.Where(float.IsFinite).Select(v => (double)v).Order().ToArray();
        if (finite.Length == 0) return Identity;
        double median = Quantile(finite, 0.5);
        double scale = (Quantile(finite, 0.75) - Quantile(finite, 0.25)) / 1.349;
        if (!(scale > 1e-12))
        {
            double mean = finite.Average();
            scale = Math.Sqrt(finite.Average(v => (v - mean) * (v - mean)));
        }
        return new RobustScale((float)median, scale > 1e-12 ? (float)scale : 1f);
    }

    /// <summary>The q quantile of sorted values, interpolating between order statistics.</summary>
    private static double Quantile(double[] sorted, double q)
    {
        double position = q * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }
}
