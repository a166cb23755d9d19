namespace MLNet.Vae.Benchmarks;

/// <summary>
/// The "Skewed features" recipe of docs/choosing-options.md, applied to a table's rows before Fit as a benchmark variant
/// part: "skewed=log" replaces every skewed feature by log(1 + x), "skewed=append" keeps it and appends log(1 + x) as one
/// more column. A feature is skewed when it is never negative, takes more than 10 distinct values and its skewness
/// E[(x − mean)³] / sd³ is above 2.
/// </summary>
internal static class SkewedFeatures
{
    /// <summary>The rows the variant's "skewed=" part asks for: <paramref name="rows"/> themselves when it has none.</summary>
    public static float[][] Rows(string variant, float[][] rows)
    {
        string? mode = variant.Split('+').Select(p => p.Split('=')).FirstOrDefault(p => p is ["skewed", _])?[1];
        if (mode is null) return rows;
        if (mode is not ("log" or "append")) throw new ArgumentException($"skewed= must be log or append, got '{mode}'.");
        int[] skewed = Enumerable.Range(0, rows[0].Length).Where(j => IsSkewed(rows.Select(r => (double)r[j]).ToArray())).ToArray();
        return rows.Select(r =>
        {
            var logs = skewed.Select(j => (float)Math.Log(1 + (double)r[j]));
            if (mode == "append") return r.Concat(logs).ToArray();
            var replaced = (float[])r.Clone();
            foreach (int j in skewed) replaced[j] = (float)Math.Log(1 + (double)r[j]);
            return replaced;
        }).ToArray();
    }

    /// <summary>Whether a feature with these values is skewed in the sense above.</summary>
    private static bool IsSkewed(double[] values)
    {
        if (values.Min() < 0 || values.Distinct().Take(11).Count() <= 10) return false;
        double mean = values.Average();
        double variance = values.Average(v => (v - mean) * (v - mean));
        if (variance == 0) return false;
        return values.Average(v => Math.Pow(v - mean, 3)) / Math.Pow(variance, 1.5) > 2;
    }
}
