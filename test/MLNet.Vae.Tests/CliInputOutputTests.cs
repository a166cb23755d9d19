using System.Globalization;
using System.Text;
using Microsoft.ML;

namespace MLNet.Vae.Tests;

/// <summary>
/// The command line with the files a .NET team has: semicolon exports with an id, a timestamp and gaps, quoted cells over
/// several lines, standard input and output; and what it must never do: destroy a model or an input, echo a 2 MB cell,
/// report a user's mistake as its own bug, or take a command line it cannot run with exit code 1.
/// </summary>
[TestClass]
public sealed class CliInputOutputTests
{
    private string _folder = null!;

    [TestInitialize]
    public void MakeFolder() => _folder = Directory.CreateTempSubdirectory("vae-cli-io-").FullName;

    [TestCleanup]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    private static (int ExitCode, string Output, string Error) RunWithInput(string? standardInput, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Cli.Cli.Run(args, output, error, standardInput is null ? null : new StringReader(standardInput));
        return (code, output.ToString(), error.ToString());
    }

    private static (int ExitCode, string Output, string Error) Run(params string[] args) => RunWithInput(null, args);

    /// <summary>
    /// A semicolon export: id;timestamp;s1..s4;label, rows near a line in 4 dimensions with decimal points, empty cells in
    /// every 25th row, and planted outliers at the end.
    /// </summary>
    private string WriteExport(string name, int rows = 200, int outliers = 10, bool gaps = true)
    {
        var random = new Random(3);
        var lines = new List<string> { "id;timestamp;s1;s2;s3;s4;label" };
        var start = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (int i = 0; i < rows + outliers; i++)
        {
            double z = random.NextDouble();
            var values = Enumerable.Range(1, 4).Select(k => i < rows ? z * k + 0.02 * random.NextDouble() : 4 * random.NextDouble())
                .Select(v => v.ToString("R", CultureInfo.InvariantCulture)).ToArray();
            if (gaps && i % 25 == 7) values[2] = "";
            lines.Add($"A-{i:D4};{start.AddMinutes(i):yyyy-MM-ddTHH:mm:ss};{string.Join(";", values)};{(i < rows ? 0 : 1)}");
        }
        File.WriteAllLines(PathOf(name), lines);
        return PathOf(name);
    }

    [TestMethod]
    public void SemicolonExport_WithIdTimestampAndEmptyCells_TrainsAndScores()
    {
        string data = WriteExport("export.csv"), model = PathOf("model.zip");
        var refused = Run("train", "--data", data, "--model", model, "--label-column", "label", "--ignore-columns", "id,timestamp");
        Assert.AreEqual(1, refused.ExitCode);
        StringAssert.Contains(refused.Error, "Line 9 of");
        StringAssert.Contains(refused.Error, "column 's3' is empty");

        var train = Run("train", "--data", data, "--model", model, "--label-column", "label", "--ignore-columns", "id,timestamp", "--missing", "median",
            "--epochs", "30", "--models", "1");
        Assert.AreEqual(0, train.ExitCode, train.Error);
        StringAssert.Contains(train.Output, "Trained on 210 rows");

        var score = Run("score", "--model", model, "--data", data, "--out", PathOf("scores.csv"), "--missing", "drop");
        Assert.AreEqual(0, score.ExitCode, score.Error);
        var lines = File.ReadAllLines(PathOf("scores.csv"));
        Assert.HasCount(1 + 210 - 9, lines, "the 9 rows with a gap are left out");
        Assert.AreEqual("9", lines[8].Split(',')[0], "rows keep their number in the file: row 8 was dropped");
    }

    [TestMethod]
    public void Evaluate_ReportsTheRankingAndTheLabelsAtTheThreshold_AsTextAndJson()
    {
        string data = WriteExport("export.csv", gaps: false), model = PathOf("model.zip");
        Assert.AreEqual(0, Run("train", "--data", data, "--model", model, "--label-column", "label", "--ignore-columns", "id,timestamp",
            "--epochs", "30", "--models", "1").ExitCode);
        var score = Run("score", "--model", model, "--data", data, "--out", PathOf("scores.csv"));
        var flagged = File.ReadAllLines(PathOf("scores.csv")).Skip(1).Select(l => l.Split(',')).ToList();

        var text = Run("evaluate", "--model", model, "--data", data, "--label-column", "label");
        Assert.AreEqual(0, text.ExitCode, text.Error);
        StringAssert.Contains(text.Output, "210 rows, 10 labelled anomalous");
        StringAssert.Contains(text.Output, "ROC-AUC ");

        var json = Run("evaluate", "--model", model, "--data", data, "--label-column", "label", "--json");
        Assert.AreEqual(0, json.ExitCode, json.Error);
        using var metrics = System.Text.Json.JsonDocument.Parse(json.Output);
        var root = metrics.RootElement;
        // The confusion counts are the model's own labels (score's predicted_label) against the file's: rows 201-210 are the outliers.
        int truePositives = flagged.Count(c => c[2] == "1" && int.Parse(c[0], CultureInfo.InvariantCulture) > 200);
        int falsePositives = flagged.Count(c => c[2] == "1" && int.Parse(c[0], CultureInfo.InvariantCulture) <= 200);
        Assert.AreEqual(truePositives, root.GetProperty("true_positives").GetInt32());
        Assert.AreEqual(falsePositives, root.GetProperty("false_positives").GetInt32());
        Assert.AreEqual(210, root.GetProperty("rows").GetInt32());
        // ROC-AUC of the written scores, counted pair by pair.
        var scores = flagged.Select(c => (Score: double.Parse(c[1], CultureInfo.InvariantCulture), Anomaly: int.Parse(c[0], CultureInfo.InvariantCulture) > 200)).ToList();
        double pairs = scores.Where(a => a.Anomaly).Sum(a => scores.Where(n => !n.Anomaly).Sum(n => a.Score > n.Score ? 1 : a.Score == n.Score ? 0.5 : 0));
        Assert.AreEqual(pairs / (10 * 200), root.GetProperty("roc_auc").GetDouble(), 1e-9);
        Assert.IsGreaterThan(0.9, root.GetProperty("roc_auc").GetDouble(), "the planted outliers rank high");

        var oneClass = Run("evaluate", "--model", model, "--data", data, "--label-column", "s1");
        Assert.AreEqual(1, oneClass.ExitCode);
        StringAssert.Contains(oneClass.Error, "must hold both anomalies (> 0) and normal rows (0)");
    }

    [TestMethod]
    public void Train_StreamsTheFile_WhenItIsAboveTheInMemoryLimit()
    {
        // --in-memory-limit 0: Fit reads the file in blocks on each pass (the library's streaming Fit) instead of holding it.
        string data = WriteExport("export.csv", gaps: false), streamed = PathOf("streamed.zip"), held = PathOf("held.zip");
        string[] common = ["--data", data, "--label-column", "label", "--ignore-columns", "id,timestamp", "--epochs", "5", "--models", "1"];
        var stream = Run(["train", "--model", streamed, "--in-memory-limit", "0", .. common]);
        Assert.AreEqual(0, stream.ExitCode, stream.Error);
        StringAssert.Contains(stream.Output, "Trained on 210 rows");
        Assert.AreEqual(0, Run(["train", "--model", held, .. common]).ExitCode);

        StringAssert.Contains(Run(["train", "--model", PathOf("v.zip"), "--in-memory-limit", "0", "--verbose", .. common]).Error, "rows (streamed in blocks of");

        // One block holds every row here, and a streamed fit is the in-memory one bit for bit (docs/scale.md).
        var ml = new MLContext();
        using var streamedVae = (VaeTransformer)ml.Model.Load(streamed, out _);
        using var heldVae = (VaeTransformer)ml.Model.Load(held, out _);
        Assert.AreEqual(heldVae.Threshold, streamedVae.Threshold);
        var negative = Run(["train", "--model", PathOf("x.zip"), "--in-memory-limit", "-1", .. common]);
        Assert.AreEqual(2, negative.ExitCode);
        StringAssert.Contains(negative.Error, "--in-memory-limit must be 0");
    }

    [TestMethod]
    public void StandardInput_IsReadOnceIntoATemporaryFile_AndItIsDeleted()
    {
        string csv = File.ReadAllText(WriteExport("export.csv", gaps: false));
        var before = Directory.GetFiles(Path.GetTempPath(), "mlnet-vae-stdin-*").ToHashSet();
        var train = RunWithInput(csv, "train", "--data", "-", "--model", PathOf("model.zip"), "--label-column", "label",
            "--ignore-columns", "id,timestamp", "--epochs", "3", "--models", "1", "--in-memory-limit", "0");
        Assert.AreEqual(0, train.ExitCode, train.Error);
        StringAssert.Contains(train.Output, "Trained on 210 rows");
        Assert.IsEmpty(Directory.GetFiles(Path.GetTempPath(), "mlnet-vae-stdin-*").Where(f => !before.Contains(f)), "the copy is gone");
    }

    [TestMethod]
    public void QuotedCellsOverSeveralLines_AreOneCell()
    {
        var csv = new StringBuilder("note,a,b,c\n");
        var random = new Random(4);
        for (int i = 0; i < 60; i++)
        {
            double z = random.NextDouble();
            string note = i % 10 == 0 ? "\"first line\nsecond line, with a comma\"" : "plain";
            csv.Append(CultureInfo.InvariantCulture, $"{note},{z},{2 * z},{3 * z + 0.01 * random.NextDouble()}\n");
        }
        File.WriteAllText(PathOf("notes.csv"), csv.ToString());
        var train = Run("train", "--data", PathOf("notes.csv"), "--model", PathOf("m.zip"), "--ignore-columns", "note", "--epochs", "2", "--models", "1");
        Assert.AreEqual(0, train.ExitCode, train.Error);
        StringAssert.Contains(train.Output, "Trained on 60 rows");
    }

    [TestMethod]
    public void StandardInputAndOutput_AreNamedWithADash()
    {
        string data = WriteExport("export.csv", gaps: false), model = PathOf("model.zip");
        string text = File.ReadAllText(data);
        var train = RunWithInput(text, "train", "--data", "-", "--model", model, "--label-column", "label", "--ignore-columns", "id,timestamp", "--epochs", "5", "--models", "1");
        Assert.AreEqual(0, train.ExitCode, train.Error);

        var score = RunWithInput(text, "score", "--model", model, "--data", "-", "--out", "-", "--ignore-columns", "id,timestamp");
        Assert.AreEqual(0, score.ExitCode, score.Error);
        var lines = score.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual("row,score,predicted_label", lines[0], "standard output holds the CSV alone");
        Assert.HasCount(211, lines);
        StringAssert.Contains(score.Error, "Scored 210 rows", "the summary goes to standard error");
    }

    [TestMethod]
    public void Train_OverAnExistingModel_LeavesItWholeWhenTrainingFails_AndNoStrayFile()
    {
        string data = WriteExport("export.csv", gaps: false), model = PathOf("model.zip");
        Assert.AreEqual(0, Run("train", "--data", data, "--model", model, "--label-column", "label", "--ignore-columns", "id,timestamp", "--epochs", "2", "--models", "1").ExitCode);
        byte[] before = File.ReadAllBytes(model);

        File.WriteAllText(PathOf("same.csv"), "a,b\n1,2\n1,2\n1,2\n");
        var failed = Run("train", "--data", PathOf("same.csv"), "--model", model, "--epochs", "2");
        Assert.AreEqual(1, failed.ExitCode);
        StringAssert.Contains(failed.Error, "are the same");
        CollectionAssert.AreEqual(before, File.ReadAllBytes(model), "the model that was there is untouched");
        CollectionAssert.AreEquivalent(new[] { "export.csv", "model.zip", "same.csv" }, Directory.GetFiles(_folder).Select(Path.GetFileName).ToArray(), "no temporary file left");
    }

    [TestMethod]
    public void OutputThatIsAnInput_OrInAFolderThatCannotTakeIt_IsRefusedBeforeAnyWork()
    {
        string data = WriteExport("export.csv", gaps: false), model = PathOf("model.zip");
        Assert.AreEqual(0, Run("train", "--data", data, "--model", model, "--label-column", "label", "--ignore-columns", "id,timestamp", "--epochs", "2", "--models", "1").ExitCode);
        byte[] input = File.ReadAllBytes(data);

        var same = Run("score", "--model", model, "--data", data, "--out", data, "--ignore-columns", "id,timestamp");
        Assert.AreEqual(1, same.ExitCode);
        StringAssert.Contains(same.Error, "is also an input of this command");
        CollectionAssert.AreEqual(input, File.ReadAllBytes(data), "the input is untouched");
        StringAssert.Contains(Run("calibrate", "--model", model, "--normal", data, "--false-positive-rate", "0.1", "--out", model).Error, "is also an input");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var missingFolder = Run("train", "--data", data, "--model", PathOf("no/such/folder/m.zip"), "--label-column", "label", "--ignore-columns", "id,timestamp");
        Assert.AreEqual(1, missingFolder.ExitCode);
        StringAssert.Contains(missingFolder.Error, "does not exist");
        Assert.IsLessThan(5, clock.Elapsed.TotalSeconds, "refused before training");
    }

    [TestMethod]
    public void DamagedModel_IsAnInputError_NamingTheDamage()
    {
        string data = WriteExport("export.csv", gaps: false), model = PathOf("model.zip");
        Assert.AreEqual(0, Run("train", "--data", data, "--model", model, "--label-column", "label", "--ignore-columns", "id,timestamp", "--epochs", "2", "--models", "1").ExitCode);
        // ML.NET extracts the zip's entries; flip a byte inside the VAE's stored (uncompressed) weights by rewriting the entry.
        string damaged = PathOf("damaged.zip");
        using (var source = System.IO.Compression.ZipFile.OpenRead(model))
        using (var target = System.IO.Compression.ZipFile.Open(damaged, System.IO.Compression.ZipArchiveMode.Create))
            foreach (var entry in source.Entries)
            {
                using var from = entry.Open();
                using var buffer = new MemoryStream();
                from.CopyTo(buffer);
                var bytes = buffer.ToArray();
                if (entry.FullName.EndsWith("VaeModel.bin", StringComparison.Ordinal)) bytes[^100] ^= 0x10;
                using var to = target.CreateEntry(entry.FullName).Open();
                to.Write(bytes);
            }
        var result = Run("score", "--model", damaged, "--data", data, "--out", PathOf("s.csv"), "--ignore-columns", "id,timestamp");
        Assert.AreEqual(1, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, "checksum does not match");
        Assert.DoesNotContain("a bug in mlnet-vae", result.Error);
    }

    [TestMethod]
    public void OnnxExportOfAMixturePriorModel_IsAnInputError()
    {
        string data = WriteExport("export.csv", gaps: false), model = PathOf("model.zip");
        Assert.AreEqual(0, Run("train", "--data", data, "--model", model, "--label-column", "label", "--ignore-columns", "id,timestamp", "--epochs", "2",
            "--models", "1", "--prior-components", "3").ExitCode);
        var result = Run("export-onnx", "--model", model, "--out", PathOf("m.onnx"));
        Assert.AreEqual(1, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, "cannot be exported to ONNX");
        Assert.IsFalse(File.Exists(PathOf("m.onnx")));
    }

    [TestMethod]
    public void OverflowingOrLongCell_IsShownCut()
    {
        string huge = new('9', 2_000_000);
        File.WriteAllText(PathOf("huge.csv"), $"a,b\n1,2\n3,{huge}\n");
        var result = Run("train", "--data", PathOf("huge.csv"), "--model", PathOf("m.zip"));
        Assert.AreEqual(1, result.ExitCode);
        StringAssert.Contains(result.Error, "column 'b'");
        StringAssert.Contains(result.Error, "(2,000,000 characters)");
        Assert.IsLessThan(400, result.Error.Length, "the value is cut to 100 characters");
    }

    [TestMethod]
    [DataRow("--epochs", "abc", "--epochs must be a whole number, got 'abc'.")]
    [DataRow("--contamination", "lots", "--contamination must be a number, got 'lots'.")]
    [DataRow("--no-such-option", "1", "Unrecognized command or argument '--no-such-option'")]
    [DataRow("--missing", "guess", "--missing must be refuse, drop or median, got 'guess'.")]
    public void CommandLineTheToolCannotRun_IsAUsageError_NamingTheFlag(string flag, string value, string message)
    {
        string data = WriteExport("export.csv", gaps: false);
        var result = Run("train", "--data", data, "--model", PathOf("m.zip"), flag, value);
        Assert.AreEqual(2, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, message);
        Assert.DoesNotContain("System.", result.Error, "no .NET type names");
        Assert.IsLessThan(5, result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, "no whole help page");
    }

    [TestMethod]
    public void LibraryRefusalOfAnOption_NamesTheFlag()
    {
        string data = WriteExport("export.csv", gaps: false);
        var result = Run("train", "--data", data, "--model", PathOf("m.zip"), "--ignore-columns", "id,timestamp", "--contamination", "0");
        Assert.AreEqual(1, result.ExitCode);
        StringAssert.Contains(result.Error, "error: --contamination must be in (0, 0.5], got 0.");
        Assert.DoesNotContain("Parameter", result.Error);
    }

    [TestMethod]
    public void Verbosity_QuietSaysNothing_VerboseNamesTheModelOfEachEpoch()
    {
        string data = WriteExport("export.csv", gaps: false);
        string[] train = ["train", "--data", data, "--label-column", "label", "--ignore-columns", "id,timestamp", "--epochs", "3", "--models", "2"];
        var quiet = Run([.. train, "--model", PathOf("q.zip"), "--quiet"]);
        Assert.AreEqual(0, quiet.ExitCode, quiet.Error);
        Assert.AreEqual("", quiet.Error);
        Assert.AreEqual("", quiet.Output, "--quiet prints errors only: not even the closing line");
        var verbose = Run([.. train, "--model", PathOf("v.zip"), "--verbose"]);
        Assert.AreEqual(0, verbose.ExitCode, verbose.Error);
        StringAssert.Contains(verbose.Error, "fit: Model 1 of 2: Epoch 3: loss");
        StringAssert.Contains(verbose.Error, "fit: Model 2 of 2: Epoch 1: loss");
        StringAssert.Contains(verbose.Error, "fit: Training an ensemble of 2 VAEs", "the library's own account of the fit");
        StringAssert.Contains(verbose.Error, "(in memory)");
    }

    [TestMethod]
    public void Generate_ManyRows_IsWrittenInBatches()
    {
        string data = WriteExport("export.csv", gaps: false), model = PathOf("model.zip");
        Assert.AreEqual(0, Run("train", "--data", data, "--model", model, "--label-column", "label", "--ignore-columns", "id,timestamp", "--epochs", "2", "--models", "1").ExitCode);
        var result = Run("generate", "--model", model, "--count", "25000", "--out", PathOf("g.csv"));
        Assert.AreEqual(0, result.ExitCode, result.Error);
        Assert.AreEqual(25_001, File.ReadLines(PathOf("g.csv")).Count());
    }
}
