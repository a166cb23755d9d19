using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Benchmarks;

/// <summary>
/// Fit's peak memory as rows grow: for each row count, a fresh process (`scale-one`) fits one epoch on that many rows of
/// 50 features generated lazily (a rank-5 linear manifold with noise, never held: each pass over the IDataView generates
/// the rows again), and reports its time, rows/s and peak resident memory (VmHWM). The default 512 MiB in-memory limit
/// makes every row count above 2.7 million stream.
/// Run with: dotnet run -c Release --project src/MLNet.Vae.Benchmarks -- scale [--rows 1000000,10000000,30000000]
/// </summary>
public static class ScaleBenchmark
{
    private const int Width = 50;

    public sealed class Row
    {
        [VectorType(Width)] public float[] Features { get; set; } = [];
    }

    /// <param name="rowCounts">The row counts, each fitted in its own process.</param>
    /// <param name="stream">Stream every size (MaximumInMemoryBytes = 0) instead of the default rule.</param>
    /// <param name="output">Where the table goes.</param>
    public static int Run(IReadOnlyList<long> rowCounts, bool stream, TextWriter output)
    {
        output.WriteLine("| rows x 50 features | float data | how Fit held them | Fit seconds (1 epoch) | rows/s through Fit | peak resident memory (VmHWM) |");
        output.WriteLine("|---|---|---|---|---|---|");
        foreach (long rows in rowCounts)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true };
            foreach (string a in new[] { typeof(ScaleBenchmark).Assembly.Location, "scale-one", rows.ToString(CultureInfo.InvariantCulture), stream ? "stream" : "default" })
                start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            string line = process.StandardOutput.ReadToEnd().Trim().Split('\n')[^1];
            process.WaitForExit();
            output.WriteLine(line);
        }
        return 0;
    }

    /// <summary>One fit in this process; prints one table row.</summary>
    public static int RunOne(long rows, bool stream, TextWriter output)
    {
        var ml = new MLContext(seed: 1);
        string mode = "in memory";
        ml.Log += (_, e) => { if (e.Message.Contains("(streamed in blocks of", StringComparison.Ordinal)) mode = "streamed"; };
        var data = ml.Data.LoadFromEnumerable(Generate(rows));
        var options = new VaeOptions { NumberOfEpochs = 1, Seed = 1 };
        if (stream) options.MaximumInMemoryBytes = 0;
        var clock = Stopwatch.StartNew();
        using var model = new VaeEstimator(ml, options).Fit(data);
        double seconds = clock.Elapsed.TotalSeconds;
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        double peakMiB = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {rows:N0} | {rows * Width * 4 / 1e9:F2} GB | {mode} | {seconds:F0} | {rows / seconds:N0} | {peakMiB:F0} MiB |"));
        return 0;
    }

    /// <summary>Rows on a rank-5 manifold with noise, generated anew by each enumeration from the same seed.</summary>
    private static IEnumerable<Row> Generate(long rows)
    {
        var random = new Random(7);
        var loadings = new float[5, Width];
        for (int k = 0; k < 5; k++)
            for (int i = 0; i < Width; i++) loadings[k, i] = (float)(random.NextDouble() * 2 - 1);
        random = new Random(11);
        var z = new float[5];
        for (long r = 0; r < rows; r++)
        {
            for (int k = 0; k < 5; k++) z[k] = (float)(random.NextDouble() * 2 - 1);
            var x = new float[Width];
            for (int i = 0; i < Width; i++)
            {
                float value = 0.05f * (float)(random.NextDouble() - 0.5);
                for (int k = 0; k < 5; k++) value += loadings[k, i] * z[k];
                x[i] = value;
            }
            yield return new Row { Features = x };
        }
    }
}
