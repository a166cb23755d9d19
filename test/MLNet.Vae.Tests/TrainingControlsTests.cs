using Microsoft.ML;
using MLNet.Vae.Network;
using static TorchSharp.torch;

namespace MLNet.Vae.Tests;

/// <summary>The training controls and the history fields that show their effect.</summary>
[TestClass]
public sealed class TrainingControlsTests
{
    private static readonly MLContext Ml = new(seed: 1);
    private static readonly IDataView Manifold = TestData.ToDataView(Ml, TestData.Normal(400, seed: 1));

    private static VaeTransformer Fit(Action<VaeOptions> edit, int epochs = 20)
    {
        var options = TestData.FastOptions(epochs: epochs);
        edit(options);
        return new VaeEstimator(Ml, options).Fit(Manifold);
    }

    /// <summary>Reports synchronously, unlike Progress&lt;T&gt;, so the test sees every report before Fit returns.</summary>
    private sealed class Recorder : IProgress<VaeEpochRecord>
    {
        public List<VaeEpochRecord> Reports { get; } = [];
        public void Report(VaeEpochRecord value) => Reports.Add(value);
    }

    [TestMethod]
    public void History_HasConsistentFields()
    {
        using var model = Fit(_ => { });
        foreach (var e in model.Training.History)
        {
            Assert.HasCount(3, e.KlPerDimension);
            Assert.AreEqual(e.Kl, e.KlPerDimension.Sum(), 1e-4 * Math.Max(1, e.Kl), $"epoch {e.Epoch}: the KL is the sum over dimensions");
            Assert.AreEqual(e.Reconstruction + e.Beta * e.Kl, e.Loss, 1e-4 * e.Loss);
            Assert.IsTrue(e.ActiveUnits is >= 0 and <= 3);
            Assert.IsGreaterThan(0.0, e.GradientNorm);
            Assert.AreEqual(3e-3, e.LearningRate);
            Assert.AreEqual(1.0, e.Beta);
            Assert.IsNull(e.ValidationLoss);
        }
        Assert.AreEqual(20, model.Training.BestEpoch);
    }

    [TestMethod]
    public void Progress_ReceivesEveryEpochInOrder()
    {
        var recorder = new Recorder();
        using var model = Fit(o => o.Progress = recorder, epochs: 4);

        CollectionAssert.AreEqual(new[] { 1, 2, 3, 4 }, recorder.Reports.Select(r => r.Epoch).ToArray());
        Assert.AreSame(model.Training.History[3], recorder.Reports[3]);
    }

    [TestMethod]
    public void FittedModel_KeepsNoCancellationOrProgressReceiver()
    {
        // They watch one Fit: a model that held them would keep the caller's UI objects alive as long as itself.
        using var cancellation = new CancellationTokenSource();
        var epochs = new Recorder();
        var progress = new ProgressRecorder();
        using var model = Fit(o => { o.Progress = epochs; o.TrainingProgress = progress; o.CancellationToken = cancellation.Token; }, epochs: 2);

        Assert.HasCount(2, epochs.Reports, "the receivers heard the Fit");
        Assert.IsNotEmpty(progress.Reports);
        var options = model.Options;
        Assert.IsNull(options.Progress);
        Assert.IsNull(options.TrainingProgress);
        Assert.IsFalse(options.CancellationToken.CanBeCanceled);
    }

    private sealed class ProgressRecorder : IProgress<VaeTrainingProgress>
    {
        public List<VaeTrainingProgress> Reports { get; } = [];
        public void Report(VaeTrainingProgress value) => Reports.Add(value);
    }

    [TestMethod]
    public void TrainingProgress_ReportsEachEpochsEndWithItsRateAndTimeLeft_AndTheLogHearsIt()
    {
        var ml = new MLContext(seed: 1);
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var options = TestData.FastOptions(epochs: 4);
        var progress = new ProgressRecorder();
        options.TrainingProgress = progress;
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(TestData.ToDataView(ml, TestData.Normal(200, seed: 1)));

        var ends = progress.Reports.Where(p => p.RowsDone == p.RowsPerEpoch).ToList();
        CollectionAssert.AreEqual(new[] { 1, 2, 3, 4 }, ends.Select(p => p.Epoch).ToArray(), "every epoch reports its end, in order");
        Assert.IsTrue(progress.Reports.All(p => p.NumberOfEpochs == 4 && p.RowsPerEpoch == 200 && p.RowsPerSecond > 0), "epochs, rows and a positive rate");
        Assert.AreEqual(TimeSpan.Zero, ends[^1].EstimatedTimeLeft, "nothing left after the last epoch");
        Assert.IsGreaterThan(ends[^1].EstimatedTimeLeft, ends[0].EstimatedTimeLeft, "three epochs left after the first");
        Assert.AreEqual(4, messages.Count(m => m.Contains("Training: epoch ") && m.Contains("rows/s")), "the log hears each epoch's end");
    }

    [TestMethod]
    public void TrainingProgress_OfAnEnsemble_CountsTheModelsAndTheirTimeLeft()
    {
        var ml = new MLContext(seed: 1);
        var options = TestData.FastOptions(epochs: 2);
        options.NumberOfModels = 3;
        var progress = new ProgressRecorder();
        options.TrainingProgress = progress;
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(TestData.ToDataView(ml, TestData.Normal(200, seed: 1)));

        var ends = progress.Reports.Where(p => p.RowsDone == p.RowsPerEpoch).ToList();
        CollectionAssert.AreEqual(new[] { 1, 1, 2, 2, 3, 3 }, ends.Select(p => p.Model).ToArray(), "each model reports its epochs, in order");
        Assert.IsTrue(progress.Reports.All(p => p.NumberOfModels == 3));
        var fractions = progress.Reports.Select(p => p.FractionDone).ToArray();
        Assert.IsTrue(fractions.Zip(fractions.Skip(1)).All(f => f.Second >= f.First), "the fraction done never goes back");
        Assert.AreEqual(1.0 / 3, ends[1].FractionDone, 1e-9, "a third done after the first model");
        Assert.AreEqual(1.0, ends[^1].FractionDone, 1e-9);
        // After the first model two models' time is left, after the second one, each at the rate just measured (the rates of
        // so short a fit vary too much between models to compare the two estimates with each other).
        double ModelSeconds(VaeTrainingProgress p) => p.RowsPerEpoch * (double)p.NumberOfEpochs / p.RowsPerSecond;
        Assert.AreEqual(2 * ModelSeconds(ends[1]), ends[1].EstimatedTimeLeft.TotalSeconds, 1e-3 + 1e-6 * ModelSeconds(ends[1]), "two models left after the first");
        Assert.AreEqual(ModelSeconds(ends[3]), ends[3].EstimatedTimeLeft.TotalSeconds, 1e-3 + 1e-6 * ModelSeconds(ends[3]), "one model left after the second");
        Assert.AreEqual(TimeSpan.Zero, ends[^1].EstimatedTimeLeft);
        StringAssert.StartsWith(ends[2].ToString(), "model 2/3, epoch 1/2, ");
    }

    [TestMethod]
    public void KlWarmup_RaisesBetaFromZeroToItsTargetOverTheWarmupEpochs()
    {
        using var model = Fit(o => { o.KlWarmupEpochs = 5; o.Beta = 2; }, epochs: 8);
        var betas = model.Training.History.Select(e => e.Beta).ToArray();

        Assert.IsLessThan(2.0 / 5 + 1e-9, betas[0], "after the first epoch β is at most a fifth of its target");
        for (int i = 1; i < 5; i++) Assert.IsGreaterThan(betas[i - 1], betas[i], $"β rises in epoch {i + 1}");
        foreach (double beta in betas.Skip(5)) Assert.AreEqual(2.0, beta);
    }

    [TestMethod]
    public void FreeBits_KeepLatentDimensionsActiveWhereLargeBetaCollapsesThem()
    {
        using var collapsed = Fit(o => o.Beta = 50);
        using var freeBits = Fit(o => { o.Beta = 50; o.FreeBits = 0.5; });

        Assert.AreEqual(0, collapsed.Training.History[^1].ActiveUnits);
        Assert.AreEqual(3, freeBits.Training.History[^1].ActiveUnits);
        Assert.IsGreaterThan(10 * collapsed.Training.History[^1].Kl, freeBits.Training.History[^1].Kl);
    }

    [TestMethod]
    public void LogVarianceLimit_ClampsTheEncoderOutput()
    {
        using var network = new VaeNetworkSpec(VaeArchitecture.Mlp, 4, 2, [8], null, [], LogVarianceLimit: 0.5).Build();
        using var scope = NewDisposeScope();
        var (_, logVariance) = network.Encode(full(5, 4, 1e6f));

        Assert.IsLessThanOrEqualTo(0.5f, logVariance.abs().max().item<float>());
    }

    [TestMethod]
    public void GradientNormClip_IsAppliedToEveryStep_AndTheHistoryShowsThePreClipNorm()
    {
        // Adam divides each step by the gradient's running scale, so a uniform rescale changes little; clipping far below
        // Adam's epsilon (1e-8) is what makes the clip visible: the steps all but vanish.
        using var free = Fit(_ => { }, epochs: 3);
        using var clipped = Fit(o => o.GradientNormClip = 1e-10, epochs: 3);

        double freeDrop = free.Training.History[0].Loss - free.Training.History[^1].Loss;
        double clippedDrop = clipped.Training.History[0].Loss - clipped.Training.History[^1].Loss;
        Assert.IsLessThan(0.1 * freeDrop, Math.Abs(clippedDrop), $"clipped loss fell by {clippedDrop:G3}, unclipped by {freeDrop:G3}");
        Assert.IsGreaterThan(1e-4, clipped.Training.History[^1].GradientNorm, "the recorded norm is measured before clipping");
    }

    [TestMethod]
    public void ValidationSplit_AddsValidationLossTermsToEveryEpoch()
    {
        using var model = Fit(o => o.ValidationFraction = 0.2, epochs: 5);
        foreach (var e in model.Training.History)
        {
            Assert.IsNotNull(e.ValidationLoss);
            Assert.AreEqual(e.ValidationReconstruction!.Value + 1.0 * e.ValidationKl!.Value, e.ValidationLoss.Value, 1e-9);
        }
        Assert.IsLessThan(model.Training.History[0].ValidationLoss!.Value, model.Training.History[^1].ValidationLoss!.Value);
    }

    [TestMethod]
    public void EarlyStopping_StopsAfterPatience_AndKeepsTheBestEpochsWeights()
    {
        // A small, noisy training set overfits: the validation loss turns up and training stops.
        var small = TestData.ToDataView(Ml, TestData.Normal(60, seed: 9));
        VaeOptions Options(int epochs, int? patience)
        {
            var o = TestData.FastOptions(epochs: epochs);
            o.HiddenLayerSizes = [16, 16];
            o.LearningRate = 1e-2;
            o.BatchSize = 8;
            o.ValidationFraction = 0.3;
            o.EarlyStoppingPatience = patience;
            return o;
        }
        using var stopped = new VaeEstimator(Ml, Options(300, patience: 5)).Fit(small);
        var history = stopped.Training.History;
        int best = stopped.Training.BestEpoch;

        Assert.IsLessThan(300, history.Count, "training stopped early");
        Assert.HasCount(best + 5, history, "it stopped patience epochs after the best one");
        Assert.AreEqual(history.MinBy(e => e.ValidationLoss)!.Epoch, best);
        // The same run cut at the best epoch, without early stopping, holds the same weights: identical scores.
        using var cut = new VaeEstimator(Ml, Options(best, patience: null)).Fit(small);
        CollectionAssert.AreEqual(TestData.Scores(cut.Transform(small)), TestData.Scores(stopped.Transform(small)));
    }

    [TestMethod]
    public void WeightDecay_ShrinksTheWeights()
    {
        static double SquaredWeights(VaeTransformer model)
        {
            using var scope = NewDisposeScope();
            return model.Model.Network.parameters().Sum(p => p.square().sum().item<float>());
        }
        using var plain = Fit(_ => { }, epochs: 10);
        using var decayed = Fit(o => o.WeightDecay = 0.5, epochs: 10);

        Assert.IsLessThan(0.8 * SquaredWeights(plain), SquaredWeights(decayed));
    }

    [TestMethod]
    public void CosineSchedule_AnnealsTheLearningRateToAHundredth()
    {
        using var model = Fit(o => o.LearningRateSchedule = VaeLearningRateSchedule.Cosine, epochs: 10);
        var rates = model.Training.History.Select(e => e.LearningRate).ToArray();

        Assert.AreEqual(3e-3, rates[0], 1e-12);
        for (int i = 1; i < rates.Length; i++) Assert.IsLessThan(rates[i - 1], rates[i]);
        double floor = 3e-5;
        Assert.AreEqual(floor + (3e-3 - floor) * (1 + Math.Cos(Math.PI * 9 / 10)) / 2, rates[^1], 1e-12);
    }
}
