namespace MLNet.Vae.Model;

/// <summary>
/// The skewed features whose logarithm is appended to every row before the VAE sees it (<see cref="VaeOptions.AppendLogOfSkewedFeatures"/>):
/// a row x of d values becomes [x, log(1 + max(x_j, 0)) for each chosen j], d + k values. The members of a model see only
/// the wider rows; the ensemble owns this map and undoes it on the way out (feature scores folded back onto their feature,
/// reconstructions and generated rows cut to the first d values).
/// </summary>
/// <remarks>
/// Why: the VAE compares rows in standardized units, where a heavy-tailed feature (wages, counts, amounts) spends most of its
/// range on its tail and anomalies in its bulk (part-time workers' low wages) stand out little. Its logarithm shows them, and
/// keeping the feature itself keeps the anomalies of its tail: on the real-table suite, mean ROC-AUC 0.688 → 0.697 over five
/// seeds (docs/decisions.md).
/// </remarks>
/// <param name="InputWidth">d, the width of the rows the model is given.</param>
/// <param name="Features">The chosen features j, ascending, each once.</param>
internal sealed record LogFeatures(int InputWidth, int[] Features)
{
    /// <summary>A feature is skewed when its skewness E[(x − mean)³] / sd³ is above this (1 and 2 measured; 2 kept).</summary>
    public const double MinimumSkewness = 2;
    /// <summary>A feature is skewed only when it takes more than this many distinct values: codes and counts of a few values are categories.</summary>
    public const int MaximumCategoryValues = 10;

    /// <summary>d + k: the width of the rows the members see.</summary>
    public int ExpandedWidth => InputWidth + Features.Length;

    /// <summary>
    /// Writes <paramref name="count"/> rows of d values, expanded to d + k values each, into <paramref name="into"/>. A value
    /// below 0 (a feature that had none in training) counts as 0 in its logarithm; the feature itself still shows it. NaN
    /// stays NaN, so the row is refused as it would be without the logarithms.
    /// </summary>
    public void Expand(ReadOnlySpan<float> rows, int count, Span<float> into)
    {
        int d = InputWidth, expanded = ExpandedWidth;
        for (int r = 0; r < count; r++)
        {
            var row = rows.Slice(r * d, d);
            var target = into.Slice(r * expanded, expanded);
            row.CopyTo(target);
            for (int m = 0; m < Features.Length; m++)
            {
                float x = row[Features[m]];
                target[d + m] = float.IsNaN(x) ? float.NaN : (float)Math.Log(1 + Math.Max(0.0, x));
            }
        }
    }

    /// <summary>The <paramref name="count"/> rows expanded into a new array, [count × (d + k)].</summary>
    public float[] Expand(ReadOnlySpan<float> rows, int count)
    {
        var expanded = new float[(long)count * ExpandedWidth];
        Expand(rows, count, expanded);
        return expanded;
    }

    /// <summary>
    /// Per-feature terms of the expanded rows [count × (d + k)] → terms of the input's features [count × d]: a logarithm's
    /// term is added to its feature's, so the d terms still sum to what the d + k did.
    /// </summary>
    public void Fold(ReadOnlySpan<float> expandedTerms, int count, Span<float> terms)
    {
        int d = InputWidth, expanded = ExpandedWidth;
        for (int r = 0; r < count; r++)
        {
            var source = expandedTerms.Slice(r * expanded, expanded);
            var target = terms.Slice(r * d, d);
            source[..d].CopyTo(target);
            for (int m = 0; m < Features.Length; m++) target[Features[m]] += source[d + m];
        }
    }

    /// <summary>Expanded rows [count × (d + k)] → their first d values, the input's features.</summary>
    public float[] Cut(float[] expandedRows, int count)
    {
        int d = InputWidth, expanded = ExpandedWidth;
        var rows = new float[(long)count * d];
        for (int r = 0; r < count; r++) expandedRows.AsSpan(r * expanded, d).CopyTo(rows.AsSpan(r * d, d));
        return rows;
    }

    /// <summary>Whether it can be the map of a network of <paramref name="expandedWidth"/> inputs: 1 ≤ k &lt; d + k, features ascending in [0, d).</summary>
    public bool IsValidFor(int expandedWidth)
    {
        // A file's JSON can leave the features out or give any numbers.
        if (Features is null || Features.Length == 0 || InputWidth < 1 || ExpandedWidth != expandedWidth) return false;
        for (int m = 0; m < Features.Length; m++)
            if (Features[m] < 0 || Features[m] >= InputWidth || (m > 0 && Features[m] <= Features[m - 1])) return false;
        return true;
    }

    /// <summary>
    /// The skewed features of rows of <paramref name="width"/> values given in blocks (one array in memory, or a stream's
    /// blocks), or null when none is; and how many rows there were.
    /// </summary>
    public static (LogFeatures? Logs, long Rows) Choose(IEnumerable<(float[] Rows, int Count)> blocks, int width)
    {
        var chooser = new Chooser(width);
        foreach (var (rows, count) in blocks) chooser.Add(rows, count);
        return (chooser.Choose(), chooser.Rows);
    }

    /// <summary>
    /// Gathers, over the rows of one pass, what decides whether each feature is skewed: never negative, more than
    /// <see cref="MaximumCategoryValues"/> distinct values, skewness above <see cref="MinimumSkewness"/>. The moments are
    /// summed in double around the first row's value, so a feature far from 0 keeps its spread.
    /// </summary>
    public sealed class Chooser(int width)
    {
        private readonly double[] _shift = new double[width];
        private readonly double[] _sum = new double[width];
        private readonly double[] _squares = new double[width];
        private readonly double[] _cubes = new double[width];
        private readonly bool[] _negative = new bool[width];
        // Up to MaximumCategoryValues + 1 distinct values per feature; once a feature has that many, it stops looking.
        private readonly float[] _distinct = new float[width * (MaximumCategoryValues + 1)];
        private readonly int[] _distinctCount = new int[width];
        private long _count;

        /// <summary>How many rows were added.</summary>
        public long Rows => _count;

        /// <summary>Adds <paramref name="count"/> rows of a row-major block of finite values.</summary>
        public void Add(ReadOnlySpan<float> rows, int count)
        {
            for (int r = 0; r < count; r++)
            {
                var row = rows.Slice(r * width, width);
                if (_count == 0)
                    for (int j = 0; j < width; j++) _shift[j] = row[j];
                for (int j = 0; j < width; j++)
                {
                    float x = row[j];
                    double v = x - _shift[j];
                    _sum[j] += v;
                    _squares[j] += v * v;
                    _cubes[j] += v * v * v;
                    if (x < 0) _negative[j] = true;
                    if (_distinctCount[j] <= MaximumCategoryValues) Remember(j, x);
                }
                _count++;
            }
        }

        private void Remember(int feature, float x)
        {
            var seen = _distinct.AsSpan(feature * (MaximumCategoryValues + 1), _distinctCount[feature]);
            if (seen.IndexOf(x) < 0) _distinct[feature * (MaximumCategoryValues + 1) + _distinctCount[feature]++] = x;
        }

        /// <summary>The skewed features of the rows added, as a map; null when there is none.</summary>
        public LogFeatures? Choose()
        {
            var features = Enumerable.Range(0, width).Where(IsSkewed).ToArray();
            return features.Length == 0 ? null : new LogFeatures(width, features);
        }

        /// <summary>The population skewness of the feature, or NaN when it does not vary.</summary>
        public double Skewness(int feature)
        {
            double mean = _sum[feature] / _count;
            double variance = _squares[feature] / _count - mean * mean;
            if (!(variance > 0)) return double.NaN;
            double thirdMoment = _cubes[feature] / _count - 3 * mean * _squares[feature] / _count + 2 * mean * mean * mean;
            return thirdMoment / Math.Pow(variance, 1.5);
        }

        private bool IsSkewed(int feature) =>
            !_negative[feature] && _distinctCount[feature] > MaximumCategoryValues && Skewness(feature) > MinimumSkewness;
    }
}
