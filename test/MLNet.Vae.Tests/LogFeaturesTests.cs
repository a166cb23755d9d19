using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae.Model;

namespace MLNet.Vae.Tests;

/// <summary>
/// <see cref="VaeOptions.AppendLogOfSkewedFeatures"/>: which features are chosen, and that a model whose members see the
/// appended logarithms still shows the caller the input's own features, on every scoring path and after saving.
/// </summary>
[TestClass]
public sealed class LogFeaturesTests
{
    private const int Width = 6;
    /// <summary>The features of <see cref="SkewedRows"/> made lognormal.</summary>
    private static readonly int[] Skewed = [1, 4];

    /// <summary>Rows on the test manifold with features 1 and 4 exponentiated: lognormal, never negative, skewness about 6.</summary>
    private static List<FeatureRow> SkewedRows(IEnumerable<FeatureRow> rows) => rows.Select(r =>
    {
        var x = r.Features.ToArray();
        foreach (int j in Skewed) x[j] = (float)Math.Exp((x[j] - 3) / 2);
        return new FeatureRow { Features = x, Label = r.Label, Id = r.Id };
    }).ToList();

    private static VaeOptions Options(int epochs = 20) => new() { Seed = 3, NumberOfEpochs = epochs, NumberOfModels = 1, FeatureScoresColumnName = "FeatureScores" };

    [TestMethod]
    public void Chooser_PicksTheFeaturesThatAreNeverNegativeManyValuedAndSkewed_Only()
    {
        var random = new Random(1);
        const int Features = 6, Rows = 2000;
        var rows = new float[Rows * Features];
        for (int r = 0; r < Rows; r++)
        {
            double g = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            var row = rows.AsSpan(r * Features, Features);
            row[0] = (float)Math.Exp(g);                           // lognormal: chosen
            row[1] = (float)g;                                     // symmetric
            row[2] = (float)Math.Exp(g) - 1.5f;                    // as skewed, but negative values: a logarithm would not fit it
            row[3] = random.NextDouble() < 0.05 ? 1 : 0;           // skewed but two values: a category
            row[4] = Math.Min(9, (int)Math.Exp(3 * g));            // skewed counts of 10 values, 0 to 9: a category
            row[5] = 1e6f + 1000 * (float)Math.Exp(g);             // skewed far from 0: the shifted moments still see it
        }
        var chooser = new LogFeatures.Chooser(Features);
        chooser.Add(rows, Rows);

        var chosen = chooser.Choose();

        Assert.IsNotNull(chosen);
        Assert.IsGreaterThan(LogFeatures.MinimumSkewness, chooser.Skewness(0));
        Assert.IsLessThan(0.5, Math.Abs(chooser.Skewness(1)));
        CollectionAssert.AreEqual(new[] { 0, 5 }, chosen.Features, $"skewness of the shifted feature: {chooser.Skewness(5):F2}");
        Assert.IsGreaterThan(LogFeatures.MinimumSkewness, chooser.Skewness(3), "the category is skewed: left out for its two values");
        Assert.AreEqual(Features + chosen.Features.Length, chosen.ExpandedWidth);
    }

    [TestMethod]
    public void Chooser_OfRowsWithoutSkewedFeatures_ChoosesNone()
    {
        var rows = TestData.Normal(300, seed: 1, width: Width).SelectMany(r => r.Features).ToArray();
        var chooser = new LogFeatures.Chooser(Width);
        chooser.Add(rows, 300);
        Assert.IsNull(chooser.Choose());
    }

    [TestMethod]
    public void ExpandAndFold_AppendTheLogarithms_AndAddTheirTermsToTheirFeatures()
    {
        var logs = new LogFeatures(3, [0, 2]);
        var expanded = logs.Expand([1f, -2f, -5f, float.NaN, 7f, 0f], 2);
        CollectionAssert.AreEqual(new[] { 1f, -2f, -5f, (float)Math.Log(2), 0f, float.NaN, 7f, 0f, float.NaN, 0f }, expanded,
            "a negative value's logarithm counts it as 0; NaN stays NaN");
        var folded = new float[6];
        logs.Fold([1, 2, 3, 10, 20, 4, 5, 6, 30, 40], 2, folded);
        CollectionAssert.AreEqual(new[] { 11f, 2, 23, 34, 5, 46 }, folded);
        CollectionAssert.AreEqual(new[] { 1f, -2f, -5f, float.NaN, 7f, 0f }, logs.Cut(expanded, 2));
    }

    [TestMethod]
    public void Fit_OnATableWithSkewedFeatures_TrainsOnTheirLogarithms_AndShowsOnlyTheInputsFeatures()
    {
        var ml = new MLContext(seed: 1);
        var train = SkewedRows(TestData.Normal(400, seed: 1, width: Width));
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(Options()).Fit(TestData.ToDataView(ml, train, Width));

        CollectionAssert.AreEqual(Skewed, model.Ensemble.Logs!.Features);
        CollectionAssert.AreEqual(Skewed, model.SkewedFeatures.ToArray());
        Assert.AreEqual(Width, model.InputWidth);
        Assert.AreEqual(Width + Skewed.Length, model.Ensemble.First.InputWidth, "the members see the logarithms");
        Assert.IsTrue(model.Training.AutomaticChoices.Any(c => c.StartsWith("AppendLogOfSkewedFeatures = true", StringComparison.Ordinal)));

        // The feature scores are the members' terms with each logarithm's added to its feature's.
        var rows = SkewedRows(TestData.Normal(10, seed: 2, width: Width).Concat(TestData.Outliers(10, seed: 3, width: Width)));
        var featureScores = model.Transform(TestData.ToDataView(ml, rows, Width)).GetColumn<float[]>("FeatureScores").ToArray();
        var member = model.Ensemble.First;
        var expanded = model.Ensemble.Logs.Expand(rows.SelectMany(r => r.Features).ToArray(), rows.Count);
        var terms = new float[rows.Count * member.InputWidth];
        member.Score(member.Kind, expanded, rows.Count, new float[rows.Count * member.LatentDimension], new float[rows.Count], terms);
        for (int r = 0; r < rows.Count; r++)
        {
            Assert.HasCount(Width, featureScores[r]);
            var own = terms.AsSpan(r * member.InputWidth, member.InputWidth);
            for (int j = 0; j < Width; j++)
            {
                float expected = own[j] + (j == 1 ? own[Width] : j == 4 ? own[Width + 1] : 0);
                Assert.AreEqual(expected, featureScores[r][j], 1e-4 * Math.Max(1, Math.Abs(expected)), $"row {r}, feature {j}");
            }
        }

        Assert.HasCount(Width, model.Reconstruct([rows[0].Features])[0]);
        Assert.HasCount(Width, model.Generate(3, seed: 1)[2]);
        Assert.HasCount(Width, model.Interpolate(rows[0].Features, rows[1].Features, 4)[3]);
    }

    [TestMethod]
    public void AppendedLogarithms_ScoreAlike_InTransform_PredictionEngine_OnnxRuntime_AndAfterSaving()
    {
        var ml = new MLContext(seed: 1);
        var train = SkewedRows(TestData.Normal(400, seed: 1, width: Width));
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(Options()).Fit(TestData.ToDataView(ml, train, Width));
        var rows = SkewedRows(TestData.Normal(12, seed: 2, width: Width).Concat(TestData.Outliers(12, seed: 3, width: Width)));
        var view = TestData.ToDataView(ml, rows, Width);
        var scores = model.Transform(view).GetColumn<float>("Score").ToArray();
        var featureScores = model.Transform(view).GetColumn<float[]>("FeatureScores").ToArray();

        var engine = ml.Model.CreatePredictionEngine<FeatureRow, ScoredRow>(model, inputSchemaDefinition: ScoringTests.VectorSchema(Width));
        var (onnx, _) = ScoringAgreementTests.RunOnnxOutputs(ml, model, rows, Width);
        var onnxScores = onnx["Score.output"];
        var onnxFeatureScores = onnx["FeatureScores.output"];

        using var saved = new MemoryStream();
        model.Save(saved);
        byte[] bytes = saved.ToArray();
        Assert.AreEqual(5, BitConverter.ToInt32(bytes, 8), "a model with appended logarithms is written in format version 5");
        using var loaded = VaeTransformer.Load(ml, new MemoryStream(bytes));
        var loadedScores = loaded.Transform(view).GetColumn<float>("Score").ToArray();

        var (center, scale) = model.Ensemble.Scales.Single();
        for (int r = 0; r < rows.Count; r++)
        {
            double bound = ScoringAgreementTests.Tolerance * Math.Max(1, Math.Abs(scores[r] * (double)scale + center)) / scale;
            Assert.AreEqual(scores[r], engine.Predict(rows[r]).Score, bound, $"PredictionEngine, row {r}");
            Assert.AreEqual(scores[r], onnxScores[r], bound, $"ONNX Runtime, row {r}");
            Assert.AreEqual(scores[r], loadedScores[r], $"loaded, row {r}");
            for (int j = 0; j < Width; j++)
                Assert.AreEqual(featureScores[r][j], onnxFeatureScores[r * Width + j], ScoringAgreementTests.Tolerance * Math.Max(1, Math.Abs(featureScores[r][j])),
                    $"ONNX feature score {j}, row {r}");
        }
        CollectionAssert.AreEqual(Skewed, loaded.Ensemble.Logs!.Features);
    }

    [TestMethod]
    public void Load_LogFeaturesOutsideTheRows_OrInAnOlderVersion_Throws()
    {
        var ml = new MLContext(seed: 1);
        var train = SkewedRows(TestData.Normal(200, seed: 1, width: Width));
        var options = Options(epochs: 2);
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(TestData.ToDataView(ml, train, Width));
        using var saved = new MemoryStream();
        model.Save(saved);

        byte[] outside = saved.ToArray();
        int at = Encoding.UTF8.GetString(outside).IndexOf("\"LogFeatures\":[1,4]", StringComparison.Ordinal);
        Assert.IsGreaterThan(0, at);
        outside[at + "\"LogFeatures\":[1,".Length] = (byte)'9';
        var error = Assert.Throws<InvalidDataException>(() => VaeTransformer.Load(ml, new MemoryStream(Rehash(outside))));
        StringAssert.Contains(error.Message, "LogFeatures");

        byte[] older = saved.ToArray();
        BitConverter.GetBytes(4).CopyTo(older, 8);
        error = Assert.Throws<InvalidDataException>(() => VaeTransformer.Load(ml, new MemoryStream(Rehash(older))));
        StringAssert.Contains(error.Message, "LogFeatures is not allowed in format version 4");
    }

    [TestMethod]
    public void Fit_Streamed_ChoosesTheSameFeatures_AsInMemory()
    {
        var ml = new MLContext(seed: 1);
        var view = TestData.ToDataView(ml, SkewedRows(TestData.Normal(300, seed: 1, width: Width)), Width);
        var options = Options(epochs: 2);
        options.MaximumInMemoryBytes = 0;
        using var streamed = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(view);
        CollectionAssert.AreEqual(Skewed, streamed.Ensemble.Logs!.Features);
        Assert.IsTrue(streamed.Transform(view).GetColumn<float>("Score").All(float.IsFinite));
    }

    [TestMethod]
    public void Off_OrPixels_TrainOnTheRowsAsTheyAre()
    {
        var ml = new MLContext(seed: 1);
        var view = TestData.ToDataView(ml, SkewedRows(TestData.Normal(200, seed: 1, width: Width)), Width);
        var options = Options(epochs: 2);
        options.AppendLogOfSkewedFeatures = false;
        using var off = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(view);
        Assert.IsNull(off.Ensemble.Logs);
        Assert.IsEmpty(off.SkewedFeatures);
        Assert.AreEqual(Width, off.Ensemble.First.InputWidth);

        Assert.Throws<ArgumentOutOfRangeException>(() => new VaeEstimator(ml, new VaeOptions { Likelihood = VaeLikelihood.Bernoulli, AppendLogOfSkewedFeatures = true }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new VaeEstimator(ml, new VaeOptions { Architecture = VaeArchitecture.Convolutional, AppendLogOfSkewedFeatures = true }));
        Assert.IsFalse(new VaeOptions { Likelihood = VaeLikelihood.Bernoulli }.Resolve(inputWidth: 10, rowCount: 100).Settings.AppendLogOfSkewedFeatures);
        Assert.IsTrue(new VaeOptions().Resolve(inputWidth: 10, rowCount: 100).Settings.AppendLogOfSkewedFeatures);
        Assert.IsFalse(new VaeOptions().Resolve(inputWidth: 10, rowCount: 100, imageRows: true).Settings.AppendLogOfSkewedFeatures);
    }

    /// <summary>Recomputes the trailing SHA-256 so that a deliberately edited body passes the checksum.</summary>
    private static byte[] Rehash(byte[] bytes)
    {
        var body = bytes[..^32];
        return [.. body, .. System.Security.Cryptography.SHA256.HashData(body)];
    }
}
