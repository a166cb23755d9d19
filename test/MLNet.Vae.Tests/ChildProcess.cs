using System.Diagnostics;

namespace MLNet.Vae.Tests;

/// <summary>Runs the .NET CLI in a process of its own: the test's helper programs (built beside the tests) and dotnet commands.</summary>
internal static class ChildProcess
{
    /// <summary>
    /// Runs <c>dotnet &lt;program&gt;.dll arguments</c> and returns its exit code and its standard output and error; a process
    /// still running after <paramref name="limit"/> is killed and fails the test as a hang.
    /// </summary>
    public static (int ExitCode, string Output) Run(string program, TimeSpan limit, params string[] arguments) =>
        Run(program, limit, new Dictionary<string, string>(), arguments);

    /// <summary>As <see cref="Run(string, TimeSpan, string[])"/>, with <paramref name="environment"/> added to the child's environment.</summary>
    public static (int ExitCode, string Output) Run(string program, TimeSpan limit, IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        Dotnet(workingDirectory: null, limit, environment, [Path.Combine(AppContext.BaseDirectory, program + ".dll"), .. arguments]);

    /// <summary>
    /// <c>dotnet arguments</c> in <paramref name="workingDirectory"/> (the test's own when null), with
    /// <paramref name="environment"/> added: the exit code and the standard output and error. A process still running after
    /// <paramref name="limit"/> is killed with its children and fails the test as a hang.
    /// </summary>
    public static (int ExitCode, string Output) Dotnet(string? workingDirectory, TimeSpan limit, IReadOnlyDictionary<string, string> environment,
        IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        foreach (var (name, value) in environment) start.Environment[name] = value;
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {string.Join(' ', arguments)} did not finish within {limit.TotalSeconds:F0} s: a hang");
        }
        return (process.ExitCode, output.Result + error.Result);
    }
}
