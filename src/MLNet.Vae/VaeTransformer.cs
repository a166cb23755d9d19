using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNet.Vae.Data;
using MLNet.Vae.Model;
using MLNet.Vae.Persistence;
using MLNet.Vae.Scoring;

// Registers the loader with ML.NET's component catalog: mlContext.Model.Load finds it by its signature and loads this
// assembly by the name recorded in the model (VersionInfo.LoaderAssemblyName), so no registration call is needed.
[assembly: LoadableClass(typeof(MLNet.Vae.VaeTransformer), typeof(MLNet.Vae.VaeTransformer), null, typeof(SignatureLoadModel),
    "Variational autoencoder", MLNet.Vae.Persistence.MLNetModelEntry.LoaderSignature)]

namespace MLNet.Vae;

/// <summary>
/// A fitted variational autoencoder. <see cref="Transform"/> adds three columns to its input:
/// <list type="bullet">
/// <item><description><see cref="VaeOptions.LatentColumnName"/>: the encoder mean μ(x), a vector of <see cref="LatentDimension"/> floats;</description></item>
/// <item><description><see cref="VaeOptions.ScoreColumnName"/>: the anomaly score on one scale for every model,
/// <c>Score = (1/K) Σₖ (sₖ − cₖ) / σₖ</c>, where sₖ is model k's measure of the row (see <see cref="VaeScoreKind"/>, computed
/// from μ(x), so it is deterministic) and cₖ, σₖ the median and robust spread (inter-quartile range / 1.349) of sₖ over the
/// training rows; K = <see cref="VaeOptions.NumberOfModels"/>, usually 1. A typical training row scores about 0. A model
/// loaded from a file written before this scale (format 2) scores s₁ itself;</description></item>
/// <item><description><see cref="VaeOptions.PredictedLabelColumnName"/>: <c>Score &gt; Threshold</c>.</description></item>
/// </list>
/// A row the model cannot judge (NaN or ±∞ in it) scores +∞ and is
/// labelled anomalous, or makes scoring throw: see <see cref="VaeOptions.OutOfDomainInput"/>.
/// The transformer owns native (libtorch) memory: dispose it when done.
/// </summary>
public sealed class VaeTransformer : ITransformer, IDisposable
{
    private readonly IHost _host;
    private readonly VaeOptions _options;
    private readonly VaeEnsemble _models;
    private bool _disposed;
    // The model file, kept when the transformer is disposed: ML.NET's Model.Save truncates its target before it asks the
    // transformer to save, so refusing then would destroy the user's existing file.
    private byte[]? _savedAtDispose;

    internal VaeTransformer(IHostEnvironment env, VaeOptions options, VaeEnsemble models, float threshold, VaeTrainingSummary training)
    {
        _host = env.Register(nameof(VaeTransformer));
        _options = options;
        _models = models;
        Threshold = threshold;
        Training = training;
        // The weights are final from here on: one-row calls (PredictionEngine) may take the managed path over a copy of them.
        _models.PrepareSingleRowScoring();
    }

    /// <summary>A copy of the options the model was trained with.</summary>
    public VaeOptions Options => _options.Clone();

    /// <summary>The width of the feature vector the model was fitted on; <see cref="Transform"/> requires the same.</summary>
    public int InputWidth => _models.InputWidth;

    /// <summary>The size of the latent space.</summary>
    public int LatentDimension => _models.First.LatentDimension;

    /// <summary>The hidden layer widths of the MLP encoder (the decoder mirrors them); empty for the convolutional network.</summary>
    public IReadOnlyList<int> HiddenLayerSizes => _models.First.Network.Spec.HiddenSizes;

    /// <summary>The image shape the model was fitted with (from the options or the column), or null for plain vectors.</summary>
    public VaeImageShape? ImageShape => _models.First.Network.Spec.ImageShape;

    /// <summary>The network's shape for logs and reports: "784-400-20" (MLP) or "conv 1x28x28-32-64-20".</summary>
    public string NetworkDescription => _models.First.Network.Spec.Describe();

    /// <summary>
    /// Rows whose score exceeds this are labelled anomalous. Learned as the (1 − <see cref="VaeOptions.Contamination"/>)
    /// quantile of the training rows' scores.
    /// </summary>
    public float Threshold { get; }

    /// <summary>
    /// What training reported: the per-epoch history (loss terms, KL per dimension, active units, gradient norm, validation
    /// loss, learning rate, β, time), the failure modes detected with what to change, the epoch whose weights are kept and
    /// the mean-prediction baseline.
    /// </summary>
    public VaeTrainingSummary Training { get; }

    /// <summary>The fitted model (the first of an ensemble), for the library's tests and benchmarks.</summary>
    internal VaeModel Model => Ensemble.First;

    /// <summary>Every fitted model and how their scores combine, for the library's tests and benchmarks.</summary>
    internal VaeEnsemble Ensemble
    {
        get
        {
            ThrowIfDisposed();
            return _models;
        }
    }

    /// <summary>How many VAEs score each row: <see cref="VaeOptions.NumberOfModels"/>.</summary>
    public int NumberOfModels => _models.Members.Count;

    /// <summary>
    /// The features j, ascending, whose log(1 + max(x_j, 0)) the VAE sees beside x_j (<see cref="VaeOptions.AppendLogOfSkewedFeatures"/>):
    /// the training rows' features that were never negative, took more than 10 distinct values and had skewness above 2.
    /// Empty when none was, or when the option was off.
    /// </summary>
    public IReadOnlyList<int> SkewedFeatures => _models.Logs is { } logs ? Array.AsReadOnly(logs.Features) : [];

    /// <summary>ML.NET's <c>PredictionEngine</c> scores one row at a time through <see cref="GetRowToRowMapper"/>.</summary>
    public bool IsRowToRowMapper => true;

    /// <summary>
    /// The same model with another threshold (for example a quantile of validation scores). The result is independent
    /// of this transformer (it owns a copy of the weights): dispose both.
    /// </summary>
    public VaeTransformer WithThreshold(float threshold)
    {
        ThrowIfDisposed();
        if (!float.IsFinite(threshold)) throw new ArgumentOutOfRangeException(nameof(threshold), $"The threshold must be finite, got {threshold}.");
        return new VaeTransformer(_host, _options, _models.Clone(), threshold, Training);
    }

    /// <summary>
    /// The same model with the threshold calibrated on rows known to be normal, for a target false-positive rate: the
    /// (1 − <paramref name="falsePositiveRate"/>) quantile of their scores, so that about that fraction of such rows is
    /// flagged, with no guess of the training data's contamination. The result owns a copy of the weights: dispose both.
    /// </summary>
    /// <param name="normalRows">Rows known to be normal, with the feature column (a few hundred or more for a stable quantile).</param>
    /// <param name="falsePositiveRate">The fraction of normal rows to flag, in (0, 0.5].</param>
    /// <exception cref="ArgumentOutOfRangeException">The rate is outside (0, 0.5].</exception>
    /// <exception cref="InvalidOperationException">There are no rows, or so many rows the model cannot judge that the quantile is infinite.</exception>
    public VaeTransformer WithFalsePositiveRate(IDataView normalRows, double falsePositiveRate)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(normalRows);
        if (!(falsePositiveRate > 0 && falsePositiveRate <= 0.5))
            throw new ArgumentOutOfRangeException(nameof(falsePositiveRate), $"falsePositiveRate must be in (0, 0.5], got {falsePositiveRate}.");
        var scores = Transform(normalRows).GetColumn<float>(_options.ScoreColumnName).ToArray();
        if (scores.Length == 0) throw new InvalidOperationException("The normal rows for calibration hold 0 instances.");
        float threshold = ScoreThreshold.FromContamination(scores, falsePositiveRate);
        if (!float.IsFinite(threshold))
            throw new InvalidOperationException(
                $"More than {falsePositiveRate:P1} of the normal rows score +Infinity (they hold NaN, infinity or values outside the model's domain): clean them first.");
        return WithThreshold(threshold);
    }

    /// <inheritdoc />
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ThrowIfDisposed();
        return OutputSchemaFor(inputSchema).Output;
    }

    /// <summary>A lazy view of <paramref name="input"/> with the three output columns; scoring happens as its cursors move.</summary>
    public IDataView Transform(IDataView input)
    {
        ThrowIfDisposed();
        return new VaeScoringView(input, OutputSchemaFor(input.Schema), _models, ScoringSettings);
    }

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ThrowIfDisposed();
        return new VaeRowMapper(OutputSchemaFor(inputSchema), _models, ScoringSettings);
    }

    private ScoringSettings ScoringSettings => new(Threshold, _options.OutOfDomainInput, _options.FeatureColumnName, Training.TrainingScores);

    private VaeOutputSchema OutputSchemaFor(DataViewSchema inputSchema) =>
        new(inputSchema, _options, _models.InputWidth, _models.LatentDimension);

    /// <summary>
    /// Encodes each row to μ(x) and decodes it: the mean of p(x | z = μ(x)) in the input's units
    /// (σ(logits) for Bernoulli; m + s · μ̃ for Gaussian). For an ensemble, with its first model, whose latent space the
    /// latent column shows.
    /// </summary>
    public float[][] Reconstruct(IReadOnlyList<float[]> rows)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0) return [];
        return Split(_models.Reconstruct(ToMatrix(rows), rows.Count), rows.Count);
    }

    /// <summary>
    /// Each feature's share of each row's reconstruction error, [rows][features]: (x̃ᵢ − μ̃ᵢ)² (Gaussian) or
    /// BCE(xᵢ, pᵢ) − H(xᵢ) (Bernoulli), summing to the row's reconstruction error (for the weighted score kinds, each times its
    /// weight); +∞ for a value the model cannot judge. For an ensemble, the mean of its models' terms (all work in the same standardized units).
    /// The same values as the column <see cref="VaeOptions.FeatureScoresColumnName"/>.
    /// </summary>
    public float[][] FeatureScores(IReadOnlyList<float[]> rows)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0) return [];
        var matrix = ToMatrix(rows);
        var terms = new float[matrix.Length];
        int batch = _models.ScoringBatchRows;
        var latent = new float[(long)batch * LatentDimension];
        var scores = new float[batch];
        for (int start = 0; start < rows.Count; start += batch)
        {
            int n = Math.Min(batch, rows.Count - start);
            _models.Score(matrix.AsSpan(start * InputWidth, n * InputWidth), n, latent, scores, terms.AsSpan(start * InputWidth, n * InputWidth));
        }
        return Split(terms, rows.Count);
    }

    /// <summary>The most values <see cref="Generate"/> returns in one call: 2²⁸ floats, 1 GiB.</summary>
    public const long MaximumGeneratedValues = 1L << 28;

    /// <summary>
    /// Generates <paramref name="count"/> new rows: draws z ~ N(0, I) with <paramref name="seed"/> and returns the decoded
    /// mean in the input's units (pixel intensities in [0, 1] for Bernoulli). The same seed gives the same rows. For an
    /// ensemble, with its first model.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive, or the rows would hold more than
    /// <see cref="MaximumGeneratedValues"/> values (generate them in several calls, with different seeds).</exception>
    public float[][] Generate(int count, int seed = 0)
    {
        ThrowIfDisposed();
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), $"count must be positive, got {count}.");
        if ((long)count * InputWidth > MaximumGeneratedValues)
            throw new ArgumentOutOfRangeException(nameof(count),
                $"count {count:N0} asks for {(long)count * InputWidth:N0} values ({InputWidth:N0} a row), more than the {MaximumGeneratedValues:N0} (1 GiB) one call " +
                $"returns: generate at most {MaximumGeneratedValues / InputWidth:N0} rows a call, with a different seed each time.");
        return Split(_models.Generate(count, seed), count);
    }

    /// <summary>
    /// Walks the latent space from one row to another: decodes zₜ = (1 − t) μ(<paramref name="from"/>) + t μ(<paramref name="to"/>)
    /// for <paramref name="steps"/> evenly spaced t in [0, 1], ends included, as means in the input's units.
    /// </summary>
    public float[][] Interpolate(float[] from, float[] to, int steps)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        if (from.Length != InputWidth) throw new ArgumentException($"'from' has {from.Length} values; the model was fitted on {InputWidth}.", nameof(from));
        if (to.Length != InputWidth) throw new ArgumentException($"'to' has {to.Length} values; the model was fitted on {InputWidth}.", nameof(to));
        if (steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), $"steps must be at least 2, got {steps}.");
        return Split(_models.Interpolate(from, to, steps), steps);
    }

    /// <summary>The rows as one row-major matrix; throws naming the first row whose width is not the model's.</summary>
    private float[] ToMatrix(IReadOnlyList<float[]> rows)
    {
        var matrix = new float[(long)rows.Count * InputWidth];
        for (int r = 0; r < rows.Count; r++)
        {
            if (rows[r] is null || rows[r].Length != InputWidth)
                throw new ArgumentException($"Row {r} has {rows[r]?.Length.ToString() ?? "no"} values; the model was fitted on {InputWidth}.", nameof(rows));
            rows[r].CopyTo(matrix, (long)r * InputWidth);
        }
        return matrix;
    }

    private float[][] Split(float[] matrix, int rows)
    {
        var result = new float[rows][];
        for (int r = 0; r < rows; r++) result[r] = matrix.AsSpan(r * InputWidth, InputWidth).ToArray();
        return result;
    }

    /// <summary>
    /// Writes the model (weights, options, standardization, threshold, history) to <paramref name="path"/>. The file is
    /// written under a temporary name of this call's own in the same folder and moved over the target only when complete:
    /// a failed save leaves the existing file as it was and no stray file, and concurrent saves to one path each write a
    /// whole file (the last move wins).
    /// </summary>
    public void Save(string path)
    {
        ThrowIfDisposed();
        string full = Path.GetFullPath(path);
        string temporary = $"{full}.{Guid.NewGuid():N}.saving";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
                Save(stream);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Writes the model to <paramref name="stream"/> in the format described in docs/persistence.md.</summary>
    public void Save(Stream stream)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(stream);
        using var leases = _models.LeaseAll();
        VaeModelFile.Write(stream, _options, _models, Threshold, Training);
    }

    private byte[] Serialize()
    {
        using var leases = _models.LeaseAll();
        return VaeModelFile.ToBytes(_options, _models, Threshold, Training);
    }

    /// <summary>Loads a model saved with <see cref="Save(string)"/>; it scores exactly as the saved one did.</summary>
    /// <exception cref="InvalidDataException">The file is not a model, is damaged, or comes from a newer format.</exception>
    public static VaeTransformer Load(MLContext mlContext, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
            throw new ArgumentException($"'{path}' is a directory, not a model file.", nameof(path));
        using var stream = File.OpenRead(path);
        return Load(mlContext, stream);
    }

    /// <summary>Loads a model saved with <see cref="Save(Stream)"/>.</summary>
    public static VaeTransformer Load(MLContext mlContext, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return Load((IHostEnvironment)mlContext, stream);
    }

    internal static VaeTransformer Load(IHostEnvironment env, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var saved = VaeModelFile.Read(stream);
        return new VaeTransformer(env, saved.Options, saved.Models, saved.Threshold, saved.Training);
    }

    /// <summary>
    /// ML.NET's loader (found through the <see cref="LoadableClassAttribute"/> on this assembly, by
    /// <see cref="MLNetModelEntry.LoaderSignature"/>): reads the entry <see cref="Save(Stream)"/> wrote.
    /// </summary>
    private static VaeTransformer Create(IHostEnvironment env, ModelLoadContext context)
    {
        ArgumentNullException.ThrowIfNull(env);
        return MLNetModelEntry.Read(context, stream => Load(env, stream));
    }

    /// <summary>
    /// Lets <c>mlContext.Model.Save</c> store this transformer, alone or inside a pipeline; <c>mlContext.Model.Load</c>
    /// reads it back with no registration call. The entry holds the same format as <see cref="Save(Stream)"/>.
    /// </summary>
    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        MLNetModelEntry.Save(ctx, Volatile.Read(ref _savedAtDispose) ?? Serialize());
    }

    /// <summary>
    /// Frees the network's native memory once the calls already running return; later calls throw
    /// <see cref="ObjectDisposedException"/>. A pipeline holding the transformer can still be saved with
    /// <c>mlContext.Model.Save</c>: the model file's bytes (the size of the weights) are kept for it.
    /// </summary>
    public void Dispose()
    {
        lock (_models)
        {
            if (_disposed) return;
            try
            {
                _savedAtDispose = Serialize();
            }
            catch (Exception e) when (e is OutOfMemoryException or IOException)
            {
                // Dispose must free memory whatever happens; only a later mlContext.Model.Save of this transformer then fails.
            }
            _disposed = true;
        }
        _models.Dispose();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
