using MLNet.Vae.Training;

namespace MLNet.Vae;

/// <summary>
/// Every hyper-parameter of the variational autoencoder, with its default. The estimator copies and validates the
/// options when it is created; changing this object afterwards does not affect an estimator made from it.
/// </summary>
/// <remarks>
/// Training minimizes, per row and averaged over each mini-batch, the β-weighted negative ELBO
/// <c>loss = reconstruction(x, decoder(z)) + β · KL(q(z|x) ‖ N(0, I))</c>, with <c>z = μ + σ ⊙ ε</c>, <c>ε ~ N(0, I)</c>
/// (the reparameterization trick) and <c>KL = −½ Σⱼ (1 + log σⱼ² − μⱼ² − σⱼ²)</c>. The reconstruction term depends on
/// <see cref="Likelihood"/>; the anomaly score on <see cref="ScoreKind"/>.
/// </remarks>
public sealed class VaeOptions
{
    /// <summary>The default value of every option, in one place.</summary>
    public static class Defaults
    {
        /// <summary>Default of <see cref="VaeOptions.FeatureColumnName"/>.</summary>
        public const string FeatureColumnName = "Features";
        /// <summary>Default of <see cref="VaeOptions.MaximumInMemoryBytes"/>: 512 MiB.</summary>
        public const long MaximumInMemoryBytes = 512L << 20;
        /// <summary>Default of <see cref="VaeOptions.LatentColumnName"/>.</summary>
        public const string LatentColumnName = "LatentFeatures";
        /// <summary>Default of <see cref="VaeOptions.ScoreColumnName"/>.</summary>
        public const string ScoreColumnName = "Score";
        /// <summary>Default of <see cref="VaeOptions.PredictedLabelColumnName"/>.</summary>
        public const string PredictedLabelColumnName = "PredictedLabel";
        /// <summary>The largest automatic <see cref="VaeOptions.LatentDimension"/>: ⌈width / 2⌉ up to this.</summary>
        public const int MaximumAutomaticLatentDimension = 20;
        /// <summary>Optimizer steps the automatic <see cref="VaeOptions.NumberOfEpochs"/> aims at, whatever the row count.</summary>
        public const int AutomaticOptimizerSteps = 2000;
        /// <summary>The most epochs the automatic choice takes (tiny tables).</summary>
        public const int MaximumAutomaticEpochs = 1000;
        /// <summary>The most epochs <see cref="VaeOptions.NumberOfEpochs"/> may ask for (a model file holds each one's record).</summary>
        public const int MaximumEpochs = 10_000;
        /// <summary>Default of <see cref="VaeOptions.Likelihood"/>.</summary>
        public const VaeLikelihood Likelihood = VaeLikelihood.Gaussian;
        /// <summary>Default of <see cref="VaeOptions.Beta"/>: the standard VAE.</summary>
        public const double Beta = 1.0;
        /// <summary>The automatic <see cref="VaeOptions.BatchSize"/>: this, or the row count when smaller.</summary>
        public const int BatchSize = 128;
        /// <summary>Default of <see cref="VaeOptions.LearningRate"/>.</summary>
        public const double LearningRate = 1e-3;
        /// <summary>Default of <see cref="VaeOptions.Contamination"/>.</summary>
        public const double Contamination = 0.1;
        /// <summary>The automatic <see cref="VaeOptions.ScoreKind"/> for the Gaussian likelihood (tables).</summary>
        public const VaeScoreKind GaussianScoreKind = VaeScoreKind.ReconstructionAndLatentNeighbours;
        /// <summary>The automatic <see cref="VaeOptions.ScoreKind"/> for the Bernoulli likelihood (pixels) with the MLP.</summary>
        public const VaeScoreKind BernoulliScoreKind = VaeScoreKind.WeightedReconstructionError;
        /// <summary>The automatic <see cref="VaeOptions.ScoreKind"/> for the Bernoulli likelihood with the convolutional network.</summary>
        public const VaeScoreKind ConvolutionalScoreKind = VaeScoreKind.WeightedReconstructionAndLatentNeighbours;
        /// <summary>Default of <see cref="VaeOptions.LogVarianceLimit"/>: wide enough never to bind in healthy training.</summary>
        public const double LogVarianceLimit = 20;
        /// <summary>Width cap of the automatic hidden layer, the width used by pytorch/examples' VAE.</summary>
        public const int MaximumAutomaticHiddenSize = 400;
        /// <summary>The automatic <see cref="VaeOptions.NumberOfModels"/> of a table with fewer rows than <see cref="AutomaticEnsembleRows"/>.</summary>
        public const int AutomaticEnsembleModels = 3;
        /// <summary>Tables (Gaussian likelihood) with fewer rows than this get <see cref="AutomaticEnsembleModels"/> VAEs by default.</summary>
        public const int AutomaticEnsembleRows = 1000;
    }

    /// <summary>The input column: a known-size vector of <see cref="float"/>.</summary>
    public string FeatureColumnName { get; set; } = Defaults.FeatureColumnName;

    /// <summary>The output column holding the encoder mean μ(x), a vector of <see cref="LatentDimension"/> floats.</summary>
    public string LatentColumnName { get; set; } = Defaults.LatentColumnName;

    /// <summary>The output column holding the anomaly score (<see cref="float"/>, higher = more anomalous).</summary>
    public string ScoreColumnName { get; set; } = Defaults.ScoreColumnName;

    /// <summary>The output column holding <c>Score &gt; Threshold</c> (<see cref="bool"/>).</summary>
    public string PredictedLabelColumnName { get; set; } = Defaults.PredictedLabelColumnName;

    /// <summary>
    /// An optional output column (Single) holding each row's upper-tail p-value against the training rows' scores:
    /// p(s) = (1 + #{training scores ≥ s}) / (n + 1), from up to 10,000 stored quantiles of them. A small p means few
    /// training rows scored as high; it needs no guess of the contamination. Null (the default): no such column.
    /// </summary>
    public string? PValueColumnName { get; set; }

    /// <summary>
    /// An optional output column (a vector of Single as wide as the input, carrying its slot names) holding each feature's
    /// share of the reconstruction error: tᵢ = (x̃ᵢ − μ̃ᵢ)² (Gaussian) or BCE(xᵢ, pᵢ) − H(xᵢ) (Bernoulli); a row's shares sum to
    /// its reconstruction error. With the weighted score kinds the shares are the weighted terms tᵢ wᵢ, summing to the weighted
    /// error. It shows which sensor drove an alarm. Null (the default): no column.
    /// </summary>
    public string? FeatureScoresColumnName { get; set; }

    /// <summary>
    /// Size of the latent space z; it should be smaller than the input width. Null (the default) chooses
    /// min(⌈inputWidth / 2⌉, 20) at Fit, recorded in <see cref="VaeTrainingSummary.AutomaticChoices"/>.
    /// </summary>
    public int? LatentDimension { get; set; }

    /// <summary>
    /// Widths of the encoder's hidden layers, input side first; the decoder mirrors them. Null (the default) picks one
    /// hidden layer of width min(400, max(2 · latent dimension, inputWidth / 4)), and no wider than max(2 · latent dimension,
    /// training rows), at Fit.
    /// </summary>
    public int[]? HiddenLayerSizes { get; set; }

    /// <summary>The networks: fully connected (the default) or convolutional for images.</summary>
    public VaeArchitecture Architecture { get; set; } = VaeArchitecture.Mlp;

    /// <summary>
    /// The shape (C, H, W) of image rows. Null: taken from the feature column's dimensions when it has two or three, as
    /// ImageAnalytics' ExtractPixels declares them. The convolutional architecture needs one or the other.
    /// </summary>
    public VaeImageShape? ImageShape { get; set; }

    /// <summary>Output channels of the convolutional encoder's stride-2 convolutions, input side first (decoder mirrored).</summary>
    public int[] ConvolutionChannels { get; set; } = [32, 64];

    /// <summary>The decoder's distribution: Bernoulli for data in [0, 1], Gaussian (standardized) for real values.</summary>
    public VaeLikelihood Likelihood { get; set; } = Defaults.Likelihood;

    /// <summary>Weight β of the KL term (β = 1 is the standard VAE; β &gt; 1 a β-VAE; β = 0 a plain autoencoder).</summary>
    public double Beta { get; set; } = Defaults.Beta;

    /// <summary>
    /// Number of passes over the training data. Null (the default) trains for about 2,000 optimizer steps whatever the row
    /// count: ⌈2000 / ⌈rows / batch⌉⌉ epochs, between 1 and 1,000 (a table of 200 rows gets as many updates as one of
    /// 50,000), recorded in <see cref="VaeTrainingSummary.AutomaticChoices"/>.
    /// </summary>
    public int? NumberOfEpochs { get; set; }

    /// <summary>Rows per mini-batch. Null (the default): min(128, rows).</summary>
    public int? BatchSize { get; set; }

    /// <summary>Adam's learning rate.</summary>
    public double LearningRate { get; set; } = Defaults.LearningRate;

    /// <summary>
    /// Seed of weight initialization, shuffling and the reparameterization noise. Null takes one from the
    /// <see cref="Microsoft.ML.MLContext"/>'s random source, so an <c>MLContext(seed: n)</c> makes training reproducible.
    /// </summary>
    public int? Seed { get; set; }

    /// <summary>
    /// Expected fraction of anomalies in the training data, in (0, 0.5]. The threshold is the (1 − contamination)
    /// quantile of the training rows' scores, so that fraction of the training rows is labelled anomalous.
    /// </summary>
    public double Contamination { get; set; } = Defaults.Contamination;

    /// <summary>How the <see cref="ScoreColumnName"/> column is computed; see <see cref="VaeScoreKind"/>.</summary>
    /// <remarks>
    /// Null (the default) chooses by likelihood and network: <see cref="VaeScoreKind.ReconstructionAndLatentNeighbours"/> for
    /// Gaussian (tables: on the twelve real tables of the development suite it ranks anomalies best of the kinds, mean
    /// ROC-AUC 0.697 over five seeds), <see cref="VaeScoreKind.WeightedReconstructionError"/> for Bernoulli with the MLP (pixels, where
    /// weighting each pixel by its steadiness on the training images added most, at the lowest cost per scored row), and
    /// <see cref="VaeScoreKind.WeightedReconstructionAndLatentNeighbours"/> for Bernoulli with the convolutional network
    /// (whose codes hold what its blurrier reconstructions lose); see docs/choosing-options.md.
    /// </remarks>
    public VaeScoreKind? ScoreKind { get; set; }

    /// <summary>
    /// Intra-op threads of libtorch (<c>torch.set_num_threads</c>, a process-wide setting) applied when fitting.
    /// Null leaves libtorch's current setting.
    /// </summary>
    public int? NumberOfThreads { get; set; }

    /// <summary>
    /// Fraction of the rows held out (after a seeded shuffle) to measure <see cref="VaeEpochRecord.ValidationLoss"/> each
    /// epoch, in [0, 0.5). 0 (the default) trains on every row. Needed by <see cref="EarlyStoppingPatience"/>.
    /// </summary>
    public double ValidationFraction { get; set; }

    /// <summary>
    /// KL warm-up: β rises linearly from 0 to <see cref="Beta"/> over this many epochs (per step), βₜ = β · min(1, t / T),
    /// which keeps the KL term from pushing the posterior onto the prior before the decoder learns to use z. 0: no warm-up.
    /// </summary>
    public int KlWarmupEpochs { get; set; }

    /// <summary>
    /// Free bits λ in nats: each latent dimension's batch-mean KL is counted as at least λ, Σⱼ max(λ, KLⱼ), so the
    /// optimizer gains nothing by collapsing a dimension below λ. 0 (the default): the plain KL.
    /// </summary>
    public double FreeBits { get; set; }

    /// <summary>
    /// The encoder's log-variance is clamped to [−limit, +limit], so exp(log σ²) can neither overflow to infinity
    /// (a source of NaN losses) nor underflow to 0. The default, 20, does not bind in healthy training.
    /// </summary>
    public double LogVarianceLimit { get; set; } = Defaults.LogVarianceLimit;

    /// <summary>
    /// The prior p(z): 0 (the default) for the standard normal N(0, I); K ≥ 1 for a mixture of K diagonal Gaussians learned
    /// with the network, p(z) = Σₖ πₖ N(z; mₖ, diag sₖ²) with π = softmax(logits), the original design's "more suitable prior"
    /// for a KL term that is too large. Its KL has no closed form: training estimates it by Monte Carlo with the step's
    /// sample z, KL ≈ log q(z | x) − log p(z); the latent term of the scores is log q(μ | x) − log p(μ), at z = μ. At most 64.
    /// Models with a mixture prior score one row through libtorch and cannot be exported to ONNX yet.
    /// </summary>
    public int PriorComponents { get; set; }

    /// <summary>
    /// How many VAEs Fit trains (null, the default: automatic, <see cref="Defaults.AutomaticEnsembleModels"/> for a table, the
    /// Gaussian likelihood, of fewer than <see cref="Defaults.AutomaticEnsembleRows"/> rows, where one VAE's ranking depends
    /// most on its seed and fits are fast; 1 otherwise). With K &gt; 1 it trains K models on the same rows with
    /// seeds Seed, Seed + 1, … (different initial weights, batch order and sampled z), and the score of a row is the mean of
    /// the members' standardized scores, S = (1/K) Σₖ (sₖ − cₖ) / σₖ, with cₖ and σₖ the median and inter-quartile range /
    /// 1.349 of member k's scores on the training rows; the threshold and p-values are taken on S. Fit and scoring take about
    /// K times as long (docs/choosing-options.md); the latent column, reconstruction and generation are the first member's.
    /// At most 32.
    /// </summary>
    public int? NumberOfModels { get; set; }

    /// <summary>
    /// Training that resists anomalies among the training rows: after the first quarter of the optimizer steps, each
    /// mini-batch's loss leaves out this fraction of its rows, those of highest loss −ELBO, so that rows the model cannot
    /// yet explain are not learned as normal. 0: every row counts. At most 0.5. Null (the default) is automatic: for the
    /// Gaussian likelihood (tables, fitted on rows that hold the anomalies) min(0.5, 2 × <see cref="Contamination"/>), for
    /// Bernoulli (images, usually fitted on one clean class) 0. See docs/choosing-options.md.
    /// </summary>
    public double? TrimmedFraction { get; set; }

    /// <summary>
    /// Appends log(1 + x) of every skewed feature to each row, keeping the feature itself: a feature is skewed when in the
    /// training rows it is never negative, takes more than 10 distinct values and its skewness E[(x − m)³] / s³ is above 2
    /// (amounts, counts, durations). The VAE then sees anomalies in such a feature's bulk (low wages among all wages) as well
    /// as in its tail. The outputs stay in the input's d features: a logarithm's feature score is added to its feature's,
    /// and reconstructions and generated rows are the d features. Null (the default) is automatic: on for the Gaussian
    /// likelihood with the MLP on rows that are not images (tables), off otherwise. True needs the Gaussian likelihood, the
    /// MLP and rows without an image shape. See docs/choosing-options.md.
    /// </summary>
    public bool? AppendLogOfSkewedFeatures { get; set; }

    /// <summary>Whether Fit looks for skewed features in rows with (or without) an image shape: the option, or its automatic choice.</summary>
    internal bool AppendsLogOfSkewedFeatures(bool imageRows) =>
        AppendLogOfSkewedFeatures ?? (Likelihood == VaeLikelihood.Gaussian && Architecture == VaeArchitecture.Mlp && !imageRows);

    /// <summary>Rescales the gradient when its global L2 norm exceeds this value (null: no clipping).</summary>
    public double? GradientNormClip { get; set; }

    /// <summary>
    /// Stops when the validation loss has not improved for this many epochs and restores the weights of the best epoch
    /// (null: train every epoch). Needs <see cref="ValidationFraction"/> &gt; 0; epochs of KL warm-up do not count.
    /// </summary>
    public int? EarlyStoppingPatience { get; set; }

    /// <summary>L2 weight decay of Adam (0: none).</summary>
    public double WeightDecay { get; set; }

    /// <summary>How the learning rate changes over the epochs.</summary>
    public VaeLearningRateSchedule LearningRateSchedule { get; set; } = VaeLearningRateSchedule.Constant;

    /// <summary>
    /// What scoring does with a row outside the model's domain (NaN or ±∞ anywhere; a finite Bernoulli value outside [0, 1] is clipped):
    /// score it +∞ and label it anomalous (the default), or throw. See <see cref="VaeOutOfDomainInput"/>.
    /// </summary>
    public VaeOutOfDomainInput OutOfDomainInput { get; set; } = VaeOutOfDomainInput.ScoreAsAnomaly;

    /// <summary>
    /// The most feature data <see cref="VaeEstimator.Fit"/> holds in memory, in bytes of float32 values (rows × width × 4);
    /// default 512 MiB. Up to it, Fit reads every row once and trains on the array. Above it, Fit streams: one pass gathers
    /// the statistics (row count, standardization, a sample), each epoch reads the data again in blocks of about 64 MB shuffled
    /// within the block, a pass draws the score kind's calibration rows (up to 8,192, evenly spaced, as in memory), and a last
    /// pass scores the rows for the threshold on a uniform sample of up to 1,000,000 scores. Memory then stays flat as rows grow (docs/scale.md). Streaming
    /// needs a data view that can be read several times, no validation rows (<see cref="ValidationFraction"/> 0) and shuffled
    /// rows: shuffle sorted data upstream (mlContext.Data.ShuffleRows).
    /// </summary>
    public long MaximumInMemoryBytes { get; set; } = Defaults.MaximumInMemoryBytes;

    /// <summary>
    /// Stops <see cref="VaeEstimator.Fit"/> with an <see cref="OperationCanceledException"/> at the next mini-batch once
    /// cancelled (as does <c>MLContext.CancelExecution</c>). Not saved with the model.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public CancellationToken CancellationToken { get; set; }

    /// <summary>Receives each epoch's record as soon as it ends (for a UI). Not saved with the model.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IProgress<VaeEpochRecord>? Progress { get; set; }

    /// <summary>
    /// Receives where training is within each epoch (rows done, rows per second, the time left) about twice a second (for a
    /// progress bar). Not saved with the model.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IProgress<VaeTrainingProgress>? TrainingProgress { get; set; }

    /// <summary>A deep copy, so that later changes by the caller do not reach a fitted model.</summary>
    public VaeOptions Clone()
    {
        var copy = (VaeOptions)MemberwiseClone();
        copy.HiddenLayerSizes = HiddenLayerSizes?.ToArray();
        copy.ConvolutionChannels = ConvolutionChannels.ToArray();
        return copy;
    }

    /// <summary>The hidden layer widths for an input of <paramref name="inputWidth"/> features.</summary>
    /// <remarks>
    /// Automatic: one layer of min(400, max(2L, d / 4)) units, and no more than max(2L, rows) when the row count is known: a
    /// layer wider than the rows adds weights the rows cannot fit (3 rows of 100,000 columns took a 400-wide layer, 80 million
    /// weights a model, 99 s and 12 GB). d / 4 rather than d / 2: on Fashion-MNIST the 196-unit layer ranks anomalies as the
    /// 392-unit one did, and a 192-unit one scored a row in half the time (docs/decisions.md); the two rules differ only above 80 features.
    /// </remarks>
    internal int[] ResolveHiddenLayerSizes(int inputWidth, long? rowCount = null)
    {
        if (HiddenLayerSizes is not null) return HiddenLayerSizes.ToArray();
        int latent2 = 2 * LatentFor(inputWidth);
        int width = Math.Min(Defaults.MaximumAutomaticHiddenSize, Math.Max(latent2, inputWidth / 4));
        return [rowCount is long rows ? (int)Math.Min(width, Math.Max(latent2, rows)) : width];
    }

    /// <summary>The latent dimension for rows of <paramref name="inputWidth"/> values: the option, or the automatic choice.</summary>
    internal int LatentFor(int inputWidth) => LatentDimension ?? Math.Clamp((inputWidth + 1) / 2, 1, Defaults.MaximumAutomaticLatentDimension);

    /// <summary>
    /// Every automatic option (null) chosen for <paramref name="rowCount"/> rows of <paramref name="inputWidth"/> values, each
    /// choice described in <see cref="ResolvedVaeOptions.Choices"/>; an option set by the caller is kept as it is.
    /// </summary>
    /// <param name="inputWidth">The width of the rows the network sees.</param>
    /// <param name="rowCount">The training rows.</param>
    /// <param name="imageRows">Whether the rows have an image shape.</param>
    internal ResolvedVaeOptions Resolve(int inputWidth, int rowCount, bool imageRows = false)
    {
        var choices = new List<string>();
        var resolved = Clone();
        resolved.CancellationToken = default;
        resolved.Progress = null;
        resolved.TrainingProgress = null;
        if (LatentDimension is null)
        {
            resolved.LatentDimension = LatentFor(inputWidth);
            choices.Add($"LatentDimension = {resolved.LatentDimension}: ⌈{inputWidth} features / 2⌉, at most {Defaults.MaximumAutomaticLatentDimension}");
        }
        if (HiddenLayerSizes is null && Architecture == VaeArchitecture.Mlp)
        {
            resolved.HiddenLayerSizes = resolved.ResolveHiddenLayerSizes(inputWidth, rowCount);
            choices.Add($"HiddenLayerSizes = [{resolved.HiddenLayerSizes[0]}]: max(2 x latent, {inputWidth} features / 4), at most {Defaults.MaximumAutomaticHiddenSize} " +
                        $"and at most max(2 x latent, {rowCount} rows)");
        }
        var scoreKind = ScoreKind ?? (Likelihood == VaeLikelihood.Gaussian ? Defaults.GaussianScoreKind
            : Architecture == VaeArchitecture.Convolutional ? Defaults.ConvolutionalScoreKind : Defaults.BernoulliScoreKind);
        if (ScoreKind is null)
        {
            // Pixels: the convolutional network's codes carry what its blurry reconstructions lose, and the nearest training
            // codes say more about them than a mixture does; the MLP gains less from them (0.930 against 0.926) than a scored
            // row pays for them (docs/choosing-options.md).
            resolved.ScoreKind = scoreKind;
            choices.Add($"ScoreKind = {resolved.ScoreKind}: the default for the {Likelihood} likelihood with the {Architecture} network");
        }
        double trimmedFraction = TrimmedFraction ?? (Likelihood == VaeLikelihood.Gaussian ? Math.Min(0.5, 2 * Contamination) : 0);
        if (TrimmedFraction is null)
        {
            resolved.TrimmedFraction = trimmedFraction;
            choices.Add(Likelihood == VaeLikelihood.Gaussian
                ? $"TrimmedFraction = {resolved.TrimmedFraction:G3}: 2 x Contamination, so that a group of anomalies among the training rows is not learned as normal"
                : "TrimmedFraction = 0: the Bernoulli likelihood's data (images) is usually one clean class");
        }
        bool smallTable = Likelihood == VaeLikelihood.Gaussian && rowCount < Defaults.AutomaticEnsembleRows;
        int numberOfModels = NumberOfModels ?? (smallTable ? Defaults.AutomaticEnsembleModels : 1);
        if (NumberOfModels is null)
        {
            resolved.NumberOfModels = numberOfModels;
            choices.Add(smallTable
                ? $"NumberOfModels = {resolved.NumberOfModels}: a table of fewer than {Defaults.AutomaticEnsembleRows:N0} rows, where one VAE's ranking depends most on its seed"
                : $"NumberOfModels = 1: {(Likelihood == VaeLikelihood.Gaussian ? $"{Defaults.AutomaticEnsembleRows:N0} rows or more" : "images rank alike whatever the seed")}");
        }
        if (AppendLogOfSkewedFeatures is null)
        {
            resolved.AppendLogOfSkewedFeatures = AppendsLogOfSkewedFeatures(imageRows);
            choices.Add(resolved.AppendLogOfSkewedFeatures == true
                ? "AppendLogOfSkewedFeatures = true: a table (Gaussian likelihood, MLP), whose amounts and counts can hide anomalies in their bulk"
                : imageRows ? "AppendLogOfSkewedFeatures = false: the rows are images"
                : $"AppendLogOfSkewedFeatures = false: the {Likelihood} likelihood with the {Architecture} network");
        }
        int batchSize = BatchSize ?? Math.Min(Defaults.BatchSize, rowCount);
        if (BatchSize is null)
        {
            resolved.BatchSize = batchSize;
            choices.Add($"BatchSize = {batchSize}: {Defaults.BatchSize}, or the row count when smaller");
        }
        long stepsPerEpoch = (rowCount + batchSize - 1) / batchSize;
        int numberOfEpochs = NumberOfEpochs ?? (int)Math.Clamp((Defaults.AutomaticOptimizerSteps + stepsPerEpoch - 1) / stepsPerEpoch, 1, Defaults.MaximumAutomaticEpochs);
        if (NumberOfEpochs is null)
        {
            resolved.NumberOfEpochs = numberOfEpochs;
            choices.Add($"NumberOfEpochs = {resolved.NumberOfEpochs}: about {Defaults.AutomaticOptimizerSteps} optimizer steps at {stepsPerEpoch} per epoch ({rowCount} rows)");
        }
        return new ResolvedVaeOptions
        {
            Settings = resolved,
            LatentDimension = resolved.LatentDimension ?? LatentFor(inputWidth),
            HiddenLayerSizes = Architecture == VaeArchitecture.Mlp ? resolved.HiddenLayerSizes!.ToArray() : [],
            ScoreKind = scoreKind,
            TrimmedFraction = trimmedFraction,
            NumberOfModels = numberOfModels,
            BatchSize = batchSize,
            NumberOfEpochs = numberOfEpochs,
            Choices = choices,
        };
    }

    /// <summary>
    /// The network these options describe for rows of <paramref name="inputWidth"/> values: the one place options become
    /// a network (Fit, and loading a version-1 file, which stored options). <paramref name="hiddenSizes"/> overrides the
    /// automatic widths (a version-1 file recorded the ones it used).
    /// </summary>
    internal Network.VaeNetworkSpec ToNetworkSpec(int inputWidth, VaeImageShape? imageShape, int[]? hiddenSizes = null)
    {
        bool convolutional = Architecture == VaeArchitecture.Convolutional;
        return new(Architecture, inputWidth, LatentFor(inputWidth), convolutional ? [] : hiddenSizes ?? ResolveHiddenLayerSizes(inputWidth),
            imageShape, convolutional ? ConvolutionChannels.ToArray() : [], LogVarianceLimit, PriorComponents);
    }

    /// <summary>Checks every option; throws <see cref="ArgumentOutOfRangeException"/> naming the first bad one.</summary>
    public void Validate()
    {
        RequireColumnName(FeatureColumnName, nameof(FeatureColumnName));
        RequireColumnName(LatentColumnName, nameof(LatentColumnName));
        RequireColumnName(ScoreColumnName, nameof(ScoreColumnName));
        RequireColumnName(PredictedLabelColumnName, nameof(PredictedLabelColumnName));
        if (PValueColumnName is not null) RequireColumnName(PValueColumnName, nameof(PValueColumnName));
        if (FeatureScoresColumnName is not null) RequireColumnName(FeatureScoresColumnName, nameof(FeatureScoresColumnName));
        var outputs = new[] { LatentColumnName, ScoreColumnName, PredictedLabelColumnName, PValueColumnName, FeatureScoresColumnName }.OfType<string>().ToArray();
        if (outputs.Distinct(StringComparer.Ordinal).Count() != outputs.Length)
            throw new ArgumentOutOfRangeException(nameof(LatentColumnName), "The latent, score, predicted label, p-value and feature score output columns must have different names.");
        Require(TrimmedFraction is null or (>= 0 and <= 0.5), nameof(TrimmedFraction), $"TrimmedFraction must be in [0, 0.5] or null (automatic), got {TrimmedFraction}.");
        Require(AppendLogOfSkewedFeatures != true || (Likelihood == VaeLikelihood.Gaussian && Architecture == VaeArchitecture.Mlp), nameof(AppendLogOfSkewedFeatures),
            "AppendLogOfSkewedFeatures needs the Gaussian likelihood and the MLP: pixels lie in [0, 1] and an image's shape has no room for more values.");
        Require(NumberOfModels is null or (>= 1 and <= 32), nameof(NumberOfModels), $"NumberOfModels must be 1 to 32 or null (automatic), got {NumberOfModels}.");
        Require(PriorComponents is >= 0 and <= 64, nameof(PriorComponents), $"PriorComponents must be 0 (standard normal prior) to 64, got {PriorComponents}.");
        Require(MaximumInMemoryBytes >= 0, nameof(MaximumInMemoryBytes), $"MaximumInMemoryBytes must be 0 (always stream) or positive, got {MaximumInMemoryBytes}.");
        Require(LatentDimension is null or >= 1, nameof(LatentDimension), $"LatentDimension must be positive or null (automatic), got {LatentDimension}.");
        if (HiddenLayerSizes is not null)
        {
            Require(HiddenLayerSizes.Length >= 1, nameof(HiddenLayerSizes), "HiddenLayerSizes must hold at least one layer width, or be null for the automatic choice.");
            foreach (int width in HiddenLayerSizes)
                Require(width >= 1, nameof(HiddenLayerSizes), $"HiddenLayerSizes must all be positive, got {width}.");
        }
        Require(Enum.IsDefined(Architecture), nameof(Architecture), $"Architecture {(int)Architecture} is not a VaeArchitecture value.");
        Require(ImageShape is null || (ImageShape.Channels >= 1 && ImageShape.Height >= 1 && ImageShape.Width >= 1), nameof(ImageShape),
            $"ImageShape must have positive channels, height and width, got {ImageShape}.");
        Require(ConvolutionChannels is { Length: >= 1 } && ConvolutionChannels.All(c => c >= 1), nameof(ConvolutionChannels),
            "ConvolutionChannels must hold at least one positive channel count.");
        Require(Enum.IsDefined(Likelihood), nameof(Likelihood), $"Likelihood {(int)Likelihood} is not a VaeLikelihood value.");
        Require(double.IsFinite(Beta) && Beta >= 0, nameof(Beta), $"Beta must be a finite number >= 0, got {Beta}.");
        Require(NumberOfEpochs is null or (>= 1 and <= Defaults.MaximumEpochs), nameof(NumberOfEpochs),
            $"NumberOfEpochs must be 1 to {Defaults.MaximumEpochs:N0} or null (automatic), got {NumberOfEpochs}.");
        Require(BatchSize is null or >= 1, nameof(BatchSize), $"BatchSize must be positive or null (automatic), got {BatchSize}.");
        Require(double.IsFinite(LearningRate) && LearningRate > 0, nameof(LearningRate), $"LearningRate must be a finite number > 0, got {LearningRate}.");
        Require(Contamination > 0 && Contamination <= 0.5, nameof(Contamination), $"Contamination must be in (0, 0.5], got {Contamination}.");
        Require(ScoreKind is null || Enum.IsDefined(ScoreKind.Value), nameof(ScoreKind), $"ScoreKind {(int?)ScoreKind} is not a VaeScoreKind value.");
        Require(NumberOfThreads is null || NumberOfThreads >= 1, nameof(NumberOfThreads), $"NumberOfThreads must be positive or null, got {NumberOfThreads}.");
        Require(ValidationFraction >= 0 && ValidationFraction < 0.5, nameof(ValidationFraction), $"ValidationFraction must be in [0, 0.5), got {ValidationFraction}.");
        Require(KlWarmupEpochs >= 0, nameof(KlWarmupEpochs), $"KlWarmupEpochs must be >= 0, got {KlWarmupEpochs}.");
        Require(double.IsFinite(FreeBits) && FreeBits >= 0, nameof(FreeBits), $"FreeBits must be a finite number >= 0, got {FreeBits}.");
        Require(double.IsFinite(LogVarianceLimit) && LogVarianceLimit > 0 && LogVarianceLimit <= 80, nameof(LogVarianceLimit),
            $"LogVarianceLimit must be in (0, 80] (exp(88) overflows a float), got {LogVarianceLimit}.");
        Require(GradientNormClip is null || (double.IsFinite(GradientNormClip.Value) && GradientNormClip > 0), nameof(GradientNormClip),
            $"GradientNormClip must be a finite number > 0 or null, got {GradientNormClip}.");
        Require(EarlyStoppingPatience is null || EarlyStoppingPatience >= 1, nameof(EarlyStoppingPatience), $"EarlyStoppingPatience must be positive or null, got {EarlyStoppingPatience}.");
        Require(EarlyStoppingPatience is null || ValidationFraction > 0, nameof(EarlyStoppingPatience),
            "EarlyStoppingPatience needs a validation split: set ValidationFraction > 0 (e.g. 0.1).");
        Require(double.IsFinite(WeightDecay) && WeightDecay >= 0, nameof(WeightDecay), $"WeightDecay must be a finite number >= 0, got {WeightDecay}.");
        Require(Enum.IsDefined(OutOfDomainInput), nameof(OutOfDomainInput), $"OutOfDomainInput {(int)OutOfDomainInput} is not a VaeOutOfDomainInput value.");
        Require(ImageShape is null || ImageShape.Size <= Array.MaxLength, nameof(ImageShape),
            $"ImageShape {ImageShape} holds {ImageShape?.Size} values, more than one row can hold ({Array.MaxLength}).");
        Require(Enum.IsDefined(LearningRateSchedule), nameof(LearningRateSchedule), $"LearningRateSchedule {(int)LearningRateSchedule} is not a VaeLearningRateSchedule value.");
    }

    private static void RequireColumnName(string? name, string option) =>
        Require(!string.IsNullOrWhiteSpace(name), option, $"{option} must name a column.");

    private static void Require(bool condition, string option, string message)
    {
        if (!condition) throw new ArgumentOutOfRangeException(option, message);
    }
}
