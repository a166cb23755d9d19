#pragma warning disable CS0618 // The retired score kinds still score the models saved with them (and a caller may still ask for one).
using MLNet.Vae.Model;

namespace MLNet.Vae.Training;

/// <summary>
/// Detects the typical VAE failure modes from the configuration and the training history, and says what to change.
/// The thresholds are rules of thumb, documented in docs/debugging.md.
/// </summary>
internal static class TrainingDiagnostics
{
    /// <summary>Posterior collapse: fewer than this fraction of the latent dimensions (and at least one) are active.</summary>
    public const double CollapsedActiveFraction = 0.1;
    /// <summary>Blurry reconstructions: the final reconstruction term is above this fraction of the mean baseline.</summary>
    public const double BlurryBaselineFraction = 0.9;
    /// <summary>KL dominates: β·KL exceeds the reconstruction term while reconstruction is above this fraction of the baseline.</summary>
    public const double PoorBaselineFraction = 0.5;

    /// <summary>Warnings that follow from the configuration alone.</summary>
    public static IEnumerable<VaeTrainingWarning> BeforeTraining(VaeOptions options, int inputWidth, IReadOnlyList<int> hiddenSizes)
    {
        if (options.LatentDimension >= inputWidth)
        {
            yield return new VaeTrainingWarning(VaeWarningKind.LatentNotSmallerThanInput,
                $"LatentDimension ({options.LatentDimension}) is not smaller than the input width ({inputWidth}): the latent space need not " +
                "compress anything, so reconstruction errors say little about anomalies. Use a LatentDimension well below the input width.");
        }
        int widest = hiddenSizes.DefaultIfEmpty(0).Max();
        if (widest > inputWidth)
        {
            yield return new VaeTrainingWarning(VaeWarningKind.HiddenLayerWiderThanInput,
                $"A hidden layer ({widest} units) is wider than the input ({inputWidth} features): the autoencoder can come close to copying " +
                "its input, which blunts anomaly scores. Use HiddenLayerSizes no wider than the input, or null for the automatic choice.");
        }
    }

    /// <summary><see cref="VaeScoreKind.SquaredError"/> is warned about when one varying feature's spread is this many times another's.</summary>
    public const double DominantScaleRatio = 1000;

    /// <summary>Warnings that follow from the training rows (<paramref name="options"/> resolved), before training.</summary>
    public static IEnumerable<VaeTrainingWarning> ForData(ResolvedVaeOptions options, FeatureMoments moments, FeatureStandardization? standardization)
    {
        var constant = moments.ConstantFeatures();
        if (constant.Length > 0)
        {
            string which = string.Join(", ", constant.Take(10)) + (constant.Length > 10 ? $" and {constant.Length - 10} more" : "");
            yield return new VaeTrainingWarning(VaeWarningKind.ConstantFeatures,
                $"{constant.Length} of {moments.Width} features do not vary in the training rows (features {which}; or vary by less than " +
                $"{FeatureMoments.RelativeScaleFloor:G1} of their value, which float32 cannot tell from rounding): a row whose value differs there scores " +
                "as anomalous. Remove such features if new rows may vary in them without being anomalous.");
        }
        if (options.ScoreKind == VaeScoreKind.SquaredError && standardization is not null)
        {
            var varying = Enumerable.Range(0, moments.Width).Where(moments.Varies).ToArray();
            if (varying.Length >= 2)
            {
                int widest = varying.MaxBy(i => standardization.Scale[i]), narrowest = varying.MinBy(i => standardization.Scale[i]);
                float ratio = standardization.Scale[widest] / standardization.Scale[narrowest];
                if (ratio > DominantScaleRatio)
                {
                    yield return new VaeTrainingWarning(VaeWarningKind.FeatureScalesDiffer,
                        $"SquaredError adds squared errors in the features' own units, and feature {widest} spreads {standardization.Scale[widest]:G3}, " +
                        $"{ratio:G3} times feature {narrowest}'s {standardization.Scale[narrowest]:G3}: an anomaly in the narrow features hardly changes the " +
                        "score. Scale the features first (e.g. mlContext.Transforms.NormalizeMeanVariance) or use the default score kind, in standardized units.");
                }
            }
        }
    }

    /// <summary>Warnings read from the history of a finished training run.</summary>
    public static IEnumerable<VaeTrainingWarning> AfterTraining(ResolvedVaeOptions options, IReadOnlyList<VaeEpochRecord> history, double baseline)
    {
        var last = history[^1];
        int latent = options.LatentDimension;
        double beta = options.Settings.Beta;
        int minimumActive = Math.Max(1, (int)Math.Ceiling(CollapsedActiveFraction * latent));
        if (beta > 0 && last.ActiveUnits < minimumActive)
        {
            yield return new VaeTrainingWarning(VaeWarningKind.PosteriorCollapse,
                $"Posterior collapse: {last.ActiveUnits} of {latent} latent dimensions are active after epoch {last.Epoch} " +
                $"(KL {last.Kl:G3} nats per row), so the decoder ignores z. Use KL warm-up (KlWarmupEpochs, e.g. 10), " +
                $"free bits (FreeBits, e.g. 0.1) or a smaller Beta (now {beta:G3}).");
        }
        if (beta > 0 && beta * last.Kl > last.Reconstruction && last.Reconstruction > PoorBaselineFraction * baseline)
        {
            yield return new VaeTrainingWarning(VaeWarningKind.KlDominates,
                $"The KL term dominates: β·KL = {beta * last.Kl:G4} exceeds the reconstruction term {last.Reconstruction:G4} per row, " +
                $"which is still {last.Reconstruction / baseline:P0} of the mean-prediction baseline {baseline:G4}. " +
                $"Lower Beta (now {beta:G3}), add KL warm-up (KlWarmupEpochs) or use more latent dimensions.");
        }
        if (last.Reconstruction > BlurryBaselineFraction * baseline)
        {
            yield return new VaeTrainingWarning(VaeWarningKind.ReconstructionNotImproving,
                $"Reconstructions are barely better than predicting each feature's mean: the reconstruction term is {last.Reconstruction:G4} per row, " +
                $"{last.Reconstruction / baseline:P0} of the baseline {baseline:G4} (first epoch: {history[0].Reconstruction:G4}). " +
                "Train longer (NumberOfEpochs) or faster (LearningRate), give the decoder more capacity (HiddenLayerSizes) or the code more " +
                "room (LatentDimension), lower Beta, and check that the features carry structure (scale, constant columns).");
        }
    }
}
