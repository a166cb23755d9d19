using System.Text.RegularExpressions;

namespace MLNet.Vae.Tests;

/// <summary>
/// README.md's C# code, compiled and run as written: its code blocks are copied into new console projects outside the
/// repository (referencing the library as docs/design/torchsharp-loading.md says), the usage block with the training-report
/// block after it and the CSV block on its own, with only the <c>= ...;</c> placeholder replaced by small synthetic data
/// and the CSV file written beside the program, so the README cannot drift from what compiles and runs.
/// </summary>
[TestClass]
public sealed class ReadmeExampleTests
{
    [TestMethod]
    [Timeout(900_000, CooperativeCancellation = true)]
    public void ReadmeCode_CompilesAndRunsAsWritten()
    {
        string root = DotnetCommand.RepoRoot;
        var blocks = Regex.Matches(File.ReadAllText(Path.Combine(root, "README.md")), "```csharp\n(.*?)```", RegexOptions.Singleline)
            .Select(m => m.Groups[1].Value).ToList();
        Assert.HasCount(3, blocks, "README.md has the usage block, the CSV block and the training-report block");
        string csv = blocks.Single(b => b.Contains("readings.csv", StringComparison.Ordinal));
        string report = blocks.Single(b => b.Contains("WriteTrainingReport", StringComparison.Ordinal));
        blocks = [blocks.Single(b => b != csv && b != report), report];
        var placeholder = new Regex(@"^IDataView train = \.\.\.;.*$", RegexOptions.Multiline);
        Assert.HasCount(1, placeholder.Matches(blocks[0]), "the usage block leaves exactly the training data to the reader");
        string usage = placeholder.Replace(blocks[0], "IDataView train = ReadmeData.Train(ml); IDataView test = ReadmeData.Test(ml); float[][] rows = ReadmeData.Rows;");
        // What the README's comments promise, checked after its code has run.
        const string checks = """

            using var reloaded = VaeTransformer.Load(ml, "vae.model");
            float[] Scores(IDataView view) => Microsoft.ML.Data.ColumnCursorExtensions.GetColumn<float>(view, "Score").ToArray();
            bool sameScores = Scores(scored).SequenceEqual(Scores(served.Transform(test)));
            Console.WriteLine($"checked: auc {metrics.AreaUnderRocCurve:F3}, reloaded threshold equal {reloaded.Threshold == vae.Threshold}, " +
                $"pipeline scores equal {sameScores}, report {File.Exists(report.HtmlPath)}, generated {generated.Length}, reconstructed {reconstructed.Length}");
            """;
        string data = """
            using Microsoft.ML;
            using Microsoft.ML.Data;

            /// <summary>16 features on a 3-dimensional linear manifold with a little noise; the test adds 10 rows far from it.</summary>
            public static class ReadmeData
            {
                private const int Width = 16;
                public static IDataView Train(MLContext ml) => ml.Data.LoadFromEnumerable(Make(300, seed: 1, outliers: 0));
                public static IDataView Test(MLContext ml) => ml.Data.LoadFromEnumerable(Make(100, seed: 2, outliers: 10));
                public static float[][] Rows => Make(3, seed: 3, outliers: 0).Select(r => r.Features).ToArray();

                private static List<Row> Make(int normal, int seed, int outliers)
                {
                    var random = new Random(seed);
                    var loadings = new Random(0);
                    var basis = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, Width).Select(_ => loadings.NextDouble() * 2 - 1).ToArray()).ToArray();
                    double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                    var rows = new List<Row>();
                    for (int r = 0; r < normal + outliers; r++)
                    {
                        var z = new[] { Gaussian(), Gaussian(), Gaussian() };
                        bool outlier = r >= normal;
                        rows.Add(new Row
                        {
                            Features = Enumerable.Range(0, Width).Select(i => (float)(outlier ? 3 + 3 * Gaussian() : z.Select((v, k) => v * basis[k][i]).Sum() + 0.05 * Gaussian())).ToArray(),
                            Label = outlier ? 1 : 0,
                        });
                    }
                    return rows;
                }

                public sealed class Row
                {
                    [VectorType(Width)] public float[] Features { get; set; } = [];
                    public float Label { get; set; }
                }
            }
            """;
        string consumer = Directory.CreateTempSubdirectory("vae-readme-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(consumer, "Program.cs"), usage + "\n" + blocks[1] + checks);
            File.WriteAllText(Path.Combine(consumer, "ReadmeData.cs"), data);
            File.WriteAllText(Path.Combine(consumer, "Readme.csproj"), Project(root));
            var run = DotnetCommand.Run(consumer, "run", "-c", "Release");
            Assert.AreEqual(0, run.ExitCode, run.Output);
            var line = Regex.Match(run.Output, @"checked: auc (\S+), reloaded threshold equal (\w+), pipeline scores equal (\w+), report (\w+), generated (\d+), reconstructed (\d+)");
            Assert.IsTrue(line.Success, run.Output);
            Assert.IsGreaterThan(0.9, double.Parse(line.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), "the README's pipeline separates far rows");
            Assert.AreEqual("True", line.Groups[2].Value, "VaeTransformer.Load(ml, \"vae.model\") scores identically");
            Assert.AreEqual("True", line.Groups[3].Value, "the saved pipeline scores as the fitted one");
            Assert.AreEqual("True", line.Groups[4].Value, "the training report is written");
            Assert.AreEqual("5", line.Groups[5].Value);
            Assert.AreEqual("3", line.Groups[6].Value);
            StringAssert.Contains(run.Output, "threshold ", "the README's own Console.WriteLine ran");

            // The CSV block on its own, over a readings.csv of 12 sensor columns and a label, as it describes.
            string own = Path.Combine(consumer, "own-data");
            Directory.CreateDirectory(own);
            File.WriteAllText(Path.Combine(own, "Program.cs"), csv);
            File.WriteAllText(Path.Combine(own, "Own.csproj"), Project(root));
            File.WriteAllText(Path.Combine(own, "readings.csv"), Readings());
            var ownRun = DotnetCommand.Run(own, "run", "-c", "Release");
            Assert.AreEqual(0, ownRun.ExitCode, ownRun.Output);
            var auc = Regex.Match(ownRun.Output, @"ROC-AUC (\S+)");
            Assert.IsTrue(auc.Success, ownRun.Output);
            Assert.IsGreaterThan(0.9, double.Parse(auc.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), ownRun.Output);
            StringAssert.Matches(ownRun.Output, new Regex(@"\d+ of 420 rows above the threshold"));
        }
        finally
        {
            Directory.Delete(consumer, recursive: true);
        }
    }

    /// <summary>A project that references the library, the report package and the build fix from outside the repository.</summary>
    private static string Project(string root) => $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings><Nullable>enable</Nullable></PropertyGroup>
                  <ItemGroup>
                    <ProjectReference Include="{root}src/MLNet.Vae/MLNet.Vae.csproj" />
                    <ProjectReference Include="{root}src/MLNet.Vae.Reporting/MLNet.Vae.Reporting.csproj" />
                    <ProjectReference Include="{root}src/MLNet.Vae.Build/MLNet.Vae.Build.csproj" ReferenceOutputAssembly="false" Private="false" />
                  </ItemGroup>
                  <Import Project="{root}src/MLNet.Vae.Build/build/MLNet.Vae.TorchSharpFix.targets" />
                </Project>
                """;

    /// <summary>readings.csv: 400 readings of 12 sensors driven by 3 hidden factors, then 20 readings off that pattern (label 1).</summary>
    private static string Readings()
    {
        var random = new Random(5);
        double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var loadings = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 12).Select(_ => random.NextDouble() * 2 - 1).ToArray()).ToArray();
        var lines = new List<string> { string.Join(",", Enumerable.Range(1, 12).Select(i => $"s{i}")) + ",label" };
        for (int r = 0; r < 420; r++)
        {
            bool anomaly = r >= 400;
            var z = new[] { Gaussian(), Gaussian(), Gaussian() };
            var values = Enumerable.Range(0, 12).Select(i => anomaly ? 2.5 * Gaussian() : z.Select((v, k) => v * loadings[k][i]).Sum() + 0.05 * Gaussian());
            lines.Add(string.Join(",", values.Select(v => v.ToString("F4", System.Globalization.CultureInfo.InvariantCulture))) + (anomaly ? ",1" : ",0"));
        }
        return string.Join("\n", lines) + "\n";
    }

    [TestMethod]
    public void FlatArgumentOverload_NamedInTheReadme_SetsTheLatentDimension()
    {
        var ml = new Microsoft.ML.MLContext(seed: 1);
        var flat = ml.Transforms.VariationalAutoencoder("Features", latentDimension: 8);
        Assert.AreEqual(8, flat.Options.LatentDimension);
    }
}
