using Microsoft.ML;

namespace MLNet.Vae.Tests;

[TestClass]
public sealed class OptionsTests
{
    [TestMethod]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new VaeOptions();
        Assert.AreEqual("Features", options.FeatureColumnName);
        Assert.AreEqual("LatentFeatures", options.LatentColumnName);
        Assert.AreEqual("Score", options.ScoreColumnName);
        Assert.AreEqual("PredictedLabel", options.PredictedLabelColumnName);
        Assert.IsNull(options.LatentDimension, "automatic");
        Assert.IsNull(options.HiddenLayerSizes);
        Assert.AreEqual(VaeLikelihood.Gaussian, options.Likelihood);
        Assert.AreEqual(1.0, options.Beta);
        Assert.IsNull(options.NumberOfEpochs, "automatic");
        Assert.IsNull(options.BatchSize, "automatic");
        Assert.AreEqual(1e-3, options.LearningRate);
        Assert.IsNull(options.Seed);
        Assert.AreEqual(0.1, options.Contamination);
        Assert.IsNull(options.ScoreKind, "automatic");
        Assert.AreEqual(VaeOutOfDomainInput.ScoreAsAnomaly, options.OutOfDomainInput);
        Assert.IsNull(options.NumberOfThreads);
        Assert.AreEqual(0.0, options.ValidationFraction);
        Assert.AreEqual(0, options.KlWarmupEpochs);
        Assert.AreEqual(0.0, options.FreeBits);
        Assert.AreEqual(20.0, options.LogVarianceLimit);
        Assert.IsNull(options.GradientNormClip);
        Assert.IsNull(options.EarlyStoppingPatience);
        Assert.AreEqual(0.0, options.WeightDecay);
        Assert.AreEqual(VaeLearningRateSchedule.Constant, options.LearningRateSchedule);
        Assert.IsNull(options.Progress);
    }

    [TestMethod]
    [DataRow(nameof(VaeOptions.LatentDimension), "LatentDimension must be positive or null (automatic), got 0.")]
    [DataRow(nameof(VaeOptions.HiddenLayerSizes), "HiddenLayerSizes must all be positive, got -4.")]
    [DataRow(nameof(VaeOptions.Beta), "Beta must be a finite number >= 0, got -1.")]
    [DataRow(nameof(VaeOptions.NumberOfEpochs), "NumberOfEpochs must be 1 to 10,000 or null (automatic), got 0.")]
    [DataRow(nameof(VaeOptions.BatchSize), "BatchSize must be positive or null (automatic), got 0.")]
    [DataRow(nameof(VaeOptions.LearningRate), "LearningRate must be a finite number > 0, got NaN.")]
    [DataRow(nameof(VaeOptions.Contamination), "Contamination must be in (0, 0.5], got 0.7.")]
    [DataRow(nameof(VaeOptions.NumberOfThreads), "NumberOfThreads must be positive or null, got 0.")]
    [DataRow(nameof(VaeOptions.FeatureColumnName), "FeatureColumnName must name a column.")]
    [DataRow(nameof(VaeOptions.Likelihood), "Likelihood 9 is not a VaeLikelihood value.")]
    [DataRow(nameof(VaeOptions.ScoreKind), "ScoreKind 9 is not a VaeScoreKind value.")]
    [DataRow(nameof(VaeOptions.ValidationFraction), "ValidationFraction must be in [0, 0.5), got 0.5.")]
    [DataRow(nameof(VaeOptions.KlWarmupEpochs), "KlWarmupEpochs must be >= 0, got -1.")]
    [DataRow(nameof(VaeOptions.FreeBits), "FreeBits must be a finite number >= 0, got -0.1.")]
    [DataRow(nameof(VaeOptions.LogVarianceLimit), "LogVarianceLimit must be in (0, 80] (exp(88) overflows a float), got 100.")]
    [DataRow(nameof(VaeOptions.GradientNormClip), "GradientNormClip must be a finite number > 0 or null, got 0.")]
    [DataRow(nameof(VaeOptions.EarlyStoppingPatience), "EarlyStoppingPatience needs a validation split: set ValidationFraction > 0 (e.g. 0.1).")]
    [DataRow(nameof(VaeOptions.WeightDecay), "WeightDecay must be a finite number >= 0, got -1.")]
    [DataRow(nameof(VaeOptions.LearningRateSchedule), "LearningRateSchedule 7 is not a VaeLearningRateSchedule value.")]
    public void Estimator_WithAnInvalidOption_ThrowsNamingIt(string option, string message)
    {
        var options = new VaeOptions();
        switch (option)
        {
            case nameof(VaeOptions.LatentDimension): options.LatentDimension = 0; break;
            case nameof(VaeOptions.HiddenLayerSizes): options.HiddenLayerSizes = [8, -4]; break;
            case nameof(VaeOptions.Beta): options.Beta = -1; break;
            case nameof(VaeOptions.NumberOfEpochs): options.NumberOfEpochs = 0; break;
            case nameof(VaeOptions.BatchSize): options.BatchSize = 0; break;
            case nameof(VaeOptions.LearningRate): options.LearningRate = double.NaN; break;
            case nameof(VaeOptions.Contamination): options.Contamination = 0.7; break;
            case nameof(VaeOptions.NumberOfThreads): options.NumberOfThreads = 0; break;
            case nameof(VaeOptions.FeatureColumnName): options.FeatureColumnName = " "; break;
            case nameof(VaeOptions.Likelihood): options.Likelihood = (VaeLikelihood)9; break;
            case nameof(VaeOptions.ScoreKind): options.ScoreKind = (VaeScoreKind)9; break;
            case nameof(VaeOptions.ValidationFraction): options.ValidationFraction = 0.5; break;
            case nameof(VaeOptions.KlWarmupEpochs): options.KlWarmupEpochs = -1; break;
            case nameof(VaeOptions.FreeBits): options.FreeBits = -0.1; break;
            case nameof(VaeOptions.LogVarianceLimit): options.LogVarianceLimit = 100; break;
            case nameof(VaeOptions.GradientNormClip): options.GradientNormClip = 0; break;
            case nameof(VaeOptions.EarlyStoppingPatience): options.EarlyStoppingPatience = 3; break;
            case nameof(VaeOptions.WeightDecay): options.WeightDecay = -1; break;
            case nameof(VaeOptions.LearningRateSchedule): options.LearningRateSchedule = (VaeLearningRateSchedule)7; break;
        }

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new VaeEstimator(new MLContext(), options));
        Assert.AreEqual(option, error.ParamName);
        StringAssert.StartsWith(error.Message, message);
    }

    [TestMethod]
    public void Estimator_WithClashingOutputNames_Throws()
    {
        var options = new VaeOptions { ScoreColumnName = "Out", PredictedLabelColumnName = "Out" };
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Transforms.VariationalAutoencoder(options));
        StringAssert.Contains(error.Message, "must have different names");
    }

    [TestMethod]
    public void Estimator_WithEmptyHiddenLayerList_ThrowsSuggestingNull()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new VaeEstimator(new MLContext(), new VaeOptions { HiddenLayerSizes = [] }));
        StringAssert.Contains(error.Message, "or be null for the automatic choice");
    }
}
