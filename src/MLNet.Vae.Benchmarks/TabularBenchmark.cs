using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Benchmarks;

/// <summary>
/// The tabular development suite (<see cref="TabularSuite"/>) under the unsupervised protocol: every detector is fitted on
/// all rows, anomalies included, and scores all rows; ROC-AUC per data set and the mean. The VAE runs with default
/// options (only a seed), beside ML.NET's RandomizedPca and, when python3-sklearn is installed, scikit-learn's
/// IsolationForest and PCA (sklearn_baseline.py).
/// </summary>
internal static class TabularBenchmark
{
    public sealed class Row
    {
        public float[] Features { get; set; } = [];
    }

    /// <param name="variants">The VAE options to compare ("default", "models=3", ...).</param>
    /// <param name="suiteName">"real" (the twelve real tables, the primary yardstick), "adbench" (the 28 sets of injected anomalies), "realistic" (class-based sets and mixed columns),
    /// "contaminated" (small, wide tables with up to 35% anomalies) or "fashion-tables" (Fashion-MNIST pooled to 49 integer
    /// features, one class the anomaly).</param>
    /// <param name="output">Where the table goes.</param>
    /// <param name="dumpFolder">
    /// Null, or where to write each data set's rows for offline comparisons (latent_density_comparison.py): one CSV per set and
    /// variant, "label,score,μ₁,...,μ_L" per row, μ the latent features (the first model's in an ensemble).
    /// </param>
    /// <param name="only">The real suite's tables to run (all when null or empty).</param>
    /// <param name="seeds">
    /// How many seeds (1, 2, ...) each variant is fitted with; a table's figure is the mean of its ROC-AUCs. On the real suite
    /// the default options' mean moves by about 0.01 between seeds (docs/benchmarks.md), as far as most options move it, so a
    /// variant is judged on several.
    /// </param>
    public static int Run(IReadOnlyList<string> variants, string suiteName, TextWriter output, string? dumpFolder = null,
        IReadOnlyCollection<string>? only = null, int seeds = 1)
    {
        if (seeds < 1) throw new ArgumentOutOfRangeException(nameof(seeds), seeds, "--seeds must be at least 1.");
        bool real = suiteName == "real";
        var suite = (suiteName switch
        {
            "real" => TabularSuite.Real(only),
            "adbench" => TabularSuite.All(),
            "realistic" => TabularSuite.Realistic(),
            "contaminated" => TabularSuite.Contaminated(),
            "fashion-tables" => TabularSuite.PooledFashion(),
            _ => throw new ArgumentException($"--suite must be real, adbench, realistic, contaminated or fashion-tables, got '{suiteName}'."),
        }).ToList();
        if (suite.Count == 0)
        {
            // Its data is missing: the suite has said which and how to install it.
            Console.Error.WriteLine($"The {suiteName} suite has no data set to run.");
            return 1;
        }
        // The real suite is measured against the five classical references of its recipe, computed in this run; the
        // synthetic suites against ML.NET's RandomizedPca and scikit-learn's IsolationForest and PCA.
        var baselines = real ? ClassicalReferences(suite) : SklearnBaselines(suite);
        string[] baselineNames = baselines is null ? [] : real ? ClassicalNames : ["IsolationForest", "PCA"];
        var columns = variants.Select(v => $"VAE {v}").Concat(real ? [] : ["RandomizedPca"]).Concat(baselineNames).ToList();
        var results = columns.ToDictionary(c => c, _ => new List<double>());
        var seconds = variants.ToDictionary(v => v, _ => 0.0);
        // Per variant, per seed: the ROC-AUC of each table, for the spread of the suite's mean between seeds.
        var bySeed = variants.ToDictionary(v => v, _ => Enumerable.Range(0, seeds).Select(_ => new List<double>()).ToArray());
        output.WriteLine($"| data set | rows x width | {string.Join(" | ", columns)} |");
        output.WriteLine($"|---|---|{string.Concat(columns.Select(_ => "---|"))}");
        foreach (var set in suite)
        {
            var ml = new MLContext(seed: 1);
            var data = View(ml, set.Rows);
            var row = new List<double>();
            foreach (string variant in variants)
            {
                var clock = Stopwatch.StartNew();
                for (int seed = 1; seed <= seeds; seed++)
                {
                    var options = BenchmarkVariant.Options(variant, new VaeOptions { Seed = seed }, set.Rows[0].Length, set.Rows.Length);
                    using var model = new VaeEstimator(ml, options).Fit(data);
                    var scored = model.Transform(data);
                    var scores = scored.GetColumn<float>("Score").ToArray();
                    bySeed[variant][seed - 1].Add(RocAuc.Compute(scores, set.Anomalous));
                    if (dumpFolder is not null)
                        Dump(dumpFolder, $"{set.Name}.{variant}{(seeds > 1 ? $".seed{seed}" : "")}.csv", set.Anomalous, scores, scored.GetColumn<float[]>("LatentFeatures").ToArray());
                }
                row.Add(bySeed[variant].Average(perSeed => perSeed[^1]));
                seconds[variant] += clock.Elapsed.TotalSeconds / seeds;
            }
            int width = set.Rows[0].Length;
            if (!real)
            {
                var pca = ml.AnomalyDetection.Trainers.RandomizedPca("Features", rank: Math.Max(1, Math.Min(20, width / 2)), ensureZeroMean: true, seed: 1).Fit(data);
                row.Add(RocAuc.Compute(pca.Transform(data).GetColumn<float>("Score").ToArray(), set.Anomalous));
            }
            if (baselines is not null) row.AddRange(baselines[set.Name]);
            for (int c = 0; c < columns.Count; c++) results[columns[c]].Add(row[c]);
            output.WriteLine($"| {set.Name} | {set.Rows.Length} x {width} | {string.Join(" | ", row.Select(v => v.ToString("F3", CultureInfo.InvariantCulture)))} |");
            output.Flush();
        }
        output.WriteLine($"| **mean** | | {string.Join(" | ", columns.Select(c => $"**{results[c].Average():F3}**"))} |");
        output.WriteLine();
        if (seeds > 1)
        {
            foreach (string variant in variants)
            {
                var means = bySeed[variant].Select(perSeed => perSeed.Average()).ToList();
                output.WriteLine($"VAE {variant}: the mean over {suite.Count} data sets by seed 1-{seeds}: " +
                                 $"{string.Join(", ", means.Select(m => m.ToString("F3", CultureInfo.InvariantCulture)))} " +
                                 $"(standard deviation {StandardDeviation(means):F3}).");
            }
            output.WriteLine();
        }
        if (real && baselines is not null) Margins(output, suite, variants, results, baselines);
        foreach (var (variant, total) in seconds)
            output.WriteLine($"VAE {variant}: {total:F0} s to fit and score the {suite.Count} data sets ({Environment.ProcessorCount} cores{(seeds > 1 ? ", one seed" : "")}).");
        return 0;
    }

    private static double StandardDeviation(IReadOnlyList<double> values)
    {
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }

    /// <summary>The classical references of the real suite, as classical_references.py names and prints them.</summary>
    private static readonly string[] ClassicalNames = ["IsolationForest", "PCA", "OneClassSvm", "LOF", "KNN"];

    /// <summary>
    /// The real suite's targets for each variant: its mean against the best single classical detector's mean and against the
    /// best detector of each table (the mean of the per-table best), and its largest shortfall to a table's best.
    /// </summary>
    private static void Margins(TextWriter output, List<TabularDataSet> suite, IReadOnlyList<string> variants,
        Dictionary<string, List<double>> results, Dictionary<string, double[]> baselines)
    {
        var classicalMeans = ClassicalNames.Select((name, i) => (Name: name, Mean: suite.Average(s => baselines[s.Name][i]))).ToList();
        var bestSingle = classicalMeans.MaxBy(c => c.Mean);
        var bestPerTable = suite.Select(s => baselines[s.Name].Max()).ToList();
        output.WriteLine($"Best single classical detector: {bestSingle.Name} {bestSingle.Mean:F3}; best detector chosen per table: {bestPerTable.Average():F3}.");
        foreach (string variant in variants)
        {
            var vae = results[$"VAE {variant}"];
            var gaps = suite.Select((s, i) => (s.Name, Gap: bestPerTable[i] - vae[i])).ToList();
            var worst = gaps.MaxBy(g => g.Gap);
            output.WriteLine($"VAE {variant}: {(vae.Average() - bestSingle.Mean).ToString("+0.000;-0.000;0.000", CultureInfo.InvariantCulture)} against {bestSingle.Name} (target +0.020); " +
                             $"largest shortfall to a table's best detector {worst.Gap:F3} on {worst.Name} (target at most 0.100); " +
                             $"{gaps.Count(g => g.Gap > 0.1)} tables short by more than 0.100.");
        }
        output.WriteLine();
    }

    /// <summary>The five classical references per table from RealTables/classical_references.py, or null when scikit-learn is missing.</summary>
    private static Dictionary<string, double[]>? ClassicalReferences(List<TabularDataSet> suite) =>
        RunPython("classical_references.py", [TabularSuite.RealTablesFolder, .. suite.Select(s => s.Name)]);

    private static void Dump(string folder, string file, bool[] anomalous, float[] scores, float[][] latent)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllLines(Path.Combine(folder, file), scores.Select((s, i) =>
            string.Join(",", new[] { anomalous[i] ? "1" : "0", s.ToString("R", CultureInfo.InvariantCulture) }
                .Concat(latent[i].Select(v => v.ToString("R", CultureInfo.InvariantCulture))))));
    }

    private static IDataView View(MLContext ml, float[][] rows)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Length);
        return ml.Data.LoadFromEnumerable(rows.Select(r => new Row { Features = r }).ToList(), schema);
    }

    /// <summary>IsolationForest and PCA ROC-AUC per data set from sklearn_baseline.py, or null when scikit-learn is missing.</summary>
    private static Dictionary<string, double[]>? SklearnBaselines(List<TabularDataSet> suite)
    {
        string folder = Directory.CreateTempSubdirectory("vae-tabular-").FullName;
        try
        {
            foreach (var set in suite)
                File.WriteAllLines(Path.Combine(folder, set.Name + ".csv"), set.Rows.Select((r, i) =>
                    (set.Anomalous[i] ? "1" : "0") + "," + string.Join(",", r.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));
            return RunPython("sklearn_baseline.py", [folder]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Runs one of the benchmark's scikit-learn scripts: "name,auc,auc,..." lines by name, or null when it cannot run.</summary>
    private static Dictionary<string, double[]>? RunPython(string script, IEnumerable<string> arguments)
    {
        try
        {
            var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, script));
            foreach (string argument in arguments) start.ArgumentList.Add(argument);
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            var lines = process.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                Console.Error.WriteLine($"scikit-learn baselines skipped (apt-get install python3-sklearn): {error.Result.Trim().Split('\n')[^1]}");
                return null;
            }
            return lines.Select(l => l.Split(',')).ToDictionary(p => p[0], p => p[1..].Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray());
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine("scikit-learn baselines skipped: /usr/bin/python3 is missing.");
            return null;
        }
    }
}
