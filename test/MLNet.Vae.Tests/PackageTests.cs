namespace MLNet.Vae.Tests;

/// <summary>
/// The NuGet package works on a clean machine: packed into a local folder, referenced by a brand-new console project
/// outside the repository (restored from that folder plus the machine's default source), it builds, loads TorchSharp
/// (which on Debian 12 only works if the package's buildTransitive targets patched the output) and fits and scores a VAE.
/// </summary>
[TestClass]
public sealed class PackageTests
{
    private static string Metadata(string key) => DotnetCommand.Metadata(key);

    private static (int ExitCode, string Output) Run(string folder, params string[] arguments) => DotnetCommand.Run(folder, arguments);

    [TestMethod]
    [Timeout(900_000, CooperativeCancellation = true)]
    public void PackedLibrary_ConsumedByANewProject_FitsAndScoresOnThisMachine()
    {
        string work = Directory.CreateTempSubdirectory("vae-package-").FullName;
        string version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}";
        string cached = Path.Combine(Metadata("NuGetPackageRoot"), "mlnet.vae", version);
        try
        {
            string feed = Path.Combine(work, "feed"), consumer = Path.Combine(work, "consumer");
            var pack = Run(Metadata("RepoRoot"), "pack", "src/MLNet.Vae", "-c", "Release", "-o", feed, $"-p:Version={version}", "-nologo");
            Assert.AreEqual(0, pack.ExitCode, pack.Output);
            Assert.IsTrue(File.Exists(Path.Combine(feed, $"MLNet.Vae.{version}.nupkg")), pack.Output);
            Assert.IsTrue(File.Exists(Path.Combine(feed, $"MLNet.Vae.{version}.snupkg")), "symbols are packed");
            CollectionAssert.AreEquivalent(new[] { "Microsoft.ML", "TorchSharp-cpu" }, DependenciesOf(Path.Combine(feed, $"MLNet.Vae.{version}.nupkg")),
                "the core package names only Microsoft.ML and TorchSharp-cpu (charts live in MLNet.Vae.Reporting)");

            Directory.CreateDirectory(consumer);
            File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration><packageSources><add key="local" value="{feed}" /></packageSources></configuration>
                """);
            File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
                  <ItemGroup><PackageReference Include="MLNet.Vae" Version="{version}" /></ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(consumer, "Program.cs"), """
                using Microsoft.ML;
                using Microsoft.ML.Data;
                using MLNet.Vae;
                var ml = new MLContext(seed: 1);
                var random = new Random(1);
                var rows = Enumerable.Range(0, 300).Select(_ => { double z = random.NextDouble(); return new Row { Features = Enumerable.Range(0, 8).Select(j => (float)(z * j + 0.01 * random.NextDouble())).ToArray() }; })
                    .Concat(Enumerable.Range(0, 20).Select(_ => new Row { Features = Enumerable.Range(0, 8).Select(_ => (float)(3 * random.NextDouble())).ToArray(), Label = 1 })).ToList();
                var data = ml.Data.LoadFromEnumerable(rows);
                using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(new VaeOptions { LatentDimension = 2, HiddenLayerSizes = [8], NumberOfEpochs = 30, Seed = 1 }).Fit(data);
                Console.WriteLine($"AUC {ml.AnomalyDetection.Evaluate(model.Transform(data)).AreaUnderRocCurve:F3}");
                public sealed class Row { [VectorType(8)] public float[] Features { get; set; } = []; public float Label { get; set; } }
                """);

            var run = Run(consumer, "run", "-c", "Release");

            Assert.AreEqual(0, run.ExitCode, run.Output);
            var auc = System.Text.RegularExpressions.Regex.Match(run.Output, @"AUC (\d\.\d+)");
            Assert.IsTrue(auc.Success, run.Output);
            Assert.IsGreaterThan(0.8, double.Parse(auc.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            string native = Directory.GetFiles(Path.Combine(consumer, "bin"), "libLibTorchSharp.so", SearchOption.AllDirectories).First();
            var outcome = MLNet.Vae.Build.LibstdcxxCompatibilityPatch.Apply(native, MLNet.Vae.Build.LibstdcxxCompatibilityPatch.ReadDefinedVersions(
                MLNet.Vae.Build.LibstdcxxCompatibilityPatch.FindSystemLibstdcxx()!)).Outcome;
            Assert.IsTrue(outcome is MLNet.Vae.Build.PatchOutcome.AlreadyPatched or MLNet.Vae.Build.PatchOutcome.NotNeeded,
                $"the package's build targets left the consumer's native library needing a patch ({outcome})");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
            if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true);
        }
    }

    [TestMethod]
    [Timeout(900_000, CooperativeCancellation = true)]
    public void ProjectReferenceFromOutsideTheRepository_SaysWhatToAdd_AndRunsOnceItIsAdded()
    {
        // A project that references src/MLNet.Vae directly gets none of the package's build targets: TorchSharp's native
        // library stays unpatched in its output, and on Debian 12 it does not load. Before: TorchSharp's "doesn't contain a
        // reference to libtorch-cpu-linux-x64" at Fit. Now: what to add; and with it added, the project runs.
        string root = Metadata("RepoRoot");
        string consumer = Directory.CreateTempSubdirectory("vae-project-reference-").FullName;
        try
        {
            string program = """
                using Microsoft.ML;
                using Microsoft.ML.Data;
                using MLNet.Vae;
                var ml = new MLContext(seed: 1);
                var random = new Random(1);
                var rows = Enumerable.Range(0, 200).Select(_ => new Row { Features = Enumerable.Range(0, 4).Select(_ => (float)random.NextDouble()).ToArray() }).ToList();
                try
                {
                    using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(new VaeOptions { NumberOfEpochs = 2, Seed = 1 }).Fit(ml.Data.LoadFromEnumerable(rows));
                    Console.WriteLine($"threshold {model.Threshold}");
                }
                catch (InvalidOperationException e) { Console.WriteLine($"refused: {e.Message}"); }
                public sealed class Row { [VectorType(4)] public float[] Features { get; set; } = []; }
                """;
            File.WriteAllText(Path.Combine(consumer, "Program.cs"), program);
            string Project(string extra) => $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
                  <ItemGroup><ProjectReference Include="{root}src/MLNet.Vae/MLNet.Vae.csproj" /></ItemGroup>
                  {extra}
                </Project>
                """;
            File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), Project(""));
            var bare = Run(consumer, "run");
            Assert.AreEqual(0, bare.ExitCode, bare.Output);
            bool systemNeedsFix = bare.Output.Contains("refused:", StringComparison.Ordinal);
            if (systemNeedsFix)
            {
                StringAssert.Contains(bare.Output, "MLNet.Vae.TorchSharpFix.targets", "the message names what to import");
                StringAssert.Contains(bare.Output, "MLNet.Vae.Build.csproj");
            }

            // What the message and docs/design/torchsharp-loading.md say to add.
            File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), Project($"""
                <ItemGroup><ProjectReference Include="{root}src/MLNet.Vae.Build/MLNet.Vae.Build.csproj" ReferenceOutputAssembly="false" Private="false" /></ItemGroup>
                  <Import Project="{root}src/MLNet.Vae.Build/build/MLNet.Vae.TorchSharpFix.targets" />
                """));
            var fixedRun = Run(consumer, "run");
            Assert.AreEqual(0, fixedRun.ExitCode, fixedRun.Output);
            StringAssert.Contains(fixedRun.Output, "threshold ", systemNeedsFix ? "the import makes TorchSharp load" : "the import changes nothing where no fix is needed");
        }
        finally
        {
            Directory.Delete(consumer, recursive: true);
        }
    }

    [TestMethod]
    [Timeout(900_000, CooperativeCancellation = true)]
    public void EveryPackage_CarriesItsReadmeLicenceSymbolsReleaseNotesAndTags()
    {
        string feed = Directory.CreateTempSubdirectory("vae-packages-").FullName;
        try
        {
            foreach (string package in new[] { "MLNet.Vae", "MLNet.Vae.Reporting", "MLNet.Vae.Onnx", "MLNet.Vae.Cli" })
            {
                var pack = Run(Metadata("RepoRoot"), "pack", $"src/{package}", "-c", "Release", "-o", feed, "-nologo");
                Assert.AreEqual(0, pack.ExitCode, pack.Output);
                string nupkg = Path.Combine(feed, $"{package}.0.1.0.nupkg");
                Assert.IsTrue(File.Exists(Path.ChangeExtension(nupkg, ".snupkg")), $"{package}: symbols are packed");
                using var archive = System.IO.Compression.ZipFile.OpenRead(nupkg);
                var entries = archive.Entries.Select(e => e.FullName).ToList();
                CollectionAssert.IsSubsetOf(new[] { "PACKAGE.md", "LICENSE" }, entries, $"{package}: readme and licence at the root");
                using var stream = archive.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open();
                var metadata = System.Xml.Linq.XDocument.Load(stream).Descendants().First(e => e.Name.LocalName == "metadata")
                    .Elements().ToDictionary(e => e.Name.LocalName, e => e.Value);
                Assert.AreEqual("PACKAGE.md", metadata.GetValueOrDefault("readme"), package);
                foreach (string field in new[] { "authors", "description", "tags", "releaseNotes" })
                    Assert.IsFalse(string.IsNullOrWhiteSpace(metadata.GetValueOrDefault(field)), $"{package}: {field}");
                StringAssert.StartsWith(metadata["releaseNotes"], "0.1.0:", $"{package}: the notes name the version they describe");
            }
        }
        finally
        {
            Directory.Delete(feed, recursive: true);
        }
    }

    /// <summary>The package ids a .nupkg's nuspec names as dependencies.</summary>
    private static List<string> DependenciesOf(string package)
    {
        using var archive = System.IO.Compression.ZipFile.OpenRead(package);
        var nuspec = archive.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var stream = nuspec.Open();
        var document = System.Xml.Linq.XDocument.Load(stream);
        return document.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string)e.Attribute("id")!).Distinct().ToList();
    }
}
