#pragma warning disable CS0618 // The retired score kinds are tested: they still score the models saved with them.
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Tests;

/// <summary>Ensembles (VaeOptions.NumberOfModels): how their scores combine, what they report, and that they persist as one model.</summary>
[TestClass]
public sealed class EnsembleTests
{
    private static VaeOptions EnsembleOptions(int models = 3, VaeScoreKind? kind = null)
    {
        var options = TestData.FastOptions(epochs: 20);
        options.NumberOfModels = models;
        options.ScoreKind = kind;
        return options;
    }

    private static List<FeatureRow> Contaminated() =>
        TestData.Normal(300, seed: 1).Concat(TestData.Outliers(15, seed: 2)).ToList();

    [TestMethod]
    [DataRow(VaeScoreKind.ReconstructionAndLatent)]
    [DataRow(VaeScoreKind.NegativeElbo)]
    public void Fit_WithThreeModels_ScoresTheMeanOfTheMembersStandardizedScores(VaeScoreKind kind)
    {
        var ml = new MLContext(seed: 1);
        var rows = Contaminated();
        var data = TestData.ToDataView(ml, rows);
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(EnsembleOptions(kind: kind)).Fit(data);

        Assert.AreEqual(3, model.NumberOfModels);
        var members = model.Training.Members;
        Assert.HasCount(3, members);
        CollectionAssert.AreEqual(new long[] { 7, 8, 9 }, members.Select(m => m.Seed).ToArray(), "member k is trained with Seed + k");
        Assert.AreSame(members[0].History, model.Training.History, "the summary's history is the first member's");

        var flat = rows.SelectMany(r => r.Features).ToArray();
        var memberScores = model.Ensemble.Members.Select(m => m.ScoreRows(flat, rows.Count).Scores).ToArray();
        Assert.AreNotEqual(memberScores[0][0], memberScores[1][0], "the members differ (their seeds do)");
        var scores = TestData.Scores(model.Transform(data));
        for (int r = 0; r < rows.Count; r++)
        {
            double expected = Enumerable.Range(0, 3).Average(k => (memberScores[k][r] - members[k].ScoreCenter) / members[k].ScoreScale);
            Assert.AreEqual(expected, scores[r], 1e-4 * Math.Max(1, Math.Abs(expected)), $"row {r}: S = (1/K) Σₖ (sₖ − cₖ) / σₖ");
        }
        for (int k = 0; k < 3; k++)
        {
            // cₖ is the median of member k's training scores: half of them lie on each side.
            int below = memberScores[k].Count(s => s < members[k].ScoreCenter);
            Assert.AreEqual(rows.Count / 2.0, below, 2, $"member {k}'s centre is the median of its training scores");
        }

        double flagged = model.Transform(data).GetColumn<bool>("PredictedLabel").Count(l => l) / (double)rows.Count;
        Assert.AreEqual(0.05, flagged, 0.01, "the threshold is the contamination quantile of the combined training scores");
        Assert.IsGreaterThan(0.9, ml.AnomalyDetection.Evaluate(model.Transform(data)).AreaUnderRocCurve);

        var firstLatent = new float[rows.Count * model.LatentDimension];
        var firstScores = new float[rows.Count];
        model.Ensemble.First.Score(flat, rows.Count, firstLatent, firstScores);
        CollectionAssert.AreEqual(firstLatent, model.Transform(data).GetColumn<float[]>("LatentFeatures").SelectMany(v => v).ToArray(),
            "the latent column is the first member's");
    }

    [TestMethod]
    public void Ensemble_OneRowThroughPredictionEngine_EqualsTheBatchedScore()
    {
        var ml = new MLContext(seed: 1);
        var rows = Contaminated();
        var data = TestData.ToDataView(ml, rows);
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(EnsembleOptions()).Fit(data);
        var batched = TestData.Scores(model.Transform(data));
        var engine = ml.Model.CreatePredictionEngine<FeatureRow, ScoredRow>(model, inputSchemaDefinition: Schema());
        foreach (int r in new[] { 0, 17, 299, 300, 314 })
        {
            var one = engine.Predict(rows[r]);
            Assert.AreEqual(batched[r], one.Score, 1e-4 * Math.Max(1, Math.Abs(batched[r])), $"row {r}");
            Assert.AreEqual(one.Score > model.Threshold, one.PredictedLabel);
        }
        var bad = new FeatureRow { Features = (float[])rows[0].Features.Clone() };
        bad.Features[3] = float.NaN;
        var judged = engine.Predict(bad);
        Assert.AreEqual(float.PositiveInfinity, judged.Score, "a row the ensemble cannot judge scores +∞");
        Assert.IsTrue(judged.PredictedLabel);
    }

    [TestMethod]
    public void Ensemble_FeatureScores_AreTheMeanOfTheMembersTerms()
    {
        var ml = new MLContext(seed: 1);
        var options = EnsembleOptions(models: 2);
        options.FeatureScoresColumnName = "FeatureScores";
        var rows = Contaminated();
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(TestData.ToDataView(ml, rows));
        var sample = rows.Take(5).Concat(rows.TakeLast(5)).Select(r => r.Features).ToList();
        var flat = sample.SelectMany(r => r).ToArray();
        var memberTerms = model.Ensemble.Members.Select(m =>
        {
            var terms = new float[flat.Length];
            m.Score(m.Kind, flat, sample.Count, new float[sample.Count * m.LatentDimension], new float[sample.Count], terms);
            return terms;
        }).ToArray();
        var featureScores = model.FeatureScores(sample);
        for (int r = 0; r < sample.Count; r++)
            for (int i = 0; i < TestData.Width; i++)
            {
                float expected = (memberTerms[0][r * TestData.Width + i] + memberTerms[1][r * TestData.Width + i]) / 2;
                Assert.AreEqual(expected, featureScores[r][i], 1e-5 * Math.Max(1, Math.Abs(expected)), $"row {r}, feature {i}");
            }
    }

    [TestMethod]
    public void Ensemble_RoundTripsAsOneModel_ThroughItsFileAndMLNetsZip()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.ToDataView(ml, Contaminated());
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(EnsembleOptions()).Fit(data);
        using var file = new MemoryStream();
        model.Save(file);
        Assert.AreEqual(4, BitConverter.ToInt32(file.GetBuffer(), 8), "an ensemble is written in format version 4");

        file.Position = 0;
        using var loaded = VaeTransformer.Load(ml, file);
        Assert.AreEqual(3, loaded.NumberOfModels);
        Assert.AreEqual(model.Threshold, loaded.Threshold);
        CollectionAssert.AreEqual(TestData.Scores(model.Transform(data)), TestData.Scores(loaded.Transform(data)), "bit-identical scores after loading");
        CollectionAssert.AreEqual(model.Training.Members.Select(m => m.ScoreScale).ToArray(), loaded.Training.Members.Select(m => m.ScoreScale).ToArray());
        Assert.HasCount(model.Training.Members[2].History.Count, loaded.Training.Members[2].History);

        string path = Path.Combine(Path.GetTempPath(), $"vae-ensemble-{Guid.NewGuid():N}.zip");
        try
        {
            ml.Model.Save(model, data.Schema, path);
            var pipeline = ml.Model.Load(path, out _);
            using var reloaded = (VaeTransformer)pipeline;
            CollectionAssert.AreEqual(TestData.Scores(model.Transform(data)), TestData.Scores(reloaded.Transform(data)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(3)]
    public void OneModelOrSeveral_ScoreOnOneScale_WhereTheTrainingRowsSitAtZeroWithSpreadOne(int models)
    {
        // Before: one model scored in its kind's raw units (a sum of squared errors, nats), an ensemble in robust z-scores.
        var ml = new MLContext(seed: 1);
        var data = TestData.ToDataView(ml, Contaminated());
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(EnsembleOptions(models)).Fit(data);

        var scores = TestData.Scores(model.Transform(data)).Select(s => (double)s).Order().ToArray();
        double Quantile(double q) { double at = q * (scores.Length - 1); int below = (int)at; return scores[below] + (at - below) * (scores[Math.Min(below + 1, scores.Length - 1)] - scores[below]); }
        double spread = (Quantile(0.75) - Quantile(0.25)) / 1.349;
        // One model: exactly, up to rounding. Several: each member is centred, their mean nearly so.
        Assert.AreEqual(0, Quantile(0.5), models == 1 ? 1e-5 : 0.3, "the median training row");
        Assert.AreEqual(1, spread, models == 1 ? 1e-4 : 0.4, "the robust spread of the training rows");

        using var file = new MemoryStream();
        model.Save(file);
        Assert.AreEqual(4, BitConverter.ToInt32(file.GetBuffer(), 8), "a scaled model is written in format version 4, which earlier releases refuse");
        file.Position = 0;
        using var loaded = VaeTransformer.Load(ml, file);
        CollectionAssert.AreEqual(TestData.Scores(model.Transform(data)), TestData.Scores(loaded.Transform(data)), "the scale travels with the file");
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(33)]
    public void NumberOfModels_OutsideOneTo32_IsRefusedByName(int models)
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            new MLContext().AnomalyDetection.Trainers.VariationalAutoencoder(EnsembleOptions(models)));
        Assert.AreEqual(nameof(VaeOptions.NumberOfModels), error.ParamName);
    }

    private static SchemaDefinition Schema()
    {
        var schema = SchemaDefinition.Create(typeof(FeatureRow));
        schema[nameof(FeatureRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, TestData.Width);
        return schema;
    }

    private sealed class ScoredRow
    {
        public float Score { get; set; }
        public bool PredictedLabel { get; set; }
    }
}
