using System.Globalization;
using System.IO.Compression;

namespace MLNet.Vae.Benchmarks;

/// <summary>One data set of the development suite: rows, labels (true = planted anomaly), and a name.</summary>
internal sealed record TabularDataSet(string Name, float[][] Rows, bool[] Anomalous);

/// <summary>
/// The synthetic tabular suites (docs/benchmarks.md): ADBench's four synthetic anomaly types injected into normal rows.
/// Normal rows come from a seeded Gaussian mixture at several widths and sizes, or from the small tables Debian's
/// python3-sklearn ships (iris, wine, diabetes), or from Fashion-MNIST's images pooled into tables. The tables reserved for
/// independent evaluation are never read here.
/// The anomaly types follow ADBench (Han et al., 2022), with a Gaussian mixture standing in for their fitted models:
/// local: the normal components with covariance × 5; global: uniform over the normal range × 1.1; dependency: each
/// feature drawn independently from its normal marginal (the dependence between features is lost); clustered: the
/// normal components with their means moved by 5 standard deviations.
/// </summary>
internal static class TabularSuite
{
    public static readonly string[] AnomalyTypes = ["local", "global", "dependency", "clustered"];
    private const string SklearnData = "/usr/lib/python3/dist-packages/sklearn/datasets/data";

    /// <summary>
    /// The contaminated suite (<c>-- tabular --suite contaminated</c>): small, wide tables and large groups of anomalies, as
    /// in the ODDS sets where a whole class (30-36% of the rows) is the anomaly: widths 24 to 60, 200 to 500 normal rows,
    /// 3% to 35% anomalies of the four types. A group that large is dense in its own right, which a detector that scores
    /// density alone takes for normal.
    /// </summary>
    public static IEnumerable<TabularDataSet> Contaminated(int seed = 1) =>
        MixtureSets([(60, 200, 0.1), (40, 300, 0.3), (24, 350, 0.35), (30, 500, 0.03)], seed);

    /// <summary>For each (width, rows, contamination), a seeded 3-component Gaussian mixture with each anomaly type injected.</summary>
    private static IEnumerable<TabularDataSet> MixtureSets((int Width, int Rows, double Contamination)[] sizes, int seed)
    {
        foreach (var (width, rows, contamination) in sizes)
        {
            var random = new Random(seed * 7919 + width * 31 + rows);
            var mixture = Mixture.Random(width, components: 3, random);
            foreach (string type in AnomalyTypes)
                yield return Inject($"gmm{width}x{rows}-{type}", mixture.Sample(rows, random), mixture, type, contamination, random);
        }
    }

    /// <summary>The names of the real-table development suite, in its recipe's order.</summary>
    public static readonly string[] RealTableNames = ["vertebral", "heart", "ilpd", "body", "cells", "dhfr", "german", "lending", "churn", "hpc", "cps1988", "hmda"];

    /// <summary>Where setup-real-tables.sh writes the real-table suite: $MLNET_VAE_REAL_TABLES, by default ~/.local/share/mlnet-vae/real-tables.</summary>
    public static string RealTablesFolder => Environment.GetEnvironmentVariable("MLNET_VAE_REAL_TABLES")
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "mlnet-vae", "real-tables");

    /// <summary>
    /// The real-table development suite (<c>-- tabular --suite real</c>): twelve real tables whose anomalies are a real minority
    /// class (src/MLNet.Vae.Benchmarks/RealTables: the recipes, rebuilt from Debian's R data packages by setup-real-tables.sh
    /// and checked by MD5). Each CSV holds f0..f{d-1} and label (1 = anomaly). Empty, with the way to build it, when missing.
    /// </summary>
    public static IEnumerable<TabularDataSet> Real(IReadOnlyCollection<string>? only = null)
    {
        var missing = RealTableNames.Where(n => !File.Exists(Path.Combine(RealTablesFolder, n + ".csv"))).ToList();
        if (missing.Count > 0)
        {
            Console.Error.WriteLine($"The real-table suite is not in {RealTablesFolder} ({string.Join(", ", missing)} missing): " +
                                    "build it with src/MLNet.Vae.Benchmarks/RealTables/setup-real-tables.sh, or point MLNET_VAE_REAL_TABLES at its folder.");
            yield break;
        }
        foreach (string name in RealTableNames.Where(n => only is null || only.Count == 0 || only.Contains(n)))
        {
            var lines = File.ReadLines(Path.Combine(RealTablesFolder, name + ".csv")).Skip(1)
                .Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();
            yield return new TabularDataSet(name, lines.Select(l => l[..^1].Select(v => (float)v).ToArray()).ToArray(), lines.Select(l => l[^1] > 0).ToArray());
        }
    }

    public static IEnumerable<TabularDataSet> All(int seed = 1)
    {
        foreach (var set in MixtureSets([(8, 1000, 0.05), (16, 2000, 0.1), (32, 5000, 0.05), (64, 2000, 0.1)], seed))
            yield return set;
        foreach (var (name, table) in SklearnTables())
        {
            var random = new Random(seed * 104729 + name.Length);
            var mixture = Mixture.Fit(table);
            foreach (string type in AnomalyTypes)
                yield return Inject($"{name}-{type}", table, mixture, type, 0.1, random);
        }
    }

    /// <summary>
    /// The realistic suite (<c>-- tabular --suite realistic</c>), closer to real anomaly benchmarks than <see cref="All"/>:
    /// <list type="bullet">
    /// <item><description>class-based sets, the ODDS protocol: the rows of the other classes are normal, a sample of one class
    /// (10% of the normal count) is anomalous; iris and wine, each class in turn;</description></item>
    /// <item><description>mixed columns: Gaussian-mixture rows with the four anomaly types injected, then every row (normal or
    /// not) passed through the same column transforms real tables show: a quarter of the columns heavy-tailed (eˣ), a quarter
    /// ordinal (11 integer levels), two zero-inflated (70% zeros), and two constant columns appended.</description></item>
    /// </list>
    /// </summary>
    public static IEnumerable<TabularDataSet> Realistic(int seed = 1)
    {
        foreach (var (name, table, classes) in LabelledSklearnTables())
        {
            for (int anomalyClass = 0; anomalyClass < 3; anomalyClass++)
            {
                var random = new Random(seed * 15485863 + name.Length * 10 + anomalyClass);
                var normal = table.Where((_, i) => classes[i] != anomalyClass).ToArray();
                var pool = table.Where((_, i) => classes[i] == anomalyClass).OrderBy(_ => random.Next()).ToArray();
                var planted = pool.Take(Math.Max(5, (int)Math.Round(0.1 * normal.Length))).ToArray();
                yield return Shuffled($"{name}-class{anomalyClass}", normal, planted, random);
            }
        }
        foreach (var (width, rows, contamination) in new[] { (16, 2000, 0.05), (32, 500, 0.1) })
        {
            var random = new Random(seed * 6151 + width * 31 + rows);
            var mixture = Mixture.Random(width, components: 3, random);
            var normal = mixture.Sample(rows, random);
            var columns = MixedColumns.Fit(normal);
            foreach (string type in AnomalyTypes)
            {
                var set = Inject($"mixed{width}x{rows}-{type}", normal, mixture, type, contamination, random);
                yield return set with { Rows = set.Rows.Select(columns.Apply).ToArray() };
            }
        }
    }

    /// <summary>
    /// The Fashion-MNIST tables (<c>-- tabular --suite fashion-tables</c>), real tables of the digits kind: each image
    /// averaged over 4 × 4 blocks into 49 features and rounded to the integers 0 to 16; 200 training images of each of nine
    /// classes are normal and 5% of that count, of the tenth class, anomalous, each class in turn. Skipped when
    /// Fashion-MNIST is not installed.
    /// </summary>
    public static IEnumerable<TabularDataSet> PooledFashion(int seed = 1)
    {
        if (!File.Exists(Path.Combine(FashionMnist.Folder, "train-images-idx3-ubyte.gz")))
        {
            Console.Error.WriteLine($"Fashion-MNIST's tables skipped: it is not installed in {FashionMnist.Folder} (apt-get install dataset-fashion-mnist, or point FASHION_MNIST_DIR at its files).");
            yield break;
        }
        var data = FashionMnist.Load();
        for (int anomalyClass = 0; anomalyClass < 10; anomalyClass++)
        {
            var random = new Random(seed * 3571 + anomalyClass);
            float[][] Sample(Func<byte, bool> classWanted, int perClass) => Enumerable.Range(0, 10).Where(c => classWanted((byte)c))
                .SelectMany(c => Enumerable.Range(0, data.TrainLabels.Length).Where(i => data.TrainLabels[i] == c)
                    .OrderBy(_ => random.Next()).Take(perClass))
                .Select(i => Pooled(data.TrainImages[i])).ToArray();
            var normal = Sample(c => c != anomalyClass, 200);
            var planted = Sample(c => c == anomalyClass, (int)(0.05 * normal.Length));
            yield return Shuffled($"fashion7x7-class{anomalyClass}", normal, planted, random);
        }
    }

    private static float[] Pooled(float[] image)
    {
        const int Block = 4, Side = FashionMnist.Side / Block;
        var pooled = new float[Side * Side];
        for (int y = 0; y < FashionMnist.Side; y++)
            for (int x = 0; x < FashionMnist.Side; x++)
                pooled[y / Block * Side + x / Block] += image[y * FashionMnist.Side + x] / (Block * Block);
        return pooled.Select(v => MathF.Round(16 * v)).ToArray();
    }

    /// <summary>The column transforms of the mixed sets, fitted on the normal rows so that normal and anomalous rows share them.</summary>
    private sealed class MixedColumns(double[] low, double[] high, double[] q70)
    {
        public static MixedColumns Fit(float[][] normal)
        {
            int width = normal[0].Length;
            var columns = Enumerable.Range(0, width).Select(j => normal.Select(r => (double)r[j]).Order().ToArray()).ToArray();
            return new MixedColumns(columns.Select(c => c[0]).ToArray(), columns.Select(c => c[^1]).ToArray(),
                columns.Select(c => c[(int)(0.7 * (c.Length - 1))]).ToArray());
        }

        public float[] Apply(float[] row)
        {
            int width = row.Length, quarter = width / 4;
            var result = new float[width + 2];
            for (int j = 0; j < width; j++)
            {
                double x = row[j], spread = high[j] - low[j];
                result[j] = (float)(j < quarter ? Math.Exp(2 * (x - low[j]) / spread)                       // heavy right tail
                    : j < 2 * quarter ? Math.Round(Math.Clamp(10 * (x - low[j]) / spread, -5, 15))          // ordinal levels
                    : j < 2 * quarter + 2 ? Math.Max(0, x - q70[j])                                          // zero-inflated
                    : x);
            }
            result[width] = 1;
            result[width + 1] = 1;
            return result;
        }
    }

    private static TabularDataSet Shuffled(string name, float[][] normal, float[][] planted, Random random)
    {
        var rows = normal.Concat(planted).ToArray();
        var labels = normal.Select(_ => false).Concat(planted.Select(_ => true)).ToArray();
        var order = Enumerable.Range(0, rows.Length).OrderBy(_ => random.Next()).ToArray();
        return new TabularDataSet(name, order.Select(i => rows[i]).ToArray(), order.Select(i => labels[i]).ToArray());
    }

    private static TabularDataSet Inject(string name, float[][] normal, Mixture mixture, string type, double contamination, Random random)
    {
        int anomalies = Math.Max(5, (int)Math.Round(normal.Length * contamination / (1 - contamination)));
        var planted = type switch
        {
            "local" => mixture.Scaled(covariance: 5).Sample(anomalies, random),
            "clustered" => mixture.Shifted(standardDeviations: 5, random).Sample(anomalies, random),
            "global" => Global(normal, anomalies, random),
            "dependency" => Independent(normal, anomalies, random),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
        // Shuffle, so that no method can profit from the order.
        return Shuffled(name, normal, planted, random);
    }

    private static float[][] Global(float[][] normal, int count, Random random)
    {
        int width = normal[0].Length;
        var low = Enumerable.Range(0, width).Select(j => normal.Min(r => r[j])).ToArray();
        var high = Enumerable.Range(0, width).Select(j => normal.Max(r => r[j])).ToArray();
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, width).Select(j =>
        {
            double centre = (low[j] + high[j]) / 2, half = 1.1 * (high[j] - low[j]) / 2;
            return (float)(centre + half * (2 * random.NextDouble() - 1));
        }).ToArray()).ToArray();
    }

    private static float[][] Independent(float[][] normal, int count, Random random) =>
        Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, normal[0].Length).Select(j => normal[random.Next(normal.Length)][j]).ToArray()).ToArray();

    /// <summary>iris, wine and diabetes from python3-sklearn's data folder, when it is installed.</summary>
    private static IEnumerable<(string Name, float[][] Rows)> SklearnTables()
    {
        if (!Directory.Exists(SklearnData))
        {
            Console.Error.WriteLine($"sklearn's tables skipped: {SklearnData} is missing (apt-get install python3-sklearn).");
            yield break;
        }
        yield return ("iris", ReadCsv(Path.Combine(SklearnData, "iris.csv"), skipLines: 1, dropLastColumn: true));
        yield return ("wine", ReadCsv(Path.Combine(SklearnData, "wine_data.csv"), skipLines: 1, dropLastColumn: true));
        yield return ("diabetes", ReadCsv(Path.Combine(SklearnData, "diabetes_data_raw.csv.gz"), skipLines: 0, dropLastColumn: false, separator: ' '));
    }

    /// <summary>iris and wine with their class (the last column), when python3-sklearn is installed.</summary>
    private static IEnumerable<(string Name, float[][] Rows, int[] Classes)> LabelledSklearnTables()
    {
        if (!Directory.Exists(SklearnData))
        {
            Console.Error.WriteLine($"sklearn's tables skipped: {SklearnData} is missing (apt-get install python3-sklearn).");
            yield break;
        }
        foreach (var (name, file) in new[] { ("iris", "iris.csv"), ("wine", "wine_data.csv") })
        {
            var withClass = ReadCsv(Path.Combine(SklearnData, file), skipLines: 1, dropLastColumn: false);
            yield return (name, withClass.Select(r => r[..^1]).ToArray(), withClass.Select(r => (int)r[^1]).ToArray());
        }
    }

    private static float[][] ReadCsv(string path, int skipLines, bool dropLastColumn, char separator = ',')
    {
        using var file = File.OpenRead(path);
        using var reader = new StreamReader(path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file);
        var rows = new List<float[]>();
        for (int line = 0; reader.ReadLine() is string text; line++)
        {
            if (line < skipLines || string.IsNullOrWhiteSpace(text)) continue;
            var cells = text.Split(separator, StringSplitOptions.RemoveEmptyEntries);
            if (dropLastColumn) cells = cells[..^1];
            rows.Add(cells.Select(c => float.Parse(c, CultureInfo.InvariantCulture)).ToArray());
        }
        return rows.ToArray();
    }

    /// <summary>A Gaussian mixture with full covariances, kept as means and Cholesky factors.</summary>
    private sealed class Mixture(double[][] means, double[][,] cholesky, double[] scales)
    {
        public static Mixture Random(int width, int components, Random random)
        {
            var means = Enumerable.Range(0, components).Select(_ => Enumerable.Range(0, width).Select(_ => 4 * Gaussian(random)).ToArray()).ToArray();
            var factors = Enumerable.Range(0, components).Select(_ =>
            {
                // A low-rank-plus-noise covariance: features depend on a few factors, as in real tables.
                int rank = Math.Max(2, width / 4);
                var loadings = new double[width, rank];
                for (int i = 0; i < width; i++) for (int k = 0; k < rank; k++) loadings[i, k] = Gaussian(random);
                var covariance = new double[width, width];
                for (int i = 0; i < width; i++)
                    for (int j = 0; j < width; j++)
                    {
                        for (int k = 0; k < rank; k++) covariance[i, j] += loadings[i, k] * loadings[j, k];
                        if (i == j) covariance[i, j] += 0.1;
                    }
                return Cholesky(covariance);
            }).ToArray();
            return new Mixture(means, factors, Enumerable.Repeat(1.0, components).ToArray());
        }

        /// <summary>One Gaussian fitted to a table (mean and covariance, with a small ridge).</summary>
        public static Mixture Fit(float[][] rows)
        {
            int width = rows[0].Length;
            var mean = Enumerable.Range(0, width).Select(j => rows.Average(r => (double)r[j])).ToArray();
            var covariance = new double[width, width];
            foreach (var r in rows)
                for (int i = 0; i < width; i++)
                    for (int j = 0; j < width; j++) covariance[i, j] += (r[i] - mean[i]) * (r[j] - mean[j]) / rows.Length;
            for (int i = 0; i < width; i++) covariance[i, i] += 1e-6 + 1e-3 * covariance[i, i];
            return new Mixture([mean], [Cholesky(covariance)], [1.0]);
        }

        public Mixture Scaled(double covariance) => new(means, cholesky, scales.Select(s => s * Math.Sqrt(covariance)).ToArray());

        public Mixture Shifted(double standardDeviations, Random random) => new(
            means.Select((m, c) => m.Select((v, i) => v + standardDeviations * Math.Sqrt(Variance(c, i)) * (random.Next(2) * 2 - 1)).ToArray()).ToArray(),
            cholesky, scales);

        public float[][] Sample(int count, Random random) => Enumerable.Range(0, count).Select(_ =>
        {
            int c = random.Next(means.Length);
            int width = means[c].Length;
            var z = Enumerable.Range(0, width).Select(_ => Gaussian(random)).ToArray();
            var x = new float[width];
            for (int i = 0; i < width; i++)
            {
                double value = means[c][i];
                for (int k = 0; k <= i; k++) value += scales[c] * cholesky[c][i, k] * z[k];
                x[i] = (float)value;
            }
            return x;
        }).ToArray();

        private double Variance(int component, int feature)
        {
            double sum = 0;
            for (int k = 0; k <= feature; k++) sum += cholesky[component][feature, k] * cholesky[component][feature, k];
            return sum;
        }

        private static double[,] Cholesky(double[,] a)
        {
            int n = a.GetLength(0);
            var l = new double[n, n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j <= i; j++)
                {
                    double sum = a[i, j];
                    for (int k = 0; k < j; k++) sum -= l[i, k] * l[j, k];
                    l[i, j] = i == j ? Math.Sqrt(Math.Max(sum, 1e-12)) : sum / l[j, j];
                }
            return l;
        }
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
