using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae.Data;

namespace MLNet.Vae.Benchmarks;

/// <summary>
/// <c>-- read</c>: what reading the 60,000 Fashion-MNIST training rows into one array costs, each case in a fresh process
/// (<c>read-one</c>) so that no case reuses memory an earlier one touched: a fresh 188 MB array filled row by row and
/// filled again (the price of first-touch page faults), the cursor alone, and <c>FeatureColumn.ReadAll</c> (what Fit
/// runs) over a source that does not know its row count and over one that does.
/// </summary>
internal static class ReadBenchmark
{
    private static readonly string[] Cases = ["fill", "cursor", "read-unknown-count", "read-known-count"];

    public static int Run(TextWriter output)
    {
        output.WriteLine("| case (60,000 rows x 784, a fresh process each) | first, s | second, s |");
        output.WriteLine("|---|---|---|");
        foreach (string name in Cases)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true };
            foreach (string a in new[] { typeof(ReadBenchmark).Assembly.Location, "read-one", name }) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            string line = process.StandardOutput.ReadToEnd().Trim().Split('\n')[^1];
            process.WaitForExit();
            output.WriteLine(line);
        }
        return 0;
    }

    /// <summary>One case in this process, timed twice: prints one table row.</summary>
    public static int RunOne(string name, TextWriter output)
    {
        var images = FashionMnist.Load().TrainImages;
        int width = FashionMnist.Pixels;
        var ml = new MLContext(seed: 1);
        var rows = images.Select(p => new SpeedBenchmark.ImageRow { Pixels = p });
        IDataView view = name == "read-known-count" ? ml.Data.LoadFromEnumerable(rows.ToList()) : ml.Data.LoadFromEnumerable(rows);
        float[]? filled = null;
        Action pass = name switch
        {
            "fill" => () =>
            {
                filled ??= GC.AllocateUninitializedArray<float>(images.Length * width);
                for (int r = 0; r < images.Length; r++) images[r].CopyTo(filled.AsSpan(r * width, width));
            },
            "cursor" => () =>
            {
                using var cursor = view.GetRowCursor(view.Schema);
                var pixels = cursor.GetGetter<VBuffer<float>>(view.Schema["Pixels"]);
                VBuffer<float> value = default;
                while (cursor.MoveNext()) pixels(ref value);
            },
            "read-unknown-count" or "read-known-count" => () => FeatureColumn.ReadAll(view, "Pixels", width, out _),
            _ => throw new ArgumentException($"Unknown read case '{name}': {string.Join(", ", Cases)}."),
        };
        string Seconds()
        {
            var clock = Stopwatch.StartNew();
            pass();
            return clock.Elapsed.TotalSeconds.ToString("F3", CultureInfo.InvariantCulture);
        }
        string first = Seconds(), second = Seconds();
        output.WriteLine($"| {name} | {first} | {second} |");
        return 0;
    }
}
