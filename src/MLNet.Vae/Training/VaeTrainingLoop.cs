using MLNet.Vae.Tensors;
using System.Diagnostics;
using MLNet.Vae.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.Vae.Training;

/// <summary>What training produced besides the weights.</summary>
/// <param name="History">One record per epoch that ran.</param>
/// <param name="BestEpoch">The epoch whose weights the model holds (the last one, or the best one with early stopping).</param>
/// <param name="ReconstructionBaseline">
/// Reconstruction term per row of a model that ignores z and predicts each feature's training mean: ½ Σᵢ Var(x̃ᵢ)
/// (Gaussian) or Σᵢ BCE(xᵢ, mean(xᵢ)) (Bernoulli). A reconstruction near it means blurry, mean-like reconstructions.
/// </param>
internal sealed record TrainingOutcome(IReadOnlyList<VaeEpochRecord> History, int BestEpoch, double ReconstructionBaseline);

/// <summary>
/// Mini-batch training with Adam on the β-weighted negative ELBO (see <see cref="VaeOptions"/>), with the controls of
/// docs/debugging.md. Rows are shuffled each epoch and the reparameterization noise is drawn from a generator seeded by
/// the caller, so a seed fixes the result. Every step runs in its own dispose scope.
/// </summary>
internal static class VaeTrainingLoop
{
    /// <summary>A latent dimension is active when its encoder mean varies over the data more than this (Burda et al., 2016).</summary>
    public const double ActiveUnitVariance = 0.01;
    private static readonly Scalar ActiveUnitVarianceScalar = ActiveUnitVariance.ToScalar();
    /// <summary>Rows per forward pass when the loop and its rows evaluate without gradients.</summary>
    internal const int EvaluationBatchRows = 1024;

    /// <summary>How often <c>onProgress</c> hears from a running epoch.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(0.5);

    /// <summary>
    /// Trains <paramref name="model"/>'s network in place; <paramref name="checkCancelled"/> runs before every mini-batch and may
    /// throw <see cref="OperationCanceledException"/>; <paramref name="onProgress"/> hears every <see cref="ProgressInterval"/>
    /// and at each epoch's end. The rows are those <paramref name="load"/> gives (it draws from the training generator first).
    /// </summary>
    public static TrainingOutcome Train(VaeModel model, Func<Generator, TrainingRows> load, ResolvedVaeOptions options, long seed,
        Action<VaeEpochRecord>? onEpoch, Action? checkCancelled = null, Action<VaeTrainingProgress>? onProgress = null)
    {
        using var generator = new Generator((ulong)seed);
        using var rows = load(generator);
        var validation = rows.Validation;
        long trainCount = rows.Count;
        double baseline = rows.ReconstructionBaseline;
        using var step = new TrainingStep(model, options.Settings.LearningRate, options.Settings.WeightDecay, options.Settings.FreeBits, generator);
        int batchSize = (int)Math.Min(options.BatchSize, trainCount);
        long stepsPerEpoch = (trainCount + batchSize - 1) / batchSize;
        long warmupSteps = options.Settings.KlWarmupEpochs * stepsPerEpoch;
        long trimAfterSteps = options.NumberOfEpochs * stepsPerEpoch / 4;
        double clip = options.Settings.GradientNormClip ?? double.PositiveInfinity;

        var history = new List<VaeEpochRecord>(options.NumberOfEpochs);
        using var best = options.Settings.EarlyStoppingPatience is null ? null : new WeightSnapshot(model.Network);
        double bestValidationLoss = double.PositiveInfinity;
        int bestEpoch = 0, epochsWithoutImprovement = 0;
        long steps = 0;
        var trainingClock = Stopwatch.StartNew();
        var sinceProgress = Stopwatch.StartNew();
        long rowsTrained = 0;
        int epochs = options.NumberOfEpochs;
        void ReportProgress(int epoch, long done)
        {
            double rate = rowsTrained / Math.Max(trainingClock.Elapsed.TotalSeconds, 1e-9);
            long rowsLeft = (long)(epochs - epoch) * trainCount + (trainCount - done);
            onProgress!(new VaeTrainingProgress(epoch, epochs, done, trainCount, rate, TimeSpan.FromSeconds(rate > 0 ? rowsLeft / rate : 0)));
            sinceProgress.Restart();
        }
        for (int epoch = 1; epoch <= options.NumberOfEpochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            double learningRate = LearningRateAt(options, epoch);
            step.Optimizer.LearningRate = learningRate;
            model.Network.train();
            double lossSum = 0, reconstructionSum = 0, klSum = 0, gradientNormSum = 0, beta = 0;
            using var klPerDimensionSum = zeros(model.LatentDimension);
            long done = 0;
            int batch = 0;
            foreach (var rowsOfBatch in rows.Batches(batchSize, generator))
            {
                using var x = rowsOfBatch;
                checkCancelled?.Invoke();
                using var scope = NewDisposeScope();
                batch++;
                int count = (int)x.shape[0];
                beta = warmupSteps == 0 ? options.Settings.Beta : options.Settings.Beta * Math.Min(1.0, (double)steps / warmupSteps);
                // Trimming starts after a quarter of the steps, once the losses say which rows fit the data.
                var losses = step.Forward(x, beta, steps >= trimAfterSteps ? options.TrimmedFraction : 0);
                var (batchLoss, batchReconstruction, batchKl) = step.Read(losses);
                if (!double.IsFinite(batchLoss))
                    throw Diverged(epoch, batch, $"the loss is {batchLoss} (reconstruction {batchReconstruction / count:G6}, KL {batchKl / count:G6} per row)", history, options);
                step.Backward(losses);
                double gradientNorm = step.Update(clip);
                if (!double.IsFinite(gradientNorm))
                    throw Diverged(epoch, batch, $"the gradient norm is {gradientNorm}", history, options);
                lossSum += batchLoss * count;
                reconstructionSum += batchReconstruction;
                klSum += batchKl;
                gradientNormSum += gradientNorm;
                klPerDimensionSum.add_(losses.KlPerDimension.detach(), Scalars.One);
                rowsTrained += count;
                done += count;
                steps++;
                if (onProgress is not null && (sinceProgress.Elapsed >= ProgressInterval || done >= trainCount))
                    ReportProgress(epoch, done);
            }

            int batches = Math.Max(batch, 1);
            double[] klPerDimensionMean;
            using (var trainRowCount = ((double)trainCount).ToScalar())
            using (var perRow = klPerDimensionSum.div(trainRowCount))
                klPerDimensionMean = TensorCopy.ToArray(perRow).Select(v => (double)v).ToArray();
            var validationTerms = validation is null ? ((double, double, double)?)null : Evaluate(model, validation, options.Settings.Beta, seed);
            var record = new VaeEpochRecord(
                Epoch: epoch,
                Loss: lossSum / trainCount,
                Reconstruction: reconstructionSum / trainCount,
                Kl: klSum / trainCount,
                KlPerDimension: klPerDimensionMean,
                ActiveUnits: CountActiveUnits(model, rows.ActiveUnitSample),
                GradientNorm: gradientNormSum / batches,
                ValidationLoss: validationTerms?.Item1,
                ValidationReconstruction: validationTerms?.Item2,
                ValidationKl: validationTerms?.Item3,
                LearningRate: learningRate,
                Beta: beta,
                Seconds: clock.Elapsed.TotalSeconds);
            history.Add(record);
            onEpoch?.Invoke(record);

            if (best is null) continue;
            if (record.ValidationLoss < bestValidationLoss)
            {
                bestValidationLoss = record.ValidationLoss.Value;
                bestEpoch = epoch;
                epochsWithoutImprovement = 0;
                best.Take(model.Network);
            }
            else if (steps > warmupSteps && ++epochsWithoutImprovement >= options.Settings.EarlyStoppingPatience)
            {
                break;
            }
        }
        if (best is not null && bestEpoch > 0) best.Restore(model.Network);
        model.Network.eval();
        return new TrainingOutcome(history, best is null || bestEpoch == 0 ? history.Count : bestEpoch, baseline);
    }

    /// <summary>ηₑ for epoch e: constant, or cosine annealing from η to η/100 (see <see cref="VaeLearningRateSchedule"/>).</summary>
    public static double LearningRateAt(ResolvedVaeOptions options, int epoch)
    {
        if (options.Settings.LearningRateSchedule == VaeLearningRateSchedule.Constant) return options.Settings.LearningRate;
        double floor = options.Settings.LearningRate / 100;
        return floor + (options.Settings.LearningRate - floor) * (1 + Math.Cos(Math.PI * (epoch - 1) / options.NumberOfEpochs)) / 2;
    }

    /// <summary>Rows held out for validation: round(rows × fraction), none when that leaves no training row.</summary>
    public static int ValidationRowCount(int rowCount, double validationFraction)
    {
        int count = (int)Math.Round(rowCount * validationFraction);
        return count >= rowCount ? 0 : count;
    }

    /// <summary>Loss, reconstruction and KL per row on held-out rows, with the full β and noise fixed across epochs.</summary>
    private static (double Loss, double Reconstruction, double Kl) Evaluate(VaeModel model, Tensor rows, double beta, long seed)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var generator = new Generator((ulong)(seed ^ 0x5EED_5EED));
        model.Network.eval();
        double reconstructionSum = 0, klSum = 0;
        for (long start = 0; start < rows.shape[0]; start += EvaluationBatchRows)
        {
            using var batchScope = NewDisposeScope();
            var x = rows.narrow(0, start, Math.Min(EvaluationBatchRows, rows.shape[0] - start));
            var (mean, logVariance) = model.Network.Encode(x);
            var z = VaeObjective.Reparameterize(mean, logVariance, generator);
            reconstructionSum += VaeObjective.Reconstruction(model.Likelihood, model.Network.Decode(z), x).sum().item<float>();
            klSum += VaeObjective.Kl(model.Network, z, mean, logVariance).sum().item<float>();
        }
        double n = rows.shape[0];
        return (reconstructionSum / n + beta * klSum / n, reconstructionSum / n, klSum / n);
    }

    /// <summary>Dimensions j with Var_x(μⱼ(x)) &gt; <see cref="ActiveUnitVariance"/>, over a sample of the training rows.</summary>
    private static int CountActiveUnits(VaeModel model, Tensor sample)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.Network.eval();
        var (mean, _) = model.Network.Encode(sample);
        return (int)mean.var(dim: 0L, unbiased: false).gt(ActiveUnitVarianceScalar).sum().item<long>();
    }

    private static InvalidOperationException Diverged(int epoch, int batch, string what, IReadOnlyList<VaeEpochRecord> history, ResolvedVaeOptions options)
    {
        string lastGood = history.Count == 0
            ? "no epoch finished before it"
            : $"the last finished epoch ({history[^1].Epoch}) had loss {history[^1].Loss:G6} (reconstruction {history[^1].Reconstruction:G6}, " +
              $"KL {history[^1].Kl:G6}, gradient norm {history[^1].GradientNorm:G4})";
        string clipping = options.Settings.GradientNormClip is null ? "set GradientNormClip (e.g. 10)" : $"lower GradientNormClip (now {options.Settings.GradientNormClip:G4})";
        return new InvalidOperationException(
            $"VAE training diverged at epoch {epoch}, batch {batch}: {what}; {lastGood}. " +
            $"Lower LearningRate (now {options.Settings.LearningRate:G4}), {clipping}, check the scale of the input features " +
            $"(Bernoulli needs values in [0, 1]; very large values call for normalization or the Gaussian likelihood), or lower Beta (now {options.Settings.Beta:G4}).");
    }
}
