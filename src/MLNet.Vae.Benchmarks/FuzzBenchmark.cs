using System.Diagnostics;

namespace MLNet.Vae.Benchmarks;

/// <summary>
/// The model-file fuzz at scale: the reliability probe's "model-files" run in child processes of <see cref="CasesPerProcess"/>
/// cases each, with a new seed per process, so that a native crash is counted rather than ending the run.
/// </summary>
internal static class FuzzBenchmark
{
    private const int CasesPerProcess = 1000;

    public static int Run(int cases, TextWriter output)
    {
        string probe = Path.Combine(AppContext.BaseDirectory, "MLNet.Vae.ReliabilityProbe.dll");
        int failed = 0;
        var clock = Stopwatch.StartNew();
        for (int seed = 1, done = 0; done < cases; seed++, done += CasesPerProcess)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string argument in new[] { probe, "model-files", Math.Min(CasesPerProcess, cases - done).ToString(), seed.ToString() })
                start.ArgumentList.Add(argument);
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            string text = process.StandardOutput.ReadToEnd() + error.Result;
            process.WaitForExit();
            if (process.ExitCode != 0) failed++;
            output.WriteLine($"seed {seed}: exit {process.ExitCode}: {text.Trim().Split('\n')[0]}");
        }
        output.WriteLine($"{cases} fuzzed model files in {clock.Elapsed.TotalSeconds:F0} s: {failed} processes found a failure or died");
        return failed == 0 ? 0 : 1;
    }
}
