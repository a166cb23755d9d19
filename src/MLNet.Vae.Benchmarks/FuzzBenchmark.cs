using System.Diagnostics;

namespace MLNet.Vae.Benchmarks;

/// <summary>
/// The model-file fuzz at scale: the reliability probe's "model-files" (crafted and fuzzed files of four models, one an
/// ensemble, with the peak working set's growth bounded) run in child processes of <see cref="CasesPerProcess"/> cases each,
/// with a new seed per process, so that a native crash is counted rather than ending the run; then "untrusted-streams" (the
/// metadata bombs, endless streams and a zip bomb, in bounded memory).
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
            var (exitCode, text) = RunProbe(probe, "model-files", Math.Min(CasesPerProcess, cases - done).ToString(), seed.ToString());
            if (exitCode != 0) failed++;
            output.WriteLine($"seed {seed}: exit {exitCode}: {text}");
        }
        var (streamsExit, streams) = RunProbe(probe, "untrusted-streams");
        if (streamsExit != 0) failed++;
        output.WriteLine($"untrusted streams: exit {streamsExit}: {streams}");
        output.WriteLine($"{cases} fuzzed model files and the hostile streams in {clock.Elapsed.TotalSeconds:F0} s: {failed} processes found a failure or died");
        return failed == 0 ? 0 : 1;
    }

    /// <summary>Runs one probe in a child process: its exit code and the first line it printed.</summary>
    private static (int ExitCode, string FirstLine) RunProbe(string probe, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(probe);
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string text = process.StandardOutput.ReadToEnd() + error.Result;
        process.WaitForExit();
        return (process.ExitCode, text.Trim().Split('\n')[0]);
    }
}
