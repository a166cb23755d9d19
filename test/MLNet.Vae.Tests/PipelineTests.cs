using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Tests;

[TestClass]
public sealed class PipelineTests
{
    [TestMethod]
    public void NormalizeThenVaeThenKMeans_FitsTransformsEvaluatesAndPredicts()
    {
        var ml = new MLContext(seed: 1);
        var train = TestData.ToDataView(ml, TestData.Normal(600, seed: 30));
        var test = TestData.ToDataView(ml, TestData.Normal(300, seed: 31).Concat(TestData.Outliers(30, seed: 32)));
        var options = TestData.FastOptions(epochs: 40);
        // KMeans writes its own Score and PredictedLabel columns, so the VAE's get other names.
        options.ScoreColumnName = "AnomalyScore";
        options.PredictedLabelColumnName = "IsAnomaly";

        var pipeline = ml.Transforms.NormalizeMinMax("Features")
            .Append(ml.AnomalyDetection.Trainers.VariationalAutoencoder(options))
            .Append(ml.Clustering.Trainers.KMeans("LatentFeatures", numberOfClusters: 2));
        var model = pipeline.Fit(train);
        var scored = model.Transform(test);

        var metrics = ml.AnomalyDetection.Evaluate(scored, "Label", "AnomalyScore", "IsAnomaly");
        Assert.IsGreaterThan(0.95, metrics.AreaUnderRocCurve, $"AUC {metrics.AreaUnderRocCurve:F4}");

        var engine = ml.Model.CreatePredictionEngine<FeatureRow, ClusteredRow>(model, inputSchemaDefinition: ScoringTests.VectorSchema());
        var row = TestData.Outliers(1, seed: 33)[0];
        var prediction = engine.Predict(row);
        var batchScore = TestData.Scores(model.Transform(TestData.ToDataView(ml, [row])), "AnomalyScore")[0];
        Assert.AreEqual(batchScore, prediction.AnomalyScore, 1e-4f * Math.Max(1, Math.Abs(batchScore)));
        Assert.IsTrue(prediction.IsAnomaly, "an off-manifold row is above the threshold");
        Assert.IsTrue(prediction.PredictedLabel is 1 or 2, $"cluster id {prediction.PredictedLabel}");
        Assert.HasCount(2, prediction.Score);
        foreach (var disposable in model.OfType<IDisposable>()) disposable.Dispose();
    }

    [TestMethod]
    public void Catalogs_FlatArgumentsAndOptions_BuildTheSameEstimator()
    {
        var ml = new MLContext(seed: 1);
        var fromTransforms = ml.Transforms.VariationalAutoencoder("Pixels", latentDimension: 4, likelihood: VaeLikelihood.Bernoulli, numberOfEpochs: 3, contamination: 0.2, seed: 5);
        var fromAnomaly = ml.AnomalyDetection.Trainers.VariationalAutoencoder("Pixels", latentDimension: 4, likelihood: VaeLikelihood.Bernoulli, numberOfEpochs: 3, contamination: 0.2, seed: 5);

        foreach (var options in new[] { fromTransforms.Options, fromAnomaly.Options })
        {
            Assert.AreEqual("Pixels", options.FeatureColumnName);
            Assert.AreEqual(4, options.LatentDimension);
            Assert.AreEqual(VaeLikelihood.Bernoulli, options.Likelihood);
            Assert.AreEqual(3, options.NumberOfEpochs);
            Assert.AreEqual(0.2, options.Contamination);
            Assert.AreEqual(5, options.Seed);
        }
        var defaults = ml.Transforms.VariationalAutoencoder().Options;
        Assert.AreEqual(VaeOptions.Defaults.FeatureColumnName, defaults.FeatureColumnName);
        Assert.IsNull(defaults.ScoreKind, "automatic: chosen by likelihood at Fit");
        Assert.AreEqual(VaeOptions.Defaults.Likelihood, defaults.Likelihood);
        Assert.IsNull(defaults.Seed);
    }

    [TestMethod]
    public void EstimatorOutputSchema_AddsTheThreeColumns_AndChainsIntoPipelineChecks()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.ToDataView(ml, TestData.Normal(10, seed: 34));
        var shape = ml.Transforms.VariationalAutoencoder().GetOutputSchema(TestData.ShapeOf(data.Schema));

        var latent = shape.Single(c => c.Name == "LatentFeatures");
        Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, latent.Kind);
        Assert.AreEqual(NumberDataViewType.Single, latent.ItemType);
        Assert.AreEqual(NumberDataViewType.Single, shape.Single(c => c.Name == "Score").ItemType);
        Assert.AreEqual(BooleanDataViewType.Instance, shape.Single(c => c.Name == "PredictedLabel").ItemType);
        Assert.IsTrue(shape.Any(c => c.Name == "Id"), "input columns pass through");

        // A downstream estimator that needs the latent vector validates against this shape without fitting.
        var chained = ml.Transforms.VariationalAutoencoder().Append(ml.Transforms.Concatenate("Both", "LatentFeatures", "Features"));
        Assert.IsTrue(chained.GetOutputSchema(TestData.ShapeOf(data.Schema)).Any(c => c.Name == "Both"));
    }

    [TestMethod]
    public void Options_ChangedAfterTheEstimatorWasMade_DoNotReachIt()
    {
        var ml = new MLContext(seed: 1);
        var options = TestData.FastOptions(epochs: 2);
        var estimator = new VaeEstimator(ml, options);
        options.LatentDimension = 9;
        options.HiddenLayerSizes![0] = 7;

        using var model = estimator.Fit(TestData.ToDataView(ml, TestData.Normal(50, seed: 35)));
        Assert.AreEqual(3, model.LatentDimension);
        CollectionAssert.AreEqual(new[] { 16 }, model.HiddenLayerSizes.ToArray());
        Assert.AreEqual(2, model.Options.NumberOfEpochs);
    }

    [TestMethod]
    public void Fit_LogsEachEpochToTheMLContextLog()
    {
        var ml = new MLContext(seed: 1);
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };

        using var model = new VaeEstimator(ml, TestData.FastOptions(epochs: 3)).Fit(TestData.ToDataView(ml, TestData.Normal(50, seed: 36)));

        Assert.AreEqual(3, messages.Count(m => m.Contains("Epoch ") && m.Contains("reconstruction")));
        Assert.IsTrue(messages.Any(m => m.Contains("Threshold")));
    }

    public sealed class ClusteredRow
    {
        public float AnomalyScore { get; set; }
        public bool IsAnomaly { get; set; }
        /// <summary>KMeans' cluster id.</summary>
        public uint PredictedLabel { get; set; }
        /// <summary>KMeans' distances to the cluster centres.</summary>
        public float[] Score { get; set; } = [];
    }
}
