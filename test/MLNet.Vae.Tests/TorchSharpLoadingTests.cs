using System.Diagnostics;
using System.Reflection;
using MLNet.Vae.Build;
using static TorchSharp.torch;

namespace MLNet.Vae.Tests;

/// <summary>The build step that lets TorchSharp's native library load on Debian 12 (see docs/design/torchsharp-loading.md).</summary>
[TestClass]
public sealed class TorchSharpLoadingTests
{
    private const string MissingOnDebian12 = "GLIBCXX_3.4.32";
    private string _folder = null!;

    [TestInitialize]
    public void MakeFolder() => _folder = Directory.CreateTempSubdirectory("vae-elf-").FullName;

    [TestCleanup]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    private static string ShippedLibrary
    {
        get
        {
            string root = typeof(TorchSharpLoadingTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .Single(a => a.Key == "NuGetPackageRoot").Value!;
            var version = typeof(TorchSharp.torch).Assembly.GetName().Version!;
            string path = Path.Combine(root, "torchsharp", $"{version.Major}.{version.Minor}.{version.Build}", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
            Assert.IsTrue(File.Exists(path), $"TorchSharp's native library is not where restore put it: {path}");
            return path;
        }
    }

    private static string OutputLibrary => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    private static IReadOnlySet<string> SystemVersions => LibstdcxxCompatibilityPatch.ReadDefinedVersions(LibstdcxxCompatibilityPatch.FindSystemLibstdcxx()!);

    private string CopyOfShipped(string name = "libLibTorchSharp.so")
    {
        string copy = Path.Combine(_folder, name);
        File.Copy(ShippedLibrary, copy);
        return copy;
    }

    [TestMethod]
    public void TorchSharp_LoadsAndComputesInThisProcess()
    {
        using var x = ones(3, 4);
        Assert.AreEqual(12f, x.sum().item<float>());
    }

    [TestMethod]
    public void BuildOutput_HoldsACopyThatNeedsNothingMore_AndTheNuGetCacheIsUntouched()
    {
        string outputCopy = Path.Combine(_folder, "output.so");
        File.Copy(OutputLibrary, outputCopy);
        var result = LibstdcxxCompatibilityPatch.Apply(outputCopy, SystemVersions);

        bool systemLacksVersion = !SystemVersions.Contains(MissingOnDebian12);
        Assert.AreEqual(systemLacksVersion ? PatchOutcome.AlreadyPatched : PatchOutcome.NotNeeded, result.Outcome, result.Message);
        string cacheCopy = CopyOfShipped();
        var cacheResult = LibstdcxxCompatibilityPatch.Apply(cacheCopy, new HashSet<string>(SystemVersions));
        Assert.AreEqual(systemLacksVersion ? PatchOutcome.Patched : PatchOutcome.NotNeeded, cacheResult.Outcome,
            "the NuGet cache still holds the file as shipped");
    }

    [TestMethod]
    public void Patch_ChangesThreeBytes_AndTheDynamicLoaderThenAcceptsTheFile()
    {
        var lacking = SystemVersions.Where(v => v != MissingOnDebian12).ToHashSet();
        string library = CopyOfShipped();
        LinkSiblingLibraries();
        if (!SystemVersions.Contains(MissingOnDebian12))
            Assert.Contains($"version `{MissingOnDebian12}' not found", Ldd(library).Replace("weak version", "WEAK"),
                "before the patch the loader refuses the file on this system");

        var result = LibstdcxxCompatibilityPatch.Apply(library, lacking);

        Assert.AreEqual(PatchOutcome.Patched, result.Outcome, result.Message);
        StringAssert.Contains(result.Message, "GLIBCXX_3.4.32 made weak for _ZSt21ios_base_library_initv");
        byte[] before = File.ReadAllBytes(ShippedLibrary), after = File.ReadAllBytes(library);
        Assert.HasCount(before.Length, after);
        Assert.AreEqual(3, before.Zip(after).Count(p => p.First != p.Second), "vna_flags, one versym entry and one st_info byte");
        string loader = Ldd(library);
        Assert.DoesNotContain("not found", loader.Replace($"weak version `{MissingOnDebian12}' not found", ""), loader);
    }

    [TestMethod]
    public void Patch_WhenTheSystemHasTheVersion_LeavesTheFileByteIdentical()
    {
        string library = CopyOfShipped();
        var complete = new HashSet<string>(SystemVersions) { MissingOnDebian12 };

        var result = LibstdcxxCompatibilityPatch.Apply(library, complete);

        Assert.AreEqual(PatchOutcome.NotNeeded, result.Outcome);
        CollectionAssert.AreEqual(File.ReadAllBytes(ShippedLibrary), File.ReadAllBytes(library));
    }

    [TestMethod]
    public void Patch_Twice_ChangesNothingTheSecondTime()
    {
        var lacking = SystemVersions.Where(v => v != MissingOnDebian12).ToHashSet();
        string library = CopyOfShipped();
        LibstdcxxCompatibilityPatch.Apply(library, lacking);
        byte[] once = File.ReadAllBytes(library);
        var written = File.GetLastWriteTimeUtc(library);

        var result = LibstdcxxCompatibilityPatch.Apply(library, lacking);

        Assert.AreEqual(PatchOutcome.AlreadyPatched, result.Outcome);
        CollectionAssert.AreEqual(once, File.ReadAllBytes(library));
        Assert.AreEqual(written, File.GetLastWriteTimeUtc(library), "an already patched file is not rewritten");
    }

    [TestMethod]
    public void Patch_OfAFileThatIsNotElf_LeavesItAloneAndSaysWhy()
    {
        string text = Path.Combine(_folder, "libLibTorchSharp.so");
        File.WriteAllText(text, "not a shared library");

        var result = LibstdcxxCompatibilityPatch.Apply(text, SystemVersions);

        Assert.AreEqual(PatchOutcome.LeftAlone, result.Outcome);
        StringAssert.Contains(result.Message, "it is not an ELF file");
        Assert.AreEqual("not a shared library", File.ReadAllText(text));
    }

    [TestMethod]
    public void Patch_OfATruncatedElfFile_LeavesItAloneAndSaysWhy()
    {
        string truncated = Path.Combine(_folder, "truncated.so");
        File.WriteAllBytes(truncated, File.ReadAllBytes(ShippedLibrary)[..4096]);

        var result = LibstdcxxCompatibilityPatch.Apply(truncated, SystemVersions);

        Assert.AreEqual(PatchOutcome.LeftAlone, result.Outcome);
        StringAssert.Contains(result.Message, "outside the file");
    }

    [TestMethod]
    public void Patch_WhenMissingVersionsCarryRealSymbols_RefusesAndNamesThem()
    {
        // Pretend the system lacks GLIBCXX_3.4.9 too: real, called functions need it, so weakening would be wrong.
        var older = SystemVersions.Where(v => v != MissingOnDebian12 && v != "GLIBCXX_3.4.9").ToHashSet();
        string library = CopyOfShipped();

        var result = LibstdcxxCompatibilityPatch.Apply(library, older);

        Assert.AreEqual(PatchOutcome.LeftAlone, result.Outcome);
        StringAssert.Contains(result.Message, "symbols that are really used");
        StringAssert.Contains(result.Message, "GCC 13 or newer");
        CollectionAssert.AreEqual(File.ReadAllBytes(ShippedLibrary), File.ReadAllBytes(library));
    }

    [TestMethod]
    public void BuildTool_ReportsALeftAloneFileAsAnMSBuildWarning()
    {
        string text = Path.Combine(_folder, "libLibTorchSharp.so");
        File.WriteAllText(text, "x");

        var (exitCode, output) = Run("dotnet", Path.Combine(AppContext.BaseDirectory, "MLNet.Vae.Build.dll"), "fix-torchsharp", text);

        Assert.AreEqual(0, exitCode, output);
        StringAssert.Contains(output, "MLNet.Vae.Build : warning VAEBUILD001:");
        StringAssert.Contains(output, "it is not an ELF file");
    }

    [TestMethod]
    public void BuildTool_WithoutArguments_PrintsUsageAndFails()
    {
        var (exitCode, output) = Run("dotnet", Path.Combine(AppContext.BaseDirectory, "MLNet.Vae.Build.dll"));
        Assert.AreEqual(2, exitCode);
        StringAssert.Contains(output, "usage: MLNet.Vae.Build fix-torchsharp");
    }

    [TestMethod]
    public void SystemLibstdcxx_IsFoundAndDefinesVersions()
    {
        Assert.IsNotNull(LibstdcxxCompatibilityPatch.FindSystemLibstdcxx());
        Assert.Contains("GLIBCXX_3.4", SystemVersions);
    }

    /// <summary>Makes libtorch's libraries resolvable from the test folder, as they are from the build output.</summary>
    private void LinkSiblingLibraries()
    {
        foreach (string sibling in Directory.GetFiles(Path.GetDirectoryName(OutputLibrary)!, "*.so*"))
        {
            string link = Path.Combine(_folder, Path.GetFileName(sibling));
            if (!File.Exists(link)) File.CreateSymbolicLink(link, sibling);
        }
    }

    private static string Ldd(string library) => Run("ldd", library).Output;

    private static (int ExitCode, string Output) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.IsTrue(process.WaitForExit(60_000), $"{program} did not finish");
        return (process.ExitCode, output + error.Result);
    }
}
