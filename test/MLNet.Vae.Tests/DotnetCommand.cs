using System.Diagnostics;
using System.Reflection;

namespace MLNet.Vae.Tests;

/// <summary>Runs the .NET CLI on projects the tests write outside the repository (a package consumer, the README's code).</summary>
internal static class DotnetCommand
{
    /// <summary>A value the test project's build wrote into the assembly (RepoRoot, NuGetPackageRoot).</summary>
    public static string Metadata(string key) =>
        typeof(DotnetCommand).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    /// <summary>The repository's root folder, with a trailing separator.</summary>
    public static string RepoRoot => Metadata("RepoRoot");

    /// <summary><c>dotnet arguments</c> in <paramref name="folder"/>: its exit code and its standard output and error.</summary>
    public static (int ExitCode, string Output) Run(string folder, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        // No build server outlives the test; no telemetry banner in the output.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }
}
