using MLNet.Vae.Tensors;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae.Platform;

namespace MLNet.Vae.Benchmarks;

/// <summary>
/// Speed and memory of the 784-400-20 Bernoulli MLP VAE on Fashion-MNIST, against PyTorch measured in the same run
/// (pytorch_baseline.py: same model, batch, optimizer, score): training samples/s through Fit from an IDataView (data
/// conversion included), batched scoring rows/s through Transform and a cursor reading every output column,
/// PredictionEngine latency, peak memory while training, and memory growth while scoring 1 000 000 rows.
/// </summary>
public static class SpeedBenchmark
{
    public sealed class ImageRow
    {
        [VectorType(FashionMnist.Pixels)] public float[] Pixels { get; set; } = [];
    }

    public sealed class Scored
    {
        public float[] LatentFeatures { get; set; } = [];
        public float Score { get; set; }
        public bool PredictedLabel { get; set; }
    }

    public static int Run(string[] args, TextWriter output)
    {
        int epochs = int.Parse(Option(args, "--epochs", "3"), CultureInfo.InvariantCulture);
        int scoredRows = int.Parse(Option(args, "--score-rows", "1000000"), CultureInfo.InvariantCulture);
        // PyTorch first, before this process starts libtorch's worker threads, so the two never share the cores.
        var baseline = PyTorchBaseline.RunAtItsBest(epochs, output);
        var data = FashionMnist.Load();
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(data.TrainImages.Select(p => new ImageRow { Pixels = p }));
        var test = ml.Data.LoadFromEnumerable(data.TestImages.Select(p => new ImageRow { Pixels = p }));
        var options = QualityBenchmark.Options(VaeArchitecture.Mlp, epochs);

        var clock = Stopwatch.StartNew();
        // Fit's stages from its log: the training starts after "Training a VAE ..." and the threshold is its last line.
        double trainingStarts = 0, thresholdSet = 0;
        ml.Log += (_, e) =>
        {
            if (e.Message.Contains("] Training a", StringComparison.Ordinal)) trainingStarts = clock.Elapsed.TotalSeconds;
            else if (e.Message.Contains("] Threshold ", StringComparison.Ordinal)) thresholdSet = clock.Elapsed.TotalSeconds;
        };
        using var model = new VaeEstimator(ml, options).Fit(train);
        double fitSeconds = clock.Elapsed.TotalSeconds;
        long peakTrainingBytes = ProcessMemory("VmHWM");
        var epochSeconds = model.Training.History.Select(e => e.Seconds).ToList();
        double trainSamplesPerSecond = data.TrainImages.Length / Median(epochSeconds);
        double firstEpochSamplesPerSecond = data.TrainImages.Length / epochSeconds[0];
        using var elboGenerator = new TorchSharp.torch.Generator(1);
        var testRows = data.TestImages.SelectMany(p => p).ToArray();
        double testElbo = BenchmarkScores.SampledNegativeElbo(model.Model, testRows, data.TestImages.Length, elboGenerator).Average();
        double ourGflops = GemmGflops();

        // Single passes over 10 000 rows vary several-fold on this shared machine, and the first ones also run unoptimized JIT
        // code: the first five passes are warm-up and the median of the next five is reported.
        var batched = new List<double>();
        for (int repeat = 0; repeat < 10; repeat++)
        {
            clock.Restart();
            int rows = ReadEveryColumn(model.Transform(test));
            if (repeat >= 5) batched.Add(rows / clock.Elapsed.TotalSeconds);
        }

        var engine = ml.Model.CreatePredictionEngine<ImageRow, Scored>(model);
        var latencies = new List<double>();
        var earlyLatencies = new List<double>();
        // Tiered compilation promotes the call path's methods only after they have run for a while, and after a large Fit its
        // background compiler is still busy with the training code: calls 3,000-8,000 ran at 35-42 µs p50 where calls after
        // 20,000 ran at 19-20 µs (as with DOTNET_TieredPGO=0 from the start). Both are reported; the steady state is the target.
        for (int i = 0; i < 25_000; i++)
        {
            var row = new ImageRow { Pixels = data.TestImages[i % data.TestImages.Length] };
            clock.Restart();
            engine.Predict(row);
            if (i is >= 3000 and < 8000) earlyLatencies.Add(clock.Elapsed.TotalMicroseconds);
            if (i >= 20_000) latencies.Add(clock.Elapsed.TotalMicroseconds);
        }
        latencies.Sort();
        earlyLatencies.Sort();

        var onnx = OnnxRuntimeSpeed.Measure(ml, model, data.TestImages);
        var samples = MemoryWhileScoring(ml, model, data.TestImages, scoredRows);
        var (slope, first) = Trend(samples);
        double growth = slope * (samples[^1].Rows - samples[0].Rows) / first;

        output.WriteLine($"CPU: {ScoringRoofline.CpuModel()} ({ScoringRoofline.CpuVendor()}), {Environment.ProcessorCount} cores, AVX-512 {(System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? "yes" : "no")}");
        output.WriteLine($"MLNet.Vae, {Environment.ProcessorCount} cores, TorchSharp threads {TorchSharp.torch.get_num_threads()}, {epochs} epochs of {data.TrainImages.Length} images:");
        output.WriteLine($"| measure | MLNet.Vae | PyTorch | ratio |");
        output.WriteLine($"|---|---|---|---|");
        string Ratio(double ours, double? theirs, bool higherIsBetter = true) =>
            theirs is double t ? (higherIsBetter ? ours / t : t / ours).ToString("F2", CultureInfo.InvariantCulture) + "x" : "-";
        string Theirs(double? value, string format) => value is double v ? v.ToString(format, CultureInfo.InvariantCulture) : "not run";
        output.WriteLine($"| training samples/s (median epoch) | {trainSamplesPerSecond:F0} | {Theirs(baseline?.TrainSamplesPerSecond, "F0")} | {Ratio(trainSamplesPerSecond, baseline?.TrainSamplesPerSecond)} |");
        output.WriteLine($"| training samples/s (first epoch) | {firstEpochSamplesPerSecond:F0} | {Theirs(baseline is null ? null : data.TrainImages.Length / baseline.EpochSeconds[0], "F0")} | {Ratio(firstEpochSamplesPerSecond, baseline is null ? null : data.TrainImages.Length / baseline.EpochSeconds[0])} |");
        double? theirEpochs = baseline?.EpochSeconds.Sum();
        output.WriteLine($"| whole Fit seconds (IDataView conversion, {epochs} epochs, calibration, threshold; PyTorch: its {epochs} epochs) | {fitSeconds:F2} | {Theirs(theirEpochs, "F2")} | {Ratio(fitSeconds, theirEpochs, higherIsBetter: false)} |");
        double epochsTotal = epochSeconds.Sum();
        output.WriteLine($"| whole Fit's stages, seconds: before the first epoch (loading, reading the rows) / the epochs / from the last epoch to the threshold (calibration, training scores) / after | " +
                         $"{trainingStarts:F2} / {epochsTotal:F2} / {thresholdSet - trainingStarts - epochsTotal:F2} / {fitSeconds - thresholdSet:F2} | - | - |");
        output.WriteLine($"| batched scoring rows/s (Transform + cursor, every column; PyTorch: batches of 1000) | {Median(batched):F0} | {Theirs(baseline?.ScoreRowsPerSecond, "F0")} | {Ratio(Median(batched), baseline?.ScoreRowsPerSecond)} |");
        output.WriteLine($"| one row, p50 µs (PredictionEngine after 20,000 calls; PyTorch: a 1-row batch) | {latencies[latencies.Count / 2]:F1} | {Theirs(baseline?.SingleRowP50, "F1")} | {Ratio(latencies[latencies.Count / 2], baseline?.SingleRowP50, higherIsBetter: false)} |");
        output.WriteLine($"| one row, p99 µs | {latencies[(int)(latencies.Count * 0.99)]:F1} | {Theirs(baseline?.SingleRowP99, "F1")} | {Ratio(latencies[(int)(latencies.Count * 0.99)], baseline?.SingleRowP99, higherIsBetter: false)} |");
        output.WriteLine($"| one row right after Fit (calls 3,000-8,000), p50 / p99 µs | {earlyLatencies[earlyLatencies.Count / 2]:F1} / {earlyLatencies[(int)(earlyLatencies.Count * 0.99)]:F1} | - | - |");
        output.WriteLine($"| the exported ONNX model under ONNX Runtime 1.31 (2 threads): batched rows/s, one row p50 / p99 µs | {onnx.BatchedRowsPerSecond:F0}, {onnx.SingleRowP50:F1} / {onnx.SingleRowP99:F1} | - | - |");
        output.WriteLine($"| sgemm 512x784 by 784x400, GFLOP/s (median of 200) | {ourGflops:F0} | {Theirs(baseline?.GemmGflops, "F0")} | {Ratio(ourGflops, baseline?.GemmGflops)} |");
        output.WriteLine($"| test negative ELBO, nats per image (one sample of z; lower is better) | {testElbo:F2} | {Theirs(baseline?.TestNegativeElbo, "F2")} | - |");
        output.WriteLine($"| peak memory after training (VmHWM) | {peakTrainingBytes / 1048576.0:F0} MiB | - | - |");
        output.WriteLine($"| memory growth scoring {scoredRows:N0} rows (least-squares trend of VmRSS sampled every 100 000 rows) | {growth:P2} " +
                         $"(samples {samples.Min(x => x.Bytes) / 1048576.0:F0} to {samples.Max(x => x.Bytes) / 1048576.0:F0} MiB) | - | - |");
        output.WriteLine();
        output.WriteLine($"MLNet.Vae epoch seconds: {string.Join(", ", epochSeconds.Select(s => s.ToString("F2", CultureInfo.InvariantCulture)))}; " +
                         $"PyTorch epoch seconds: {(baseline is null ? "not run" : string.Join(", ", baseline.EpochSeconds.Select(s => s.ToString("F2", CultureInfo.InvariantCulture))))}" +
                         (baseline is null ? "" : $" (torch {baseline.TorchVersion}, {baseline.Threads} threads, OpenBLAS kernel {baseline.Kernel} with {baseline.Setting})"));
        output.WriteLine($"MKL CPU dispatch ({MklCpuDispatch.SwitchVariable}): {MklCpuDispatch.Description}");
        output.WriteLine($"Final training loss {model.Training.History[^1].Loss:F2} nats per image.");
        return 0;
    }

    /// <summary>Reads every output column of every row through one cursor, as a consumer of Transform would.</summary>
    internal static int ReadEveryColumn(IDataView scored)
    {
        using var cursor = scored.GetRowCursor(scored.Schema);
        var latent = cursor.GetGetter<VBuffer<float>>(scored.Schema["LatentFeatures"]);
        var score = cursor.GetGetter<float>(scored.Schema["Score"]);
        var label = cursor.GetGetter<bool>(scored.Schema["PredictedLabel"]);
        VBuffer<float> vector = default;
        float value = 0;
        bool flag = false;
        int rows = 0;
        while (cursor.MoveNext())
        {
            latent(ref vector);
            score(ref value);
            label(ref flag);
            rows++;
        }
        return rows;
    }

    /// <summary>
    /// Scores <paramref name="rows"/> rows (the test images cycled, streamed lazily) and samples the resident set size after a
    /// garbage collection every 100 000 rows, from row 100 000 on (the first rows are warm-up).
    /// </summary>
    private static List<(long Rows, long Bytes)> MemoryWhileScoring(MLContext ml, VaeTransformer model, float[][] images, int rows)
    {
        var stream = ml.Data.LoadFromEnumerable(Enumerable.Range(0, rows).Select(i => new ImageRow { Pixels = images[i % images.Length] }));
        var scored = model.Transform(stream);
        using var cursor = scored.GetRowCursor(scored.Schema);
        var score = cursor.GetGetter<float>(scored.Schema["Score"]);
        var latent = cursor.GetGetter<VBuffer<float>>(scored.Schema["LatentFeatures"]);
        float value = 0;
        VBuffer<float> vector = default;
        var samples = new List<(long, long)>();
        for (int i = 1; cursor.MoveNext(); i++)
        {
            score(ref value);
            latent(ref vector);
            if (i % 100_000 == 0 && i >= 100_000)
            {
                GC.Collect();
                samples.Add((i, ProcessMemory("VmRSS")));
            }
        }
        return samples;
    }

    /// <summary>Least-squares slope (bytes per row) of the samples, and the fitted value at the first sample.</summary>
    private static (double Slope, double First) Trend(IReadOnlyList<(long Rows, long Bytes)> samples)
    {
        double meanX = samples.Average(s => (double)s.Rows), meanY = samples.Average(s => (double)s.Bytes);
        double slope = samples.Sum(s => (s.Rows - meanX) * (s.Bytes - meanY)) / samples.Sum(s => (s.Rows - meanX) * (s.Rows - meanX));
        return (slope, meanY + slope * (samples[0].Rows - meanX));
    }

    /// <summary>TorchSharp's 512x784 by 784x400 sgemm rate, median of 200 after 20 warm-up products.</summary>
    internal static double GemmGflops()
    {
        using var a = TorchSharp.torch.rand(512, 784);
        using var b = TorchSharp.torch.rand(784, 400);
        var times = new List<double>();
        for (int i = 0; i < 220; i++)
        {
            var clock = Stopwatch.StartNew();
            using (a.mm(b)) { }
            if (i >= 20) times.Add(clock.Elapsed.TotalSeconds);
        }
        return 2.0 * 512 * 784 * 400 / Median(times) / 1e9;
    }

    /// <summary>A size from /proc/self/status, in bytes (VmRSS: resident now; VmHWM: peak resident).</summary>
    private static long ProcessMemory(string field)
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    private static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Option(string[] args, string name, string fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }
}
