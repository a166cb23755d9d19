using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Tests;

/// <summary>The usage example of README.md, run as written (with small synthetic data), so the README stays true.</summary>
[TestClass]
public sealed class ReadmeExampleTests
{
    [TestMethod]
    public void ReadmeUsage_RunsAsWritten()
    {
        string folder = Directory.CreateTempSubdirectory("vae-readme-").FullName;
        try
        {
            var ml = new MLContext(seed: 1);
            IDataView train = TestData.ToDataView(ml, TestData.Normal(300, seed: 60));
            IDataView test = TestData.ToDataView(ml, TestData.Normal(100, seed: 61).Concat(TestData.Outliers(10, seed: 62)));
            var rows = TestData.Normal(3, seed: 63).Select(r => r.Features).ToList();

            var pipeline = ml.Transforms.NormalizeMinMax("Features")
                .Append(ml.AnomalyDetection.Trainers.VariationalAutoencoder(new VaeOptions
                {
                    LatentDimension = 8,
                    Likelihood = VaeLikelihood.Gaussian,
                    NumberOfEpochs = 50,
                    Contamination = 0.05,
                }));
            var model = pipeline.Fit(train);

            IDataView scored = model.Transform(test);
            var metrics = ml.AnomalyDetection.Evaluate(scored);

            using VaeTransformer vae = model.LastTransformer;
            float[][] generated = vae.Generate(count: 5, seed: 1);
            float[][] reconstructed = vae.Reconstruct(rows);
            string path = Path.Combine(folder, "vae.model");
            vae.Save(path);
            using var loaded = VaeTransformer.Load(ml, path);
            var report = vae.WriteTrainingReport(Path.Combine(folder, "vae-report"), train);
            Assert.IsTrue(File.Exists(report.HtmlPath));
            string pipelinePath = Path.Combine(folder, "pipeline.zip");
            ml.Model.Save(model, train.Schema, pipelinePath);
            ITransformer served = ml.Model.Load(pipelinePath, out DataViewSchema inputSchema);
            CollectionAssert.AreEqual(TestData.Scores(scored), TestData.Scores(served.Transform(test)));
            Assert.AreEqual(train.Schema.Count, inputSchema.Count);
            foreach (var disposable in ((IEnumerable<ITransformer>)served).OfType<IDisposable>()) disposable.Dispose();

            Assert.IsGreaterThan(0.9, metrics.AreaUnderRocCurve);
            Assert.AreEqual(vae.Threshold, loaded.Threshold);
            Assert.HasCount(50, vae.Training.History);
            Assert.HasCount(5, generated);
            Assert.HasCount(3, reconstructed);
            var flat = ml.Transforms.VariationalAutoencoder("Features", latentDimension: 8);
            Assert.AreEqual(8, flat.Options.LatentDimension);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
