using MLNet.Vae.Build;

// Usage: MLNet.Vae.Build fix-torchsharp <file>... [--libstdcxx <path>]
// Output lines use MSBuild's canonical "origin : warning CODE: text" form so Exec shows them as build warnings.
const string Origin = "MLNet.Vae.Build";

if (args.Length < 2 || args[0] != "fix-torchsharp")
{
    Console.Error.WriteLine("usage: MLNet.Vae.Build fix-torchsharp <libLibTorchSharp.so>... [--libstdcxx <path-to-libstdc++.so.6>]");
    return 2;
}

var files = new List<string>();
string? libstdcxx = null;
for (int i = 1; i < args.Length; i++)
{
    if (args[i] == "--libstdcxx" && i + 1 < args.Length) libstdcxx = args[++i];
    else files.Add(args[i]);
}

libstdcxx ??= LibstdcxxCompatibilityPatch.FindSystemLibstdcxx();
if (libstdcxx is null)
{
    Console.WriteLine($"{Origin}: no system libstdc++.so.6 found; TorchSharp's native library is left as shipped.");
    return 0;
}

IReadOnlySet<string> systemVersions;
try
{
    systemVersions = LibstdcxxCompatibilityPatch.ReadDefinedVersions(libstdcxx);
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
{
    Console.WriteLine($"{Origin} : warning VAEBUILD002: {e.Message} TorchSharp's native library is left as shipped.");
    return 0;
}

int exitCode = 0;
foreach (string file in files)
{
    try
    {
        var result = LibstdcxxCompatibilityPatch.Apply(file, systemVersions);
        Console.WriteLine(result.Outcome == PatchOutcome.LeftAlone
            ? $"{Origin} : warning VAEBUILD001: {result.Message}"
            : $"{Origin}: {result.Message}");
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
    {
        Console.WriteLine($"{Origin} : error VAEBUILD003: could not patch '{file}': {e.Message}");
        exitCode = 1;
    }
}
return exitCode;
