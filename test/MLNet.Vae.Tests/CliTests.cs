using Microsoft.ML;
using System.Globalization;
using MLNet.Vae.Cli;
using SkiaSharp;

namespace MLNet.Vae.Tests;

/// <summary>The mlnet-vae command line, run in-process: each command, its help, and each kind of bad file.</summary>
[TestClass]
public sealed class CliTests
{
    private string _folder = null!;

    [TestInitialize]
    public void MakeFolder() => _folder = Directory.CreateTempSubdirectory("vae-cli-").FullName;

    [TestCleanup]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Cli.Cli.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>A CSV of rows near a line in 6 dimensions, with a label column, plus planted outliers at the end.</summary>
    private string WriteCsv(string name, int rows = 200, int outliers = 10)
    {
        var random = new Random(1);
        var lines = new List<string> { "a,b,c,d,e,f,label" };
        for (int i = 0; i < rows; i++)
        {
            double z = random.NextDouble();
            lines.Add(string.Join(",", Enumerable.Range(1, 6).Select(k => (z * k + 0.02 * random.NextDouble()).ToString("R", CultureInfo.InvariantCulture))) + ",0");
        }
        for (int i = 0; i < outliers; i++)
            lines.Add(string.Join(",", Enumerable.Range(1, 6).Select(_ => (6 * random.NextDouble()).ToString("R", CultureInfo.InvariantCulture))) + ",1");
        File.WriteAllLines(PathOf(name), lines);
        return PathOf(name);
    }

    [TestMethod]
    public void Csv_TrainScoreEncodeGenerateReport_WriteWhatTheySay()
    {
        string data = WriteCsv("data.csv"), model = PathOf("model.zip");

        var train = Run("train", "--data", data, "--model", model, "--label-column", "label", "--latent", "2", "--epochs", "60", "--contamination", "0.05", "--models", "1");
        Assert.AreEqual(0, train.ExitCode, train.Error);
        StringAssert.Contains(train.Output, "Trained on 210 rows");
        Assert.AreEqual(0, train.Error.Split('\n').Count(l => l.StartsWith("epoch ")), "no line per epoch without --verbose");
        StringAssert.Contains(train.Error, "training: model 1/1 trained (60 epochs)");
        Assert.DoesNotContain('\u001b', train.Error, "no progress bar (terminal escape codes) when standard error is not a terminal");

        var score = Run("score", "--model", model, "--data", data, "--out", PathOf("scores.csv"));
        Assert.AreEqual(0, score.ExitCode, score.Error);
        var scores = File.ReadAllLines(PathOf("scores.csv"));
        Assert.AreEqual("row,score,predicted_label", scores[0]);
        Assert.HasCount(211, scores);
        var values = scores.Skip(1).Select(l => float.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        float normal95 = values.Take(200).OrderBy(v => v).ElementAt(190), outlierMedian = values.Skip(200).OrderBy(v => v).ElementAt(5);
        Assert.IsGreaterThan(normal95, outlierMedian, "most planted outliers score above 95% of the normal rows");

        Assert.AreEqual(0, Run("score", "--model", model, "--data", data, "--out", PathOf("features.csv"), "--feature-scores").ExitCode);
        var withFeatures = File.ReadAllLines(PathOf("features.csv"));
        Assert.AreEqual("row,score,predicted_label,a_score,b_score,c_score,d_score,e_score,f_score", withFeatures[0]);
        Assert.HasCount(9, withFeatures[1].Split(','));

        Assert.AreEqual(0, Run("encode", "--model", model, "--data", data, "--out", PathOf("latent.csv")).ExitCode);
        Assert.AreEqual("row,z0,z1", File.ReadLines(PathOf("latent.csv")).First());

        Assert.AreEqual(0, Run("generate", "--model", model, "--count", "5", "--out", PathOf("generated.csv")).ExitCode);
        var generated = File.ReadAllLines(PathOf("generated.csv"));
        Assert.AreEqual("a,b,c,d,e,f", generated[0], "generated rows carry the training columns, without the label");
        Assert.HasCount(6, generated);

        var report = Run("report", "--model", model, "--data", data, "--out", PathOf("report"));
        Assert.AreEqual(0, report.ExitCode, report.Error);
        Assert.IsTrue(File.Exists(Path.Combine(PathOf("report"), "index.html")));

        var export = Run("export-onnx", "--model", model, "--out", PathOf("model.onnx"));
        Assert.AreEqual(0, export.ExitCode, export.Error);
        StringAssert.Contains(export.Output, "Score.output");
        var features = File.ReadLines(data).Skip(1).SelectMany(l => l.Split(',').Take(6).Select(v => float.Parse(v, CultureInfo.InvariantCulture))).ToArray();
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(PathOf("model.onnx"));
        using var results = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("Features",
            new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(features, [210, 6]))]);
        var onnxScores = results.Single(r => r.Name == "Score.output").AsTensor<float>();
        for (int i = 0; i < values.Length; i++)
            Assert.AreEqual(values[i], onnxScores[i, 0], 1e-4 * Math.Max(1, Math.Abs(values[i])), $"the exported model scores row {i} as the score command does");
    }

    [TestMethod]
    public void Images_TrainScoreAndGenerateAPngGrid()
    {
        string images = Directory.CreateDirectory(PathOf("images")).FullName;
        var random = new Random(2);
        for (int i = 0; i < 30; i++)
        {
            using var bitmap = new SKBitmap(12, 12);
            using (var canvas = new SKCanvas(bitmap))
            {
                canvas.Clear(SKColors.Black);
                using var paint = new SKPaint { Color = SKColors.White };
                canvas.DrawCircle(6 + random.Next(-2, 3), 6, 3, paint);
            }
            using var file = File.Create(Path.Combine(images, $"img{i:D2}.png"));
            bitmap.Encode(file, SKEncodedImageFormat.Png, 100);
        }
        string model = PathOf("images.zip");

        var train = Run("train", "--data", images, "--model", model, "--image-size", "8", "--grayscale", "--epochs", "5", "--latent", "4");
        Assert.AreEqual(0, train.ExitCode, train.Error);
        var score = Run("score", "--model", model, "--data", images, "--out", PathOf("scores.csv"));
        Assert.AreEqual(0, score.ExitCode, score.Error);
        var lines = File.ReadAllLines(PathOf("scores.csv"));
        Assert.HasCount(31, lines);
        Assert.StartsWith("img00.png,", lines[1]);
        var generate = Run("generate", "--model", model, "--count", "10", "--out", PathOf("samples.png"));
        Assert.AreEqual(0, generate.ExitCode, generate.Error);
        using var grid = SKBitmap.Decode(PathOf("samples.png"));
        Assert.AreEqual(2 + 8 * (8 * 10 + 2), grid.Width, "8 images per row, 8 pixels each drawn 10 times larger");
        Assert.AreEqual(2 + 2 * (8 * 10 + 2), grid.Height);
    }

    [TestMethod]
    public void Csv_PValuesAndCalibration_AreReachableFromTheCommandLine()
    {
        string data = WriteCsv("data.csv"), model = PathOf("model.zip"), calibrated = PathOf("calibrated.zip");
        File.WriteAllLines(PathOf("normal.csv"), File.ReadLines(data).Take(201));   // the header and the 200 normal rows
        Assert.AreEqual(0, Run("train", "--data", data, "--model", model, "--label-column", "label", "--latent", "2", "--epochs", "60", "--p-values").ExitCode);

        Assert.AreEqual(0, Run("score", "--model", model, "--data", data, "--out", PathOf("scores.csv")).ExitCode);
        var lines = File.ReadAllLines(PathOf("scores.csv"));
        Assert.AreEqual("row,score,predicted_label,p_value", lines[0]);
        var pValues = lines.Skip(1).Select(l => double.Parse(l.Split(',')[3], CultureInfo.InvariantCulture)).ToArray();
        Assert.IsTrue(pValues.All(p => p > 0 && p <= 1), "p-values lie in (0, 1]");
        Assert.IsLessThan(pValues.Take(200).OrderBy(p => p).ElementAt(100), pValues.Skip(200).OrderBy(p => p).ElementAt(5), "the outliers' median p-value is below the normal rows'");

        var calibrate = Run("calibrate", "--model", model, "--normal", PathOf("normal.csv"), "--false-positive-rate", "0.1", "--out", calibrated);
        Assert.AreEqual(0, calibrate.ExitCode, calibrate.Error);
        Assert.AreEqual(0, Run("score", "--model", calibrated, "--data", PathOf("normal.csv"), "--out", PathOf("normal-scores.csv")).ExitCode);
        double flagged = File.ReadLines(PathOf("normal-scores.csv")).Skip(1).Average(l => l.Split(',')[2] == "1" ? 1.0 : 0.0);
        Assert.AreEqual(0.1, flagged, 0.02, "the calibrated threshold flags 10% of the normal rows");
    }

    [TestMethod]
    public void Csv_Ensemble_IsTrainedSavedAndScoredFromTheCommandLine()
    {
        string data = WriteCsv("data.csv"), model = PathOf("ensemble.zip");
        var train = Run("train", "--data", data, "--model", model, "--label-column", "label", "--latent", "2", "--epochs", "20", "--models", "3", "--trimmed-fraction", "0.05",
            "--no-skewed-logs");
        Assert.AreEqual(0, train.ExitCode, train.Error);
        StringAssert.Contains(train.Output, "Trained an ensemble of 3 VAEs on 210 rows");
        Assert.AreEqual(0, Run("score", "--model", model, "--data", data, "--out", PathOf("scores.csv")).ExitCode);
        var scores = File.ReadLines(PathOf("scores.csv")).Skip(1).Select(l => double.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        Assert.IsGreaterThan(scores.Take(200).OrderBy(s => s).ElementAt(100), scores.Skip(200).OrderBy(s => s).ElementAt(5), "the outliers' median score is above the normal rows'");

        var ml = new MLContext(seed: 1);
        // A CSV model is the VAE alone (no image pipeline before it).
        using var loaded = (VaeTransformer)ml.Model.Load(model, out _);
        Assert.AreEqual(3, loaded.NumberOfModels);
        Assert.AreEqual(0.05, loaded.Options.TrimmedFraction, "--trimmed-fraction reaches the options");
        Assert.IsFalse(loaded.Options.AppendLogOfSkewedFeatures, "--no-skewed-logs reaches the options");
        Assert.AreEqual(VaeScoreKind.ReconstructionAndLatentNeighbours, loaded.Options.ScoreKind, "a CSV's automatic score");
    }

    [TestMethod]
    public void Csv_ScoreKind_IsChosenFromTheCommandLine_AndAnUnknownOneIsRefused()
    {
        string data = WriteCsv("data.csv"), model = PathOf("model.zip");
        var train = Run("train", "--data", data, "--model", model, "--label-column", "label", "--latent", "2", "--epochs", "5", "--models", "1",
            "--score", "reconstructionerror");
        Assert.AreEqual(0, train.ExitCode, train.Error);
        using (var loaded = (VaeTransformer)new MLContext(seed: 1).Model.Load(model, out _))
            Assert.AreEqual(VaeScoreKind.ReconstructionError, loaded.Options.ScoreKind);

        var refused = Run("train", "--data", data, "--model", PathOf("other.zip"), "--label-column", "label", "--score", "3");
        Assert.AreNotEqual(0, refused.ExitCode);
        StringAssert.Contains(refused.Error, "--score must be auto or one of ReconstructionError");
        Assert.IsFalse(File.Exists(PathOf("other.zip")), "nothing written");
    }

    [TestMethod]
    [DataRow("train")]
    [DataRow("score")]
    [DataRow("encode")]
    [DataRow("generate")]
    [DataRow("report")]
    [DataRow("export-onnx")]
    [DataRow("calibrate")]
    public void EachCommand_HasHelp(string command)
    {
        var help = Run(command, "--help");
        Assert.AreEqual(0, help.ExitCode);
        StringAssert.Contains(help.Output, "Usage:");
        StringAssert.Contains(help.Output, "--model");
    }

    [TestMethod]
    public void MissingRequiredOption_IsAUsageError()
    {
        var result = Run("score", "--model", PathOf("m.zip"));
        Assert.AreNotEqual(0, result.ExitCode);
        StringAssert.Contains(result.Error + result.Output, "--data");
    }

    [TestMethod]
    public void Train_WhenTheLibraryRefusesTheData_PrintsOneErrorLineAndFails()
    {
        // Values above 1 under the Bernoulli likelihood: the library's own InvalidOperationException, not the tool's.
        string path = PathOf("wide.csv");
        File.WriteAllText(path, "a,b,c\n1,2,3\n4,5,6\n7,8,9\n");

        var result = Run("train", "--data", path, "--model", PathOf("m.zip"), "--likelihood", "bernoulli", "--epochs", "1");

        Assert.AreEqual(1, result.ExitCode);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.HasCount(1, lines, result.Error);
        StringAssert.StartsWith(lines[0], "error: ");
        StringAssert.Contains(lines[0], "Bernoulli");
        Assert.IsFalse(File.Exists(PathOf("m.zip")));
    }

    [TestMethod]
    public void Train_WithAnInvalidOption_PrintsTheLibrarysMessage()
    {
        var result = Run("train", "--data", WriteCsv("data.csv"), "--model", PathOf("m.zip"), "--label-column", "label", "--latent", "0");

        Assert.AreEqual(1, result.ExitCode);
        StringAssert.Contains(result.Error, "error: --latent must be positive or null (automatic), got 0.");
        Assert.DoesNotContain("   at ", result.Error, "no stack trace");
    }

    [TestMethod]
    [DataRow("missing", "does not exist")]
    [DataRow("empty", "is empty: it needs a header row")]
    [DataRow("header-only", "has a header but no rows")]
    [DataRow("ragged", "Line 3 of")]
    [DataRow("text-cell", "column 'b': 'abc' is not a finite number")]
    [DataRow("nan-cell", "column 'c': 'NaN' is not a finite number")]
    [DataRow("no-label", "The column 'label' is not in the header")]
    public void Train_OnABadCsv_FailsNamingTheProblem(string kind, string message)
    {
        string path = PathOf($"{kind}.csv");
        switch (kind)
        {
            case "empty": File.WriteAllText(path, "\n\n"); break;
            case "header-only": File.WriteAllText(path, "a,b,c,label\n"); break;
            case "ragged": File.WriteAllText(path, "a,b,c,label\n1,2,3,0\n1,2,0\n"); break;
            case "text-cell": File.WriteAllText(path, "a,b,c,label\n1,abc,3,0\n"); break;
            case "nan-cell": File.WriteAllText(path, "a,b,c,label\n1,2,NaN,0\n"); break;
            case "no-label": File.WriteAllText(path, "a,b,c\n1,2,3\n"); break;
        }

        var result = Run("train", "--data", path, "--model", PathOf("m.zip"), "--label-column", "label", "--epochs", "1");

        Assert.AreEqual(1, result.ExitCode);
        StringAssert.Contains(result.Error, "error: ");
        StringAssert.Contains(result.Error, message);
        Assert.DoesNotContain("   at ", result.Error, "no stack trace");
        Assert.IsFalse(File.Exists(PathOf("m.zip")));
    }

    [TestMethod]
    public void Train_OnAFolderWithAnUnreadableImage_NamesIt()
    {
        string images = Directory.CreateDirectory(PathOf("images")).FullName;
        File.WriteAllText(Path.Combine(images, "broken.png"), "not a png");

        var result = Run("train", "--data", images, "--model", PathOf("m.zip"));

        Assert.AreEqual(1, result.ExitCode);
        StringAssert.Contains(result.Error, "broken.png' cannot be read");
    }

    [TestMethod]
    public void Score_WithDataMissingAModelColumn_OrNoModel_FailsClearly()
    {
        string data = WriteCsv("data.csv"), model = PathOf("model.zip");
        Assert.AreEqual(0, Run("train", "--data", data, "--model", model, "--label-column", "label", "--epochs", "2").ExitCode);
        File.WriteAllText(PathOf("fewer.csv"), "a,b,c\n1,2,3\n");

        var fewer = Run("score", "--model", model, "--data", PathOf("fewer.csv"), "--out", PathOf("s.csv"));
        StringAssert.Contains(fewer.Error, "lacks the model's columns: d, e, f");
        var noModel = Run("score", "--model", PathOf("none.zip"), "--data", data, "--out", PathOf("s.csv"));
        StringAssert.Contains(noModel.Error, "The model file");
        File.WriteAllText(PathOf("junk.zip"), "junk");
        var junk = Run("score", "--model", PathOf("junk.zip"), "--data", data, "--out", PathOf("s.csv"));
        Assert.AreEqual(1, junk.ExitCode);
        StringAssert.Contains(junk.Error, "is not an MLNet.Vae model");
    }
}
