#pragma warning disable CS0618 // The retired score kinds still score the models saved with them (and a caller may still ask for one).
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNet.Vae.Data;
using MLNet.Vae.Internal;
using MLNet.Vae.Model;
using MLNet.Vae.Network;
using MLNet.Vae.Platform;
using MLNet.Vae.Training;
using TorchSharp;
using MLNet.Vae.Scoring;

namespace MLNet.Vae;

/// <summary>
/// Trains a variational autoencoder on a known-size float vector column and returns a <see cref="VaeTransformer"/>.
/// Create it with <c>mlContext.Transforms.VariationalAutoencoder(...)</c> or
/// <c>mlContext.AnomalyDetection.Trainers.VariationalAutoencoder(...)</c>.
/// </summary>
public sealed class VaeEstimator : IEstimator<VaeTransformer>
{
    private readonly IHost _host;
    private readonly VaeOptions _options;
    private readonly FitObservers _observers;

    /// <summary>Creates the estimator; the options are copied and validated now.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid; the exception names it.</exception>
    public VaeEstimator(MLContext mlContext, VaeOptions options) : this((IHostEnvironment)mlContext, options)
    {
    }

    internal VaeEstimator(IHostEnvironment env, VaeOptions options)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(options);
        _host = env.Register(nameof(VaeEstimator));
        _options = options.Clone();
        _options.Validate();
        _observers = new FitObservers(options.CancellationToken, options.Progress, options.TrainingProgress);
    }

    /// <summary>A copy of the options this estimator trains with.</summary>
    public VaeOptions Options => _options.Clone();

    /// <summary>
    /// Reads the feature column, trains the VAE with Adam for <see cref="VaeOptions.NumberOfEpochs"/> epochs (each of the
    /// <see cref="VaeOptions.NumberOfModels"/> VAEs in turn), scores the training rows and sets the threshold from
    /// <see cref="VaeOptions.Contamination"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The feature column is missing or is not a known-size vector of Single.</exception>
    /// <exception cref="InvalidOperationException">There are no rows, a value is NaN or infinite, Bernoulli data lies outside [0, 1], or training diverged.</exception>
    public VaeTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        // Loading libtorch (0.4 s the first time in a process, on a 2-core AMD EPYC) needs no row, and reading the rows needs no
        // libtorch: the two run side by side. MKL keeps the kernels it chooses at its first product, so it is configured before
        // this Fit runs one; a VAE upstream in the pipeline built its network after the same two calls (VaeNetworkSpec.Build).
        var nativeLibraries = Task.Run(TorchSharpNative.EnsureReady);
        var (columnIndex, width) = FeatureColumn.Check(input.Schema, _options.FeatureColumnName);
        var imageShape = ImageShapes.Resolve(_options, input.Schema[columnIndex], width);
        // A network whose shape does not depend on the rows is checked before they are read.
        if (_options.HiddenLayerSizes is not null || _options.Architecture == VaeArchitecture.Convolutional)
            RequireBuildable(_options.ToNetworkSpec(width, imageShape), models: 1);

        long seed = _options.Seed ?? _host.Rand.Next();
        if (_options.AppendLogOfSkewedFeatures == true && imageShape is not null)
            throw new InvalidOperationException($"AppendLogOfSkewedFeatures appends values to each row, and the rows of column '{_options.FeatureColumnName}' are images " +
                $"of shape {imageShape}, which has no room for them: leave AppendLogOfSkewedFeatures unset (null) or false for images.");
        var (data, logs) = ReadOrScan(input, width, (int)seed, _options.AppendsLogOfSkewedFeatures(imageRows: imageShape is not null));
        long rowCount = data.RowCount;
        // The members see the rows with the logarithms appended: every size below is of those rows.
        int modelWidth = logs?.ExpandedWidth ?? width;
        if (data is TrainingData.Streamed && _options.ValidationFraction > 0)
        {
            throw new InvalidOperationException(
                $"The {rowCount:N0} rows of {width} features are above MaximumInMemoryBytes ({_options.MaximumInMemoryBytes:N0} bytes), so Fit streams them, " +
                "and a stream holds no validation rows: set ValidationFraction to 0 (and EarlyStoppingPatience to null), or raise MaximumInMemoryBytes.");
        }
        if (_options.EarlyStoppingPatience is not null && VaeTrainingLoop.ValidationRowCount((int)rowCount, _options.ValidationFraction) == 0)
        {
            throw new InvalidOperationException(
                $"ValidationFraction {_options.ValidationFraction:G3} of {rowCount} rows holds out no row, so early stopping would have no validation " +
                "loss to watch: raise ValidationFraction, train on more rows, or unset EarlyStoppingPatience.");
        }

        RequireVaryingRows(data, modelWidth);
        nativeLibraries.GetAwaiter().GetResult();

        using var channel = _host.Start("Training");
        // From here on, every automatic option holds its choice for this data.
        var options = _options.Resolve(modelWidth, (int)Math.Min(rowCount, int.MaxValue), imageRows: imageShape is not null);
        foreach (string choice in options.Choices) channel.Info(MessageSensitivity.None, $"Automatic option: {choice}.");
        if (logs is not null)
            channel.Info(MessageSensitivity.None, $"Appended log(1 + x) of the skewed features {string.Join(", ", logs.Features)}: the network sees {modelWidth} values a row.");
        int numberOfModels = options.NumberOfModels;
        var spec = options.Settings.ToNetworkSpec(modelWidth, imageShape);
        RequireBuildable(spec, numberOfModels);
        RequireMemory(spec, numberOfModels, data);
        string models = numberOfModels > 1 ? $"an ensemble of {numberOfModels} VAEs" : "a VAE";
        channel.Info(MessageSensitivity.None, $"Training {models} {spec.Describe()} ({_options.Likelihood}) on {rowCount} rows ({data.Description}) for {options.NumberOfEpochs} epochs, seed {seed}.");
        // Only what the caller chose is warned about: the automatic choices are made to suit the data.
        var warnings = TrainingDiagnostics.BeforeTraining(_options, modelWidth, _options.HiddenLayerSizes ?? [])
            .Concat(TrainingDiagnostics.ForData(options, data.Moments, data.Standardization)).ToList();
        foreach (var warning in warnings) channel.Warning(MessageSensitivity.None, warning.Message);
        if (MklCpuDispatch.TooLate) channel.Warning(MessageSensitivity.None, $"MKL CPU dispatch: {MklCpuDispatch.Description}");

        // libtorch's thread count is process-wide: set it for this Fit only, and give the host its own back.
        int hostThreads = torch.get_num_threads();
        if (_options.NumberOfThreads is int threads) torch.set_num_threads(threads);
        var members = new List<VaeModel>();
        try
        {
            var memberSummaries = new List<VaeTrainingSummary>();
            for (int k = 0; k < numberOfModels; k++)
            {
                // Member k differs from the others by its seed alone: initial weights, batch order and sampled z.
                string member = numberOfModels > 1 ? $"Model {k + 1} of {numberOfModels}: " : "";
                var model = new VaeModel(spec.Build(), _options.Likelihood, options.ScoreKind, data.Standardization);
                members.Add(model);
                var trained = TrainMember(model, data, options, seed + k, channel, member, k);
                warnings.AddRange(trained.Warnings.Select(w => w with { Message = member + w.Message }));
                memberSummaries.Add(trained);
            }
            // The members' scores are of the same rows in the same order (TrainingData.TrainingScores), so they combine row by row.
            var (trainingScores, scales) = VaeEnsemble.Combine(data.TrainingScores(members));
            string kind = numberOfModels > 1 ? $"mean standardized {options.ScoreKind} of {numberOfModels} models" : $"{options.ScoreKind}";
            float threshold = ScoreThreshold.FromContamination(trainingScores, _options.Contamination);
            RequireFiniteThreshold(threshold, trainingScores, kind, options.Settings);
            channel.Info(MessageSensitivity.None, $"Threshold {threshold:G6} ({kind}, contamination {_options.Contamination:G3}).");
            var first = memberSummaries[0];
            var summary = new VaeTrainingSummary(first.History, warnings, first.BestEpoch, first.ReconstructionBaseline, options.Choices,
                ScoreThreshold.SortedQuantiles(trainingScores, MaximumStoredScores))
            {
                Members = numberOfModels > 1 ? memberSummaries.Select((m, k) => new VaeEnsembleMember(seed + k, m.History, m.Warnings, m.BestEpoch,
                    scales[k].Center, scales[k].Scale)).ToList() : [],
            };
            return new VaeTransformer(_host, options.Settings, new VaeEnsemble(members, scales, logs), threshold, summary);
        }
        catch
        {
            foreach (var model in members) model.Dispose();
            throw;
        }
        finally
        {
            torch.set_num_threads(hostThreads);
        }
    }

    /// <summary>
    /// Initializes and trains one model with <paramref name="seed"/>, then fits its calibration: the history, the kept epoch
    /// and the warnings after training (each prefixed with <paramref name="member"/> in the log).
    /// </summary>
    private VaeTrainingSummary TrainMember(VaeModel model, TrainingData data, ResolvedVaeOptions options, long seed, IChannel channel, string member, int index)
    {
        using (var initialization = new torch.Generator((ulong)seed))
            model.Network.Initialize(initialization);
        var sinceLogged = System.Diagnostics.Stopwatch.StartNew();
        var outcome = VaeTrainingLoop.Train(model, generator => data.Load(model, _options.ValidationFraction, generator), options, seed, record =>
        {
            channel.Info(MessageSensitivity.None, member + DescribeEpoch(record));
            _observers.Epochs?.Report(record);
        }, CheckCancelled, memberProgress =>
        {
            // The models after this one take as long again each.
            int after = options.NumberOfModels - index - 1;
            double memberSeconds = memberProgress.RowsPerSecond > 0 ? memberProgress.RowsPerEpoch * (double)memberProgress.NumberOfEpochs / memberProgress.RowsPerSecond : 0;
            var progress = memberProgress with
            {
                Model = index + 1,
                NumberOfModels = options.NumberOfModels,
                EstimatedTimeLeft = memberProgress.EstimatedTimeLeft + TimeSpan.FromSeconds(after * memberSeconds),
            };
            _observers.Progress?.Report(progress);
            // The log hears from long epochs every 10 s, and at each epoch's end.
            if (sinceLogged.Elapsed >= ProgressLogInterval || progress.RowsDone == progress.RowsPerEpoch)
            {
                channel.Info(MessageSensitivity.None, $"Training: {progress}.");
                sinceLogged.Restart();
            }
        });
        if (KeptWeightsMessage(outcome.History.Count, options.NumberOfEpochs, outcome.BestEpoch) is string kept)
            channel.Info(MessageSensitivity.None, member + kept);
        var trainedWarnings = TrainingDiagnostics.AfterTraining(options, outcome.History, outcome.ReconstructionBaseline).ToList();
        foreach (var warning in trainedWarnings) channel.Warning(MessageSensitivity.None, member + warning.Message);
        data.Calibrate(model);
        return new VaeTrainingSummary(outcome.History, trainedWarnings, outcome.BestEpoch, outcome.ReconstructionBaseline);
    }

    /// <summary>Throws when the host or <see cref="VaeOptions.CancellationToken"/> asks Fit to stop.</summary>
    private void CheckCancelled()
    {
        _host.CheckAlive();
        _observers.Cancellation.ThrowIfCancellationRequested();
    }

    /// <summary>How often a long epoch's progress goes to MLContext.Log.</summary>
    private static readonly TimeSpan ProgressLogInterval = TimeSpan.FromSeconds(10);

    /// <summary>The most training scores a model keeps for its p-values (as quantiles beyond that): 40 KB.</summary>
    private const int MaximumStoredScores = 10_000;

    /// <summary>What to log about the kept weights: early stopping only when epochs were skipped; null when the last epoch's are kept.</summary>
    internal static string? KeptWeightsMessage(int epochsRun, int epochsAsked, int bestEpoch) =>
        epochsRun < epochsAsked ? $"Early stopping after epoch {epochsRun}: kept the weights of epoch {bestEpoch}."
        : bestEpoch < epochsRun ? $"Every epoch ran; kept the weights of epoch {bestEpoch}, the best on validation."
        : null;

    /// <summary>
    /// Refuses training rows that are all the same: a VAE learns nothing from one point, and its scores of that point would
    /// differ by float rounding alone, so the row itself would be flagged or not by chance.
    /// </summary>
    private void RequireVaryingRows(TrainingData data, int width)
    {
        if (data.Moments.ConstantFeatures().Length < width) return;
        string row = string.Join(", ", Enumerable.Range(0, Math.Min(width, 8)).Select(i => data.Moments.Mean(i).ToString("G6", System.Globalization.CultureInfo.InvariantCulture)));
        throw new InvalidOperationException(
            $"All {data.RowCount:N0} training rows of input column '{_options.FeatureColumnName}' are the same ({row}{(width > 8 ? ", ..." : "")}): " +
            "a VAE cannot learn a distribution from one point, and the threshold would separate that row from itself by rounding alone. " +
            "Train on rows that vary; to flag any row that differs from a fixed one, compare with it directly.");
    }

    /// <summary>
    /// Refuses a threshold that is not finite: the training rows' scores overflow float32 (SquaredError in the units of a
    /// feature near 1e19 or beyond), so no row could be told from another.
    /// </summary>
    private static void RequireFiniteThreshold(float threshold, float[] trainingScores, string kind, VaeOptions options)
    {
        if (float.IsFinite(threshold)) return;
        int infinite = trainingScores.Count(s => !float.IsFinite(s));
        string advice = options.ScoreKind == VaeScoreKind.SquaredError && options.Likelihood == VaeLikelihood.Gaussian
            ? "SquaredError adds squared errors in the features' own units: scale the features first (e.g. mlContext.Transforms.NormalizeMeanVariance) " +
              "or use a score kind in standardized units (the default, or ReconstructionError)."
            : "Scale the features first (e.g. mlContext.Transforms.NormalizeMeanVariance) or remove the rows with extreme values.";
        throw new InvalidOperationException(
            $"{infinite:N0} of the {trainingScores.Length:N0} training rows score beyond the float range ({kind}), so the threshold at contamination " +
            $"{options.Contamination:G3} is {threshold} and no row could be told from another. {advice}");
    }

    /// <summary>
    /// Refuses, before any network is built, <paramref name="models"/> networks holding more than
    /// <see cref="VaeNetworkSpec.MaximumParameters"/> weights in all (a model file holds no more).
    /// </summary>
    private static void RequireBuildable(VaeNetworkSpec spec, int models)
    {
        long parameters = ParameterCount(spec);
        long total = parameters > long.MaxValue / models ? long.MaxValue : parameters * models;
        if (total > VaeNetworkSpec.MaximumParameters)
        {
            string each = models > 1 ? $"{models} VAEs {spec.Describe()} would hold {parameters:N0} weights each" : $"A VAE {spec.Describe()} would hold {parameters:N0} weights";
            throw new InvalidOperationException(
                $"{each}, more than the {VaeNetworkSpec.MaximumParameters:N0} the library builds in all " +
                "(training needs four float32 copies of them). For rows this wide use smaller HiddenLayerSizes" + (models > 1 ? " or fewer NumberOfModels" : "") +
                ", or for images the convolutional architecture (VaeArchitecture.Convolutional), or reduce the input first (e.g. mlContext.Transforms.ProjectToPrincipalComponents).");
        }
    }

    private static long ParameterCount(VaeNetworkSpec spec)
    {
        try
        {
            return spec.ParameterCount();
        }
        catch (OverflowException)
        {
            return long.MaxValue;
        }
    }

    /// <summary>
    /// Refuses a Fit that would need more memory than the process can have (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>:
    /// the machine's, or a container's or GCHeapHardLimit's limit): every model's weights and its managed copy for one-row
    /// scoring, the gradients and Adam's two moments of the model in training, the training rows held in memory.
    /// </summary>
    private static void RequireMemory(VaeNetworkSpec spec, int models, TrainingData data)
    {
        long weightBytes = ParameterCount(spec) * sizeof(float);
        long dataBytes = data is TrainingData.InMemory ? data.RowCount * spec.InputWidth * sizeof(float) : 0;
        long needed = weightBytes * (2L * models + 3) + dataBytes;
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (needed > available)
        {
            throw new InvalidOperationException(
                $"Training {models} VAE(s) {spec.Describe()} needs about {needed / (1024.0 * 1024 * 1024):F1} GiB ({weightBytes / (1024.0 * 1024):N0} MiB of weights " +
                $"a model, held several times during training), more than the {available / (1024.0 * 1024 * 1024):F1} GiB this process can use. " +
                "Use smaller HiddenLayerSizes, fewer NumberOfModels, or reduce the input first (e.g. mlContext.Transforms.ProjectToPrincipalComponents).");
        }
    }

    private string DescribeEpoch(VaeEpochRecord e)
    {
        string validation = e.ValidationLoss is double v ? $", validation loss {v:G6}" : "";
        // Not "loss = reconstruction + beta x KL": with free bits or during KL warm-up the minimized loss differs from that sum.
        return $"Epoch {e.Epoch}: loss {e.Loss:G6} (reconstruction {e.Reconstruction:G6}, KL {e.Kl:G6}, beta {e.Beta:G3}){validation}; " +
               $"{e.ActiveUnits}/{e.KlPerDimension.Count} active units, gradient norm {e.GradientNorm:G4}, learning rate {e.LearningRate:G3} ({e.Seconds:F2} s)";
    }

    /// <summary>
    /// The rows in memory when they take at most <see cref="VaeOptions.MaximumInMemoryBytes"/>; otherwise a stream, after a
    /// statistics pass. A view that does not know its row count is read into memory up to the limit first. With
    /// <see cref="VaeOptions.AppendLogOfSkewedFeatures"/>, the skewed features are chosen from the rows (one more pass when
    /// streamed) and the data gives the rows with their logarithms appended.
    /// </summary>
    private (TrainingData Data, LogFeatures? Logs) ReadOrScan(IDataView input, int width, int seed, bool appendLogs)
    {
        long limitRows = _options.MaximumInMemoryBytes / (sizeof(float) * (long)width);
        long rowsRead = 0;
        if (input.GetRowCount() is not long known || known <= limitRows)
        {
            float[]? rows = FeatureColumn.ReadAll(input, _options.FeatureColumnName, width, out int rowCount, CheckCancelled,
                maximumRows: (int)Math.Min(limitRows, int.MaxValue));
            if (rows is not null)
            {
                if (rowCount == 0) throw new InvalidOperationException("Training set has 0 instances, aborting training.");
                if (_options.Likelihood == VaeLikelihood.Bernoulli) FeatureColumn.RequireUnitInterval(rows.AsSpan(0, rowCount * width), width, _options.FeatureColumnName);
                var logs = appendLogs ? LogFeatures.Choose([(rows, rowCount)], width).Logs : null;
                return logs is null
                    ? (new TrainingData.InMemory(rows, rowCount, width, _options.Likelihood), null)
                    : (new TrainingData.InMemory(logs.Expand(rows.AsSpan(0, rowCount * width), rowCount), rowCount, logs.ExpandedWidth, _options.Likelihood), logs);
            }
            // The rows read up to the limit are garbage now, up to MaximumInMemoryBytes of it: give it back before streaming,
            // or the process would hold it beside every block it streams.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            // ReadAll gave up on finding one row more than it may hold.
            rowsRead = Math.Min(limitRows, int.MaxValue) + 1;
        }
        LogFeatures? streamedLogs = null;
        if (appendLogs)
        {
            (streamedLogs, long chosenFrom) = LogFeatures.Choose(
                FeatureColumn.ReadBlocks(input, _options.FeatureColumnName, width, TrainingData.BlockRows(width), CheckCancelled, unitInterval: false), width);
            // The statistics pass must give these rows again.
            rowsRead = Math.Max(rowsRead, chosenFrom);
        }
        return (TrainingData.Streamed.Scan(input, _options.FeatureColumnName, width, _options.Likelihood, seed, CheckCancelled, rowsRead, streamedLogs), streamedLogs);
    }

    /// <summary>The input schema plus the latent vector, score and predicted label columns, with ML.NET's score annotations.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        FeatureColumn.Check(inputSchema, _options.FeatureColumnName);
        return VaeOutputSchema.Shape(inputSchema, _options);
    }
}
