using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Vae.Onnx;

namespace MLNet.Vae.Tests;

/// <summary>
/// The ONNX export: whole pipelines through ML.NET's converter and the direct method, run by ONNX Runtime and by ML.NET's
/// ApplyOnnxModel, give Transform's columns within 1e-5 (relative, or absolute below 1); and what cannot be exported fails.
/// </summary>
[TestClass]
public sealed class OnnxExportTests
{
    private const double Tolerance = 1e-5;

    [TestMethod]
    public void Pipeline_NormalizerThenMlpVae_ExportsEveryColumn_AndApplyOnnxModelMatchesTransform()
    {
        var ml = new MLContext(seed: 1);
        // Trained long enough that the outliers score above the training rows' 95th percentile, not only above the normal rows.
        var options = TestData.FastOptions(epochs: 40);
        options.PValueColumnName = "PValue";
        options.FeatureScoresColumnName = "FeatureScores";
        var training = TestData.ToDataView(ml, TestData.Normal(200, seed: 1));
        var pipeline = ml.Transforms.NormalizeMinMax("Features")
            .Append(ml.AnomalyDetection.Trainers.VariationalAutoencoder(options));
        var model = pipeline.Fit(training);
        var rows = TestData.Normal(8, seed: 2).Concat(TestData.Outliers(8, seed: 3)).ToList();
        rows[3].Features[2] = float.NaN;
        var data = TestData.ToDataView(ml, rows);

        using var onnx = new MemoryStream();
        ml.Model.ConvertToOnnx(model, data, onnx);
        string path = Path.Combine(Path.GetTempPath(), $"vae-pipeline-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, onnx.ToArray());
        try
        {
            var expected = model.Transform(data);
            // ApplyOnnxModel names its columns after the graph's outputs (ML.NET strips ".output"), shadowing the input's.
            var applied = ml.Transforms.ApplyOnnxModel(path).Fit(data).Transform(data);
            foreach (var column in new[] { "LatentFeatures", "FeatureScores" })
                AssertVectorsClose(expected.GetColumn<float[]>(column).ToArray(), applied.GetColumn<float[]>(column).ToArray(), column);
            foreach (var column in new[] { "Score", "PValue" })
                AssertVectorsClose(expected.GetColumn<float>(column).Select(v => new[] { v }).ToArray(),
                    applied.GetColumn<float[]>(column).ToArray(), column);
            var labels = expected.GetColumn<bool>("PredictedLabel").ToArray();
            CollectionAssert.AreEqual(labels, applied.GetColumn<bool[]>("PredictedLabel").Select(v => v[0]).ToArray(), "PredictedLabel");
            Assert.AreEqual(float.PositiveInfinity, applied.GetColumn<float[]>("Score").ElementAt(3)[0], "a NaN row scores +Infinity in the graph too");
            Assert.IsGreaterThanOrEqualTo(4, labels.Skip(8).Count(l => l), "the outliers are found at all (the comparison is not between two constant columns)");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void ConvolutionalModel_UnderApplyOnnxModel_MatchesTransform()
    {
        var ml = new MLContext(seed: 1);
        var options = TestData.FastOptions(VaeLikelihood.Bernoulli, epochs: 5);
        options.Architecture = VaeArchitecture.Convolutional;
        options.ImageShape = new VaeImageShape(1, 4, 4);
        options.ConvolutionChannels = [4, 6];
        options.FeatureScoresColumnName = "FeatureScores";
        var data = TestData.ToDataView(ml, TestData.Normal(80, seed: 1, unitInterval: true).Concat(TestData.Outliers(8, seed: 2, unitInterval: true)));
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(data);
        string path = Path.Combine(Path.GetTempPath(), $"vae-conv-{Guid.NewGuid():N}.onnx");
        using (var file = File.Create(path)) ml.Model.ConvertToOnnx(model, data, file);
        try
        {
            var expected = model.Transform(data);
            var applied = ml.Transforms.ApplyOnnxModel(path).Fit(data).Transform(data);
            foreach (var column in new[] { "LatentFeatures", "FeatureScores" })
                AssertVectorsClose(expected.GetColumn<float[]>(column).ToArray(), applied.GetColumn<float[]>(column).ToArray(), column);
            AssertVectorsClose(expected.GetColumn<float>("Score").Select(v => new[] { v }).ToArray(), applied.GetColumn<float[]>("Score").ToArray(), "Score");
            CollectionAssert.AreEqual(expected.GetColumn<bool>("PredictedLabel").ToArray(), applied.GetColumn<bool[]>("PredictedLabel").Select(v => v[0]).ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    [DataRow(VaeArchitecture.Mlp, 1, VaeLikelihood.Bernoulli)]
    [DataRow(VaeArchitecture.Convolutional, 1, VaeLikelihood.Bernoulli)]   // the default WeightedReconstructionAndLatentNeighbours score
    [DataRow(VaeArchitecture.Convolutional, 3, VaeLikelihood.Bernoulli)]   // the same, each member with its own stored codes
    [DataRow(VaeArchitecture.Mlp, 3, VaeLikelihood.Bernoulli)]
    [DataRow(VaeArchitecture.Mlp, 3, VaeLikelihood.Gaussian)]   // the default ReconstructionAndLatentDensity score, each member with its own mixture
    public void DirectExport_RunByOnnxRuntime_MatchesTransform(VaeArchitecture architecture, int models, VaeLikelihood likelihood)
    {
        var ml = new MLContext(seed: 1);
        bool unit = likelihood == VaeLikelihood.Bernoulli;
        var options = TestData.FastOptions(likelihood, epochs: 5);
        options.Architecture = architecture;
        options.NumberOfModels = models;
        if (architecture == VaeArchitecture.Convolutional)
        {
            // 16 values as a 1×4×4 image: two stride-2 convolutions.
            options.ImageShape = new VaeImageShape(1, 4, 4);
            options.ConvolutionChannels = [4, 6];
        }
        var training = TestData.ToDataView(ml, TestData.Normal(120, seed: 1, unitInterval: unit));
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(training);
        var rows = TestData.Normal(5, seed: 2, unitInterval: unit).Concat(TestData.Outliers(5, seed: 3, unitInterval: unit)).ToList();
        rows[1].Features[0] = float.NaN;   // outside the domain: +Infinity
        if (unit) rows[2].Features[3] = 1.5f;   // clipped into [0, 1]: scored as the row with 1 there
        var data = TestData.ToDataView(ml, rows);

        string path = Path.Combine(Path.GetTempPath(), $"vae-direct-{Guid.NewGuid():N}.onnx");
        model.ExportToOnnx(ml, path);
        try
        {
            using var session = new InferenceSession(path);
            Assert.AreEqual("Features", session.InputMetadata.Keys.Single(), "the direct export has the feature column as its only input");
            var input = new DenseTensor<float>(rows.SelectMany(r => r.Features).ToArray(), [rows.Count, TestData.Width]);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("Features", input)]);
            var byName = results.ToDictionary(r => r.Name);
            var expected = model.Transform(data);
            var latent = byName["LatentFeatures.output"].AsTensor<float>();
            var scores = byName["Score.output"].AsTensor<float>();
            var labels = byName["PredictedLabel.output"].AsTensor<bool>();
            var expectedLatent = expected.GetColumn<float[]>("LatentFeatures").ToArray();
            var expectedScores = expected.GetColumn<float>("Score").ToArray();
            var expectedLabels = expected.GetColumn<bool>("PredictedLabel").ToArray();
            for (int r = 0; r < rows.Count; r++)
            {
                AssertClose(expectedScores[r], scores[r, 0], $"Score, row {r}");
                Assert.AreEqual(expectedLabels[r], labels[r, 0], $"PredictedLabel, row {r}");
                for (int j = 0; j < model.LatentDimension; j++) AssertClose(expectedLatent[r][j], latent[r, j], $"latent {j}, row {r}");
            }
            Assert.AreEqual(float.PositiveInfinity, scores[1, 0]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    public void DirectExport_OfAModelOnAnotherColumn_NamesItsInputAfterThatColumn()
    {
        var ml = new MLContext(seed: 1);
        var options = TestData.FastOptions(epochs: 1);
        options.FeatureColumnName = "Readings";
        var training = ml.Transforms.CopyColumns("Readings", "Features").Fit(TestData.ToDataView(ml, TestData.Normal(60, seed: 1)))
            .Transform(TestData.ToDataView(ml, TestData.Normal(60, seed: 1)));
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(training);
        using var stream = new MemoryStream();
        model.ExportToOnnx(ml, stream);
        using var session = new InferenceSession(stream.ToArray());
        Assert.AreEqual("Readings", session.InputMetadata.Keys.Single());
    }

    [TestMethod]
    public void Export_BelowTheOpsetItNeeds_FailsWithTheReason_AndWritesNothing()
    {
        var ml = new MLContext(seed: 1);
        var training = TestData.ToDataView(ml, TestData.Normal(60, seed: 1));
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(TestData.FastOptions(epochs: 1)).Fit(training);
        using var stream = new MemoryStream();
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Model.ConvertToOnnx(model, training, opSetVersion: 10, stream));
        StringAssert.Contains(error.Message, "VaeTransformer's minimum OpSet version requirement: 11");
        Assert.AreEqual(0, stream.Length, "no partial graph");
    }

    private static void AssertVectorsClose(float[][] expected, float[][] actual, string what)
    {
        Assert.HasCount(expected.Length, actual);
        for (int r = 0; r < expected.Length; r++)
        {
            Assert.HasCount(expected[r].Length, actual[r], $"{what}, row {r}");
            for (int i = 0; i < expected[r].Length; i++) AssertClose(expected[r][i], actual[r][i], $"{what}[{i}], row {r}");
        }
    }

    private static void AssertClose(float expected, float actual, string what)
    {
        if (float.IsPositiveInfinity(expected) || float.IsNaN(expected))
        {
            Assert.AreEqual(expected, actual, what);
            return;
        }
        Assert.IsLessThanOrEqualTo(Tolerance * Math.Max(1, Math.Abs(expected)), Math.Abs(expected - actual), $"{what}: Transform {expected}, ONNX {actual}");
    }
}
