using MLNet.Vae.Model;
using MLNet.Vae.Scoring;
using MLNet.Vae.Scoring.Kinds;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Tests;

/// <summary>
/// VaeScoreKind.WeightedReconstructionError: s(x) = Σᵢ tᵢ(x) / (σᵢ + ε) with σᵢ the training rows'
/// standard deviation of feature i's reconstruction term and ε = 0.3 × mean σ, recomputed here from the plain terms.
/// </summary>
[TestClass]
public sealed class WeightedScoreTests
{
    [TestMethod]
    public void WeightedScore_EqualsTheFormula_AndItsFeatureScoresSumToIt()
    {
        var ml = new MLContext(seed: 1);
        var trainRows = TestData.Normal(150, seed: 1, unitInterval: true);
        var options = TestData.FastOptions(VaeLikelihood.Bernoulli, epochs: 10);
        options.ScoreKind = VaeScoreKind.WeightedReconstructionError;
        options.FeatureScoresColumnName = "FeatureScores";
        using var transformer = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(TestData.ToDataView(ml, trainRows));
        var model = transformer.Model;
        int width = model.InputWidth;

        // σᵢ from the plain terms of the training rows, as the model's calibration should have found it.
        var flatTrain = trainRows.SelectMany(r => r.Features).ToArray();
        var trainTerms = new float[trainRows.Count * width];
        var plain = new ReconstructionErrorKind(model.KindContext);
        model.Score(plain, flatTrain, trainRows.Count, new float[trainRows.Count * model.LatentDimension], new float[trainRows.Count], trainTerms);
        var deviation = Enumerable.Range(0, width).Select(i =>
        {
            var column = Enumerable.Range(0, trainRows.Count).Select(r => (double)trainTerms[r * width + i]).ToArray();
            double mean = column.Average();
            return Math.Sqrt(column.Average(t => (t - mean) * (t - mean)));
        }).ToArray();
        double epsilon = 0.3 * deviation.Average();

        var testRows = TestData.Normal(5, seed: 2, unitInterval: true).Concat(TestData.Outliers(5, seed: 3, unitInterval: true)).ToList();
        var flatTest = testRows.SelectMany(r => r.Features).ToArray();
        var plainTerms = new float[testRows.Count * width];
        model.Score(plain, flatTest, testRows.Count, new float[testRows.Count * model.LatentDimension], new float[testRows.Count], plainTerms);
        var scored = transformer.Transform(TestData.ToDataView(ml, testRows));
        var scores = TestData.Scores(scored);
        var featureScores = scored.GetColumn<float[]>("FeatureScores").ToArray();
        // The score is W on the one score scale: (W − c) / σ, c and σ the median and robust spread of the training rows' W.
        var (center, scale) = transformer.Ensemble.Scales[0];
        for (int r = 0; r < testRows.Count; r++)
        {
            double expected = 0;
            for (int i = 0; i < width; i++)
            {
                double term = plainTerms[r * width + i] / (deviation[i] + epsilon);
                expected += term;
                Assert.AreEqual(term, featureScores[r][i], 1e-4 * Math.Max(1, Math.Abs(term)), $"row {r}, feature {i}");
            }
            Assert.AreEqual((expected - center) / scale, scores[r], 1e-4 * Math.Max(1, Math.Abs(expected)) / scale, $"row {r}");
            Assert.AreEqual(expected, featureScores[r].Sum(), 1e-4 * Math.Max(1, Math.Abs(expected)), $"row {r}: the feature scores sum to W"); 
        }

        // The weights travel with the model file.
        using var loaded = TestData.SavedAndLoaded(ml, transformer);
        CollectionAssert.AreEqual(scores, TestData.Scores(loaded.Transform(TestData.ToDataView(ml, testRows))), "the same scores after loading");
    }

    [TestMethod]
    public void Weights_OfALargeTable_ComeFromAnEvenSample_CloseToAllRows()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Normal(ScoreCalibrator.MaximumRows + 3000, seed: 4, unitInterval: true);
        var options = TestData.FastOptions(VaeLikelihood.Bernoulli, epochs: 1);
        options.ScoreKind = VaeScoreKind.WeightedReconstructionError;
        using var transformer = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(TestData.ToDataView(ml, rows));
        var model = transformer.Model;
        var fromSample = ((WeightedReconstructionErrorKind)model.Kind).Weights;

        var flat = rows.SelectMany(r => r.Features).ToArray();
        var spread = new FeatureTermSpread(model.InputWidth);
        spread.Add(model.CalibrationSample(flat, rows.Count).Terms, rows.Count);
        var fromAll = spread.Weights();
        for (int i = 0; i < fromAll.Length; i++)
            Assert.AreEqual(fromAll[i], fromSample[i], 0.05 * fromAll[i], $"feature {i}: the sample's weight is within 5% of all rows'");
    }
}
