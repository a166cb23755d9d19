using System.Diagnostics;

namespace MLNet.Vae.Tests;

/// <summary>Runs one of the test's helper programs (built beside the tests) in a process of its own.</summary>
internal static class ChildProcess
{
    /// <summary>
    /// Runs <c>dotnet &lt;program&gt;.dll arguments</c> and returns its exit code and its standard output and error; a process
    /// still running after <paramref name="limit"/> is killed and fails the test as a hang.
    /// </summary>
    public static (int ExitCode, string Output) Run(string program, TimeSpan limit, params string[] arguments) =>
        Run(program, limit, new Dictionary<string, string>(), arguments);

    /// <summary>As <see cref="Run(string, TimeSpan, string[])"/>, with <paramref name="environment"/> added to the child's environment.</summary>
    public static (int ExitCode, string Output) Run(string program, TimeSpan limit, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, program + ".dll"));
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} {string.Join(' ', arguments)} did not finish within {limit.TotalSeconds:F0} s: a hang");
        }
        return (process.ExitCode, output.Result + error.Result);
    }
}
