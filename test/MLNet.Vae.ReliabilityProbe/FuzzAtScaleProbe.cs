using System.Diagnostics;

namespace MLNet.Vae.ReliabilityProbe;

/// <summary>
/// The model-file fuzz at scale ("fuzz-at-scale [cases]", 10,000 by default; minutes, so not run by the tests): the
/// "model-files" probe (crafted and fuzzed files of four models, one an ensemble, with the peak working set's growth bounded)
/// in child processes of <see cref="CasesPerProcess"/> cases each, with a new seed per process, so that a native crash is
/// counted rather than ending the run; then "untrusted-streams" (the metadata bombs, endless streams and a zip bomb, in
/// bounded memory).
/// </summary>
internal static class FuzzAtScaleProbe
{
    private const int CasesPerProcess = 1000;

    public static void Run(int cases)
    {
        var output = Console.Out;
        string probe = typeof(FuzzAtScaleProbe).Assembly.Location;
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
        if (failed > 0) throw new ProbeFailure($"{failed} child processes found a failure or died (their lines above).");
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
