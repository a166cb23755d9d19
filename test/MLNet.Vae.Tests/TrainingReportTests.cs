using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae.Reporting;
using SkiaSharp;

namespace MLNet.Vae.Tests;

/// <summary>The training report: its files exist, decode as images of the declared size, and hold the expected series.</summary>
[TestClass]
public sealed class TrainingReportTests
{
    private string _folder = null!;

    [TestInitialize]
    public void MakeFolder() => _folder = Directory.CreateTempSubdirectory("vae-report-").FullName;

    [TestCleanup]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    private static void AssertDecodesAs(string path, int width, int height)
    {
        using var bitmap = SKBitmap.Decode(path);
        Assert.IsNotNull(bitmap, $"{path} is not a decodable image");
        Assert.AreEqual(width, bitmap.Width, path);
        Assert.AreEqual(height, bitmap.Height, path);
        var colours = new HashSet<SKColor>();
        for (int y = 0; y < bitmap.Height; y += 7)
            for (int x = 0; x < bitmap.Width; x += 7)
                colours.Add(bitmap.GetPixel(x, y));
        Assert.IsGreaterThan(3, colours.Count, $"{path} is blank");
    }

    /// <summary>Fits tabular rows with a Label column (normal rows, then outliers) and writes their report into the test's folder.</summary>
    private VaeTrainingReport FitAndReport(int normalRows, int outliers, int epochs, Action<VaeOptions> configure)
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.ToDataView(ml, TestData.Normal(normalRows, seed: 80).Concat(TestData.Outliers(outliers, seed: 81)));
        var options = TestData.FastOptions(epochs: epochs);
        configure(options);
        using var model = new VaeEstimator(ml, options).Fit(data);
        return model.WriteTrainingReport(_folder, data, new VaeReportOptions { LabelColumnName = "Label" });
    }

    [TestMethod]
    public void Report_OfTabularDataWithValidation_WritesChartsWithTrainAndValidationSeries()
    {
        var report = FitAndReport(normalRows: 300, outliers: 30, epochs: 6, options => options.ValidationFraction = 0.2);

        CollectionAssert.AreEqual(new[] { "reconstruction.png", "kl.png", "kl-per-dimension.png", "scores.png", "latent-map.png" },
            report.Charts.Select(c => c.FileName).ToArray(), "tabular data: no image grids");
        foreach (var chart in report.Charts) AssertDecodesAs(Path.Combine(_folder, chart.FileName), chart.Width, chart.Height);
        var byFile = report.Charts.ToDictionary(c => c.FileName);
        CollectionAssert.AreEquivalent(new Dictionary<string, int> { ["train"] = 6, ["validation"] = 6 }, byFile["reconstruction.png"].Series.ToDictionary());
        CollectionAssert.AreEquivalent(new Dictionary<string, int> { ["train"] = 6, ["validation"] = 6 }, byFile["kl.png"].Series.ToDictionary());
        Assert.AreEqual(3, byFile["kl-per-dimension.png"].Series["KL"]);
        Assert.AreEqual(50, byFile["scores.png"].Series["rows"]);
        CollectionAssert.AreEquivalent(new Dictionary<string, int> { ["0"] = 300, ["1"] = 30 }, byFile["latent-map.png"].Series.ToDictionary(),
            "one series per label value, every row drawn");

        string html = File.ReadAllText(report.HtmlPath);
        Assert.AreEqual(report.Charts.Count, html.Split("src=\"data:image/png;base64,").Length - 1, "the page embeds every chart");
        StringAssert.Contains(html, "<h2>History</h2>");
        StringAssert.Contains(html, "None: no known failure mode was detected.");
    }

    [TestMethod]
    public void Report_OfAnEnsemble_ShowsEachModel()
    {
        var report = FitAndReport(normalRows: 200, outliers: 10, epochs: 4, options => options.NumberOfModels = 3);

        var members = report.Charts.Single(c => c.FileName == "ensemble.png");
        AssertDecodesAs(Path.Combine(_folder, members.FileName), members.Width, members.Height);
        CollectionAssert.AreEquivalent(new Dictionary<string, int> { ["model 1 (seed 7)"] = 4, ["model 2 (seed 8)"] = 4, ["model 3 (seed 9)"] = 4 },
            members.Series.ToDictionary(), "one line per model, one point per epoch");
        string html = File.ReadAllText(report.HtmlPath);
        StringAssert.Contains(html, "<h2>Ensemble</h2>");
        StringAssert.Contains(html, "mean standardized score of 3 models");
        Assert.AreEqual(3, html.Split("<h2>Ensemble</h2>")[1].Split("</table>")[0].Split("<tr><td>").Length - 1, "one table row per model");
    }

    [TestMethod]
    public void Report_OfImages_AddsInputReconstructionAndSampleGrids()
    {
        var ml = new MLContext(seed: 1);
        // 16 features seen as 4x4 grey images.
        var data = TestData.ToDataView(ml, TestData.Normal(200, seed: 82, unitInterval: true));
        using var model = new VaeEstimator(ml, TestData.FastOptions(VaeLikelihood.Bernoulli, epochs: 3)).Fit(data);

        var report = model.WriteTrainingReport(_folder, data, new VaeReportOptions
        {
            ImageShape = new VaeImageShape(1, 4, 4), ReconstructionCount = 5, SampleCount = 12,
        });

        var grids = report.Charts.Where(c => c.FileName is "reconstructions.png" or "samples.png").ToDictionary(c => c.FileName);
        Assert.HasCount(2, grids);
        CollectionAssert.AreEquivalent(new Dictionary<string, int> { ["inputs"] = 5, ["reconstructions"] = 5 }, grids["reconstructions.png"].Series.ToDictionary());
        Assert.AreEqual(12, grids["samples.png"].Series["samples"]);
        // 4x4 images magnified 21 times, 2 px apart: 5 columns by 2 rows; samples 8 per row in 2 rows.
        AssertDecodesAs(Path.Combine(_folder, "reconstructions.png"), 2 + 5 * (4 * 21 + 2), 2 + 2 * (4 * 21 + 2));
        AssertDecodesAs(Path.Combine(_folder, "samples.png"), 2 + 8 * (4 * 21 + 2), 2 + 2 * (4 * 21 + 2));
    }

    [TestMethod]
    public void Report_TakesTheImageShapeFromTheColumnsDimensions()
    {
        var column = new DataViewSchema.Builder();
        column.AddColumn("Pixels", new VectorDataViewType(NumberDataViewType.Single, 3, 8, 6));
        Assert.AreEqual(new VaeImageShape(3, 8, 6), MLNet.Vae.Data.ImageShapes.FromColumn(column.ToSchema()["Pixels"]));
        var flat = new DataViewSchema.Builder();
        flat.AddColumn("Pixels", new VectorDataViewType(NumberDataViewType.Single, 144));
        Assert.IsNull(MLNet.Vae.Data.ImageShapes.FromColumn(flat.ToSchema()["Pixels"]));
    }

    [TestMethod]
    public void Report_WithAWrongImageShapeOrMissingLabel_ThrowsNamingIt()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.ToDataView(ml, TestData.Normal(50, seed: 83));
        using var model = new VaeEstimator(ml, TestData.FastOptions(epochs: 1)).Fit(data);

        var shape = Assert.Throws<ArgumentOutOfRangeException>(() => model.WriteTrainingReport(_folder, data, new VaeReportOptions { ImageShape = new VaeImageShape(1, 5, 5) }));
        StringAssert.Contains(shape.Message, "ImageShape 1x5x5 holds 25 values, but the model's input width is 16");
        var label = Assert.Throws<ArgumentOutOfRangeException>(() => model.WriteTrainingReport(_folder, data, new VaeReportOptions { LabelColumnName = "Kind" }));
        StringAssert.Contains(label.Message, "Could not find input column 'Kind'");
    }

    [TestMethod]
    public void Report_ShowsWarningsAndMarksTheKeptEpoch()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.ToDataView(ml, TestData.Normal(120, seed: 84));
        var options = TestData.FastOptions(epochs: 200);
        options.Beta = 50;
        options.ValidationFraction = 0.25;
        options.EarlyStoppingPatience = 3;
        using var model = new VaeEstimator(ml, options).Fit(data);

        var report = model.WriteTrainingReport(_folder, data);

        string html = File.ReadAllText(report.HtmlPath);
        StringAssert.Contains(html, "<b>PosteriorCollapse</b>");
        StringAssert.Contains(html, $"weights of epoch {model.Training.BestEpoch}");
        Assert.IsLessThan(200, model.Training.History.Count);
    }
}
