namespace MLNet.Vae.Build;

/// <summary>What <see cref="LibstdcxxCompatibilityPatch.Apply"/> did to a file.</summary>
public enum PatchOutcome
{
    /// <summary>The file needs nothing the system libstdc++ lacks; it was not touched.</summary>
    NotNeeded,
    /// <summary>The file was rewritten so that the missing versions are weak.</summary>
    Patched,
    /// <summary>An earlier run already patched the file; it was not touched.</summary>
    AlreadyPatched,
    /// <summary>The file was not touched because patching it would be wrong or unsafe; the message says why.</summary>
    LeftAlone,
}

/// <summary>The outcome of one patch attempt and a sentence for the build log.</summary>
public sealed record PatchResult(PatchOutcome Outcome, string Message);

/// <summary>
/// Lets TorchSharp's <c>libLibTorchSharp.so</c> (built with GCC 13) load against an older libstdc++ such as
/// Debian 12's. The file asks for <c>GLIBCXX_3.4.32</c> only for <c>std::ios_base_library_init()</c>, a symbol
/// GCC 13's <c>&lt;iostream&gt;</c> references to pin the library version and that nothing calls.
/// The patch marks that version need weak and makes the symbol an unversioned weak reference, which the
/// dynamic loader then accepts. It never touches a file whose missing versions carry any other symbol.
/// </summary>
public static class LibstdcxxCompatibilityPatch
{
    /// <summary>Symbols that are referenced but never called, so an unresolved weak reference to them is harmless.</summary>
    public static readonly IReadOnlySet<string> SymbolsSafeToWeaken = new HashSet<string>(StringComparer.Ordinal)
    {
        "_ZSt21ios_base_library_initv",
    };

    /// <summary>Where the system's libstdc++ usually lives on glibc distributions, in the loader's search order.</summary>
    public static readonly IReadOnlyList<string> SystemLibraryDirectories =
    [
        "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib",
    ];

    /// <summary>Finds the system libstdc++.so.6, or null when there is none (e.g. a musl distribution).</summary>
    public static string? FindSystemLibstdcxx() =>
        SystemLibraryDirectories.Select(d => Path.Combine(d, "libstdc++.so.6")).FirstOrDefault(File.Exists);

    /// <summary>The version names (e.g. GLIBCXX_3.4.30) that a libstdc++ file defines.</summary>
    public static IReadOnlySet<string> ReadDefinedVersions(string libstdcxxPath)
    {
        if (!ElfImage.TryParse(File.ReadAllBytes(libstdcxxPath), out var image, out var whyNot))
            throw new InvalidDataException($"'{libstdcxxPath}' cannot be read as libstdc++: {whyNot}.");
        return image!.ReadDefinedVersions();
    }

    /// <summary>
    /// Patches <paramref name="targetPath"/> in place when it needs libstdc++ versions that
    /// <paramref name="systemVersions"/> lacks. The file is replaced atomically, and only when its bytes change.
    /// </summary>
    public static PatchResult Apply(string targetPath, IReadOnlySet<string> systemVersions)
    {
        byte[] bytes = File.ReadAllBytes(targetPath);
        if (!ElfImage.TryParse(bytes, out var image, out var whyNot))
            return new PatchResult(PatchOutcome.LeftAlone, $"'{targetPath}' was left alone: {whyNot}.");

        List<ElfImage.NeededVersion> missing;
        IReadOnlyList<ElfImage.DynamicSymbol> symbols;
        try
        {
            missing = image!.ReadNeededVersions()
                .Where(v => v.LibraryName.StartsWith("libstdc++", StringComparison.Ordinal) && !systemVersions.Contains(v.VersionName))
                .ToList();
            symbols = image.ReadDynamicSymbols();
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            return new PatchResult(PatchOutcome.LeftAlone, $"'{targetPath}' was left alone: its version tables are malformed ({e.Message}).");
        }
        if (missing.Count == 0)
            return new PatchResult(PatchOutcome.NotNeeded, $"'{targetPath}' needs no libstdc++ version that this system lacks.");

        var missingIndexes = missing.Select(v => v.VersionIndex).ToHashSet();
        var boundToMissing = symbols.Where(s => missingIndexes.Contains(s.VersionIndex)).ToList();
        var unsafeSymbols = boundToMissing.Where(s => !s.IsUndefined || !SymbolsSafeToWeaken.Contains(s.Name)).Select(s => s.Name).ToList();
        string versions = string.Join(", ", missing.Select(v => v.VersionName));
        if (unsafeSymbols.Count > 0)
        {
            return new PatchResult(PatchOutcome.LeftAlone,
                $"'{targetPath}' was left alone: it needs {versions} for symbols that are really used ({string.Join(", ", unsafeSymbols.Take(5))}). " +
                "Install a libstdc++ from GCC 13 or newer for TorchSharp to load.");
        }
        if (boundToMissing.Count == 0 && missing.All(v => v.IsWeak))
            return new PatchResult(PatchOutcome.AlreadyPatched, $"'{targetPath}' is already patched for {versions}.");

        foreach (var version in missing) image.MarkWeak(version);
        foreach (var symbol in boundToMissing) image.MakeUnversionedWeak(symbol);
        ReplaceAtomically(targetPath, image.Bytes);
        return new PatchResult(PatchOutcome.Patched,
            $"'{targetPath}' patched: {versions} made weak for {string.Join(", ", boundToMissing.Select(s => s.Name))} (never called), so it loads with this system's libstdc++.");
    }

    private static void ReplaceAtomically(string path, byte[] bytes)
    {
        string temporary = path + ".patching";
        File.WriteAllBytes(temporary, bytes);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temporary, File.GetUnixFileMode(path));
        File.Move(temporary, path, overwrite: true);
    }
}
