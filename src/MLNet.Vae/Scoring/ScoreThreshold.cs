namespace MLNet.Vae.Scoring;

/// <summary>The anomaly threshold learned from a contamination rate.</summary>
internal static class ScoreThreshold
{
    /// <summary>
    /// The (1 − <paramref name="contamination"/>) quantile of <paramref name="scores"/>, with linear interpolation
    /// between order statistics (NumPy's default), so about that fraction of the training rows scores above it.
    /// </summary>
    public static float FromContamination(ReadOnlySpan<float> scores, double contamination)
    {
        if (scores.IsEmpty) throw new ArgumentException("No scores to take a quantile of.", nameof(scores));
        var sorted = scores.ToArray();
        Array.Sort(sorted);
        double position = (1 - contamination) * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        double fraction = position - below;
        // An order statistic, or equal neighbours (ties, two +∞), is itself: interpolating 0 × ∞ or ∞ − ∞ would give NaN.
        if (fraction == 0 || sorted[below] == sorted[above]) return sorted[below];
        return (float)(sorted[below] + fraction * ((double)sorted[above] - sorted[below]));
    }

    /// <summary>
    /// <paramref name="scores"/> sorted ascending when there are at most <paramref name="maximum"/>; otherwise that many
    /// evenly spaced quantiles of them (the first and last are the minimum and the maximum).
    /// </summary>
    public static float[] SortedQuantiles(ReadOnlySpan<float> scores, int maximum)
    {
        var sorted = scores.ToArray();
        Array.Sort(sorted);
        if (sorted.Length <= maximum) return sorted;
        var quantiles = new float[maximum];
        for (int i = 0; i < maximum; i++) quantiles[i] = sorted[(int)Math.Round(i * (sorted.Length - 1.0) / (maximum - 1))];
        return quantiles;
    }
}
