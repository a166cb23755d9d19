using System.Text.RegularExpressions;

namespace MLNet.Vae.Tests;

/// <summary>
/// The documents stay true to the repository: every relative link resolves to a file in it, and every source file a
/// document names in backticks (<c>Scoring/ScoreCalibrator.cs</c>, <c>src/MLNet.Vae.Cli/CsvSource.cs</c>) exists, so a
/// file that moves or is renamed cannot leave a design document pointing at nothing.
/// </summary>
[TestClass]
public sealed class DocumentationTests
{
    private static readonly string Root = DotnetCommand.RepoRoot;

    private static IEnumerable<string> Documents() =>
        Directory.EnumerateFiles(Path.Combine(Root, "docs"), "*.md", SearchOption.AllDirectories)
            .Append(Path.Combine(Root, "README.md"))
            .Concat(Directory.EnumerateFiles(Path.Combine(Root, "src"), "PACKAGE.md", SearchOption.AllDirectories));

    [TestMethod]
    public void EveryRelativeLink_ResolvesInsideTheRepository()
    {
        var broken = new List<string>();
        foreach (string document in Documents())
        {
            foreach (Match link in Regex.Matches(File.ReadAllText(document), @"\]\(([^)\s#]+)(#[^)\s]*)?\)"))
            {
                string target = link.Groups[1].Value;
                if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal)) continue;
                string resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(document)!, target));
                if (!resolved.StartsWith(Root, StringComparison.Ordinal) || !(File.Exists(resolved) || Directory.Exists(resolved)))
                    broken.Add($"{Path.GetRelativePath(Root, document)}: {target}");
            }
        }
        Assert.IsEmpty(broken, "links that resolve to nothing in the repository:\n" + string.Join("\n", broken));
    }

    [TestMethod]
    public void EverySourceFileNamedInBackticks_Exists()
    {
        var sources = Directory.EnumerateFiles(Root, "*.*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Root, f).Replace('\\', '/'))
            .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal) && !f.StartsWith(".git/", StringComparison.Ordinal))
            .ToList();
        var missing = new List<string>();
        // The decisions log records what was true on its dates; files it names may have moved since.
        foreach (string document in Documents().Where(d => Path.GetFileName(d) != "decisions.md"))
        {
            string text = File.ReadAllText(document);
            // A path with at least one folder, ending in a source or build file's extension: `Model/VaeModel.cs`.
            foreach (Match named in Regex.Matches(text, @"`((?:[\w.-]+/)+[\w.-]+\.(?:cs|csproj|props|targets|sh|py))`"))
            {
                string path = named.Groups[1].Value;
                bool exists = sources.Any(f => f == path || f.EndsWith("/" + path, StringComparison.Ordinal));
                if (!exists) missing.Add($"{Path.GetRelativePath(Root, document)}: {path}");
            }
        }
        Assert.IsEmpty(missing, "files the documents name that do not exist:\n" + string.Join("\n", missing.Distinct()));
    }
}
