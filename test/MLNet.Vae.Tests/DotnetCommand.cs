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

    /// <summary>
    /// <c>dotnet arguments</c> in <paramref name="folder"/> (<see cref="ChildProcess.Dotnet"/>, at most 10 minutes): its exit
    /// code and its standard output and error. No build server outlives the test; no telemetry banner in the output.
    /// </summary>
    public static (int ExitCode, string Output) Run(string folder, params string[] arguments) =>
        ChildProcess.Dotnet(folder, TimeSpan.FromMinutes(10),
            new Dictionary<string, string> { ["MSBUILDDISABLENODEREUSE"] = "1", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" }, arguments);
}
