using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace MLNet.Vae.Benchmarks;

/// <summary>
/// The PyTorch side of the speed benchmark (pytorch_baseline.py, Debian's python3-torch on OpenBLAS), run at its best:
/// OpenBLAS picks its kernel from the CPU, and an environment can hold it back (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE) or the
/// CPU can be too new for Debian's OpenBLAS 0.3.21 to recognise (a Xeon of model 207 gets the SSE3 "Prescott" kernel, 39
/// GFLOP/s against 200 with SkylakeX). So the baseline's sgemm is first probed with both variables removed and with each
/// AVX-512 and AVX2 kernel named, and the whole baseline runs with the fastest setting whose product matches float64.
/// </summary>
internal sealed record PyTorchBaseline(double TrainSamplesPerSecond, double ScoreRowsPerSecond, double SingleRowP50, double SingleRowP99,
    double[] EpochSeconds, string TorchVersion, int Threads, string Kernel, double GemmGflops, string Setting, double TestNegativeElbo)
{
    private static readonly string[] Kernels = ["SapphireRapids", "Cooperlake", "SkylakeX", "Zen", "Haswell"];
    private const double MaximumRelativeError = 1e-5;

    /// <summary>Probes the OpenBLAS settings, prints them, and runs the baseline with the best; null when PyTorch is not installed.</summary>
    public static PyTorchBaseline? RunAtItsBest(int epochs, TextWriter output)
    {
        var probes = new List<(string Setting, string Kernel, double Gflops, double Error)>();
        foreach (string? kernel in new string?[] { null }.Concat(Kernels))
        {
            using var probe = Run(["--probe"], kernel);
            if (probe is null) return null;
            var root = probe.RootElement;
            probes.Add((kernel is null ? "OPENBLAS_* unset" : $"OPENBLAS_CORETYPE={kernel}", root.GetProperty("kernel").GetString() ?? "?",
                root.GetProperty("gflops").GetDouble(), root.GetProperty("relative_error").GetDouble()));
        }
        output.WriteLine("PyTorch baseline, 512x784 by 784x400 sgemm by OpenBLAS setting (median of 200; relative error against float64):");
        foreach (var p in probes)
            output.WriteLine($"  {p.Setting,-34} kernel {p.Kernel,-15} {p.Gflops,6:F0} GFLOP/s  error {p.Error:E1}");
        var best = probes.Where(p => p.Error <= MaximumRelativeError).MaxBy(p => p.Gflops);
        string? chosen = best.Setting.StartsWith("OPENBLAS_CORETYPE=", StringComparison.Ordinal) ? best.Setting["OPENBLAS_CORETYPE=".Length..] : null;
        output.WriteLine($"  chosen: {best.Setting}");

        using var document = Run(["--epochs", epochs.ToString(CultureInfo.InvariantCulture), "--data", FashionMnist.Folder], chosen);
        if (document is null) return null;
        var r = document.RootElement;
        return new PyTorchBaseline(
            r.GetProperty("train_samples_per_second_median_epoch").GetDouble(),
            r.GetProperty("score_rows_per_second_batched_median").GetDouble(),
            r.GetProperty("single_row_microseconds_p50").GetDouble(),
            r.GetProperty("single_row_microseconds_p99").GetDouble(),
            r.GetProperty("epoch_seconds").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
            r.GetProperty("torch").GetString() ?? "?",
            r.GetProperty("threads").GetInt32(),
            r.GetProperty("kernel").GetString() ?? "?",
            r.GetProperty("gflops").GetDouble(),
            best.Setting,
            r.GetProperty("test_negative_elbo").GetDouble());
    }

    /// <summary>Runs the script with 2 threads, without the OpenBLAS variables or with one kernel named; its JSON, or null.</summary>
    private static JsonDocument? Run(IEnumerable<string> arguments, string? kernel)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "pytorch_baseline.py");
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { script, "--threads", "2" }.Concat(arguments)) start.ArgumentList.Add(a);
        start.Environment["OMP_NUM_THREADS"] = "2";
        start.Environment.Remove("OPENBLAS_CORETYPE");
        start.Environment.Remove("OPENBLAS_L2_SIZE");
        if (kernel is not null) start.Environment["OPENBLAS_CORETYPE"] = kernel;
        try
        {
            using var process = Process.Start(start)!;
            var errors = process.StandardError.ReadToEndAsync();
            string json = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode == 0) return JsonDocument.Parse(json);
            Console.Error.WriteLine($"PyTorch baseline skipped (exit {process.ExitCode}): {errors.Result.Trim().Split('\n').LastOrDefault()} - install it with src/MLNet.Vae.Benchmarks/setup-debian.sh.");
            return null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine("PyTorch baseline skipped: /usr/bin/python3 is missing (src/MLNet.Vae.Benchmarks/setup-debian.sh installs it with torch).");
            return null;
        }
    }
}
