using Microsoft.ML;
using MLNet.Vae.Data;
using MLNet.Vae.Model;
using MLNet.Vae.Training;
using TorchSharp;
using static TorchSharp.torch;
using MLNet.Vae.Scoring;

namespace MLNet.Vae;

/// <summary>
/// What <see cref="VaeEstimator.Fit"/> trains on: the feature rows held in memory, or, above
/// <see cref="VaeOptions.MaximumInMemoryBytes"/>, a stream of them read again for each pass. Either way it gives the row
/// count, the standardization, the rows for the training loop, the calibration and the training rows' scores.
/// </summary>
internal abstract class TrainingData
{
    /// <summary>The most scores (and calibration pairs) kept from a stream, a uniform sample of its rows: 4 MB.</summary>
    public const int MaximumSampledScores = 1_000_000;
    /// <summary>Values per streamed block: 64 MiB of float32, whatever the width.</summary>
    public const int StreamBlockValues = 1 << 24;

    /// <summary>Rows per streamed block for rows of <paramref name="width"/> values.</summary>
    public static int BlockRows(int width) => Math.Max(1, StreamBlockValues / width);

    public abstract long RowCount { get; }

    /// <summary>How the rows are held, for the log.</summary>
    public abstract string Description { get; }

    /// <summary>Each feature's sums over the training rows.</summary>
    public abstract FeatureMoments Moments { get; }

    /// <summary>x̃ = (x − m) / s for the Gaussian likelihood, null for Bernoulli.</summary>
    public abstract FeatureStandardization? Standardization { get; }

    public abstract TrainingRows Load(VaeModel model, double validationFraction, Generator generator);

    /// <summary>
    /// Calibrates the model's score kind on the training rows (<see cref="ScoreCalibrator"/>: the same sample rule in memory
    /// and streamed), when the kind needs it.
    /// </summary>
    public abstract void Calibrate(VaeModel model);

    /// <summary>
    /// Each model's scores of the training rows, row-aligned (entry r of every array is the same row, so an ensemble's scores
    /// combine row by row): all of them in memory; when streamed, a uniform sample of up to <see cref="MaximumSampledScores"/>
    /// rows, every model scoring each row in one pass, so that the alignment holds whatever order the source gives its rows in.
    /// </summary>
    public abstract float[][] TrainingScores(IReadOnlyList<VaeModel> models);

    /// <summary>Rows read once into an array.</summary>
    public sealed class InMemory : TrainingData
    {
        private readonly float[] rows;
        private readonly int rowCount;
        private readonly int width;

        public InMemory(float[] rows, int rowCount, int width, VaeLikelihood likelihood)
        {
            this.rows = rows;
            this.rowCount = rowCount;
            this.width = width;
            Moments = new FeatureMoments(width);
            Moments.Add(rows, rowCount);
            Standardization = likelihood == VaeLikelihood.Gaussian ? Moments.Standardization() : null;
        }

        public override long RowCount => rowCount;
        public override string Description => "in memory";
        public override FeatureMoments Moments { get; }
        public override FeatureStandardization? Standardization { get; }

        public override TrainingRows Load(VaeModel model, double validationFraction, Generator generator) =>
            TrainingRows.InMemory(model, rows, rowCount, validationFraction, generator);

        public override void Calibrate(VaeModel model) => ScoreCalibrator.Calibrate(model, [(rows, rowCount)], rowCount);

        public override float[][] TrainingScores(IReadOnlyList<VaeModel> models) => models.Select(m => m.ScoreRows(rows, rowCount).Scores).ToArray();
    }

    /// <summary>
    /// Rows streamed from the data view in blocks; <see cref="Scan"/> makes one with a first pass. Every later pass checks
    /// each value again (finite; in [0, 1] for Bernoulli) and ends by comparing its rows with the first pass's
    /// (<see cref="RowFingerprint"/>: the count and a hash of the rows in any order), so a source that changes between passes
    /// stops Fit with a message instead of training or scoring on other rows. Nothing depends on the order of the rows.
    /// </summary>
    public sealed class Streamed : TrainingData
    {
        private readonly IDataView _data;
        private readonly string _column;
        // The column's width, and the width of the rows given out: wider when logarithms are appended.
        private readonly int _width;
        private readonly LogFeatures? _logs;
        private readonly int _modelWidth;
        private readonly bool _unitInterval;
        private readonly Action? _checkCancelled;
        private readonly RowFingerprint _fingerprint;
        private readonly float[] _sample;
        private readonly double _baseline;
        private readonly int _seed;
        private int _passes = 1;

        private Streamed(IDataView data, string column, int width, LogFeatures? logs, VaeLikelihood likelihood, Action? checkCancelled, RowFingerprint fingerprint,
            FeatureMoments moments, float[] sample, int seed)
        {
            _data = data;
            _column = column;
            _width = width;
            _logs = logs;
            _modelWidth = logs?.ExpandedWidth ?? width;
            _unitInterval = likelihood == VaeLikelihood.Bernoulli;
            _checkCancelled = checkCancelled;
            _fingerprint = fingerprint;
            Moments = moments;
            Standardization = likelihood == VaeLikelihood.Gaussian ? moments.Standardization() : null;
            _sample = sample;
            int varying = Enumerable.Range(0, _modelWidth).Count(moments.Varies);
            _baseline = TrainingRows.MeanPredictionBaseline(likelihood, moments.Means(), varying);
            _seed = seed;
        }

        public override long RowCount => _fingerprint.Rows;
        public override string Description => $"streamed in blocks of {BlockRows(_modelWidth):N0} rows";
        public override FeatureMoments Moments { get; }
        public override FeatureStandardization? Standardization { get; }

        /// <summary>
        /// The statistics pass: counts the rows, checks every value (finite; in [0, 1] for Bernoulli), sums each feature and
        /// its square for the standardization and the baseline, fingerprints the rows and draws
        /// <see cref="TrainingRows.ActiveUnitSampleRows"/> of them.
        /// </summary>
        /// <remarks>
        /// <paramref name="rowsReadBefore"/>: how many rows an earlier read of the source found (Fit tries to hold data of unknown
        /// size in memory first), or 0; this pass must give at least as many.
        /// </remarks>
        /// <exception cref="InvalidOperationException">No rows, a non-finite value, or a Bernoulli value outside [0, 1].</exception>
        public static Streamed Scan(IDataView data, string column, int width, VaeLikelihood likelihood, int seed, Action? checkCancelled, long rowsReadBefore = 0,
            LogFeatures? logs = null)
        {
            int modelWidth = logs?.ExpandedWidth ?? width;
            var moments = new FeatureMoments(modelWidth);
            var fingerprint = new RowFingerprint();
            var sample = new ReservoirSample<float[]>(TrainingRows.ActiveUnitSampleRows, seed);
            foreach (var (block, count) in Read(data, column, width, logs, likelihood == VaeLikelihood.Bernoulli, checkCancelled))
            {
                moments.Add(block, count);
                fingerprint.Add(block, count, modelWidth);
                // Only the kept rows are copied out of the reused block.
                for (int r = 0; r < count; r++)
                    if (sample.NextSlot() is int slot and >= 0) sample.Set(slot, block.AsSpan(r * modelWidth, modelWidth).ToArray());
            }
            if (fingerprint.Rows < rowsReadBefore)
                throw Changed(column, width, 1, "the statistics pass", $"{fingerprint.Rows:N0} rows where an earlier read found at least {rowsReadBefore:N0}", rowsReadBefore);
            if (fingerprint.Rows == 0) throw new InvalidOperationException("Training set has 0 instances, aborting training.");
            return new Streamed(data, column, width, logs, likelihood, checkCancelled, fingerprint, moments, sample.Items.SelectMany(r => r).ToArray(), seed);
        }

        /// <summary>
        /// The column's rows in blocks of <see cref="StreamBlockValues"/> values (checked as <see cref="FeatureColumn.ReadBlocks"/>
        /// checks them), with the logarithms appended when <paramref name="logs"/> is set. Blocks are reused: copy what is kept.
        /// </summary>
        private static IEnumerable<(float[] Rows, int Count)> Read(IDataView data, string column, int width, LogFeatures? logs, bool unitInterval, Action? checkCancelled)
        {
            int blockRows = BlockRows(logs?.ExpandedWidth ?? width);
            float[]? expanded = logs is null ? null : new float[blockRows * logs.ExpandedWidth];
            foreach (var (block, count) in FeatureColumn.ReadBlocks(data, column, width, blockRows, checkCancelled, unitInterval))
            {
                if (logs is null)
                {
                    yield return (block, count);
                    continue;
                }
                logs.Expand(block, count, expanded);
                yield return (expanded!, count);
            }
        }

        public override TrainingRows Load(VaeModel model, double validationFraction, Generator generator) =>
            TrainingRows.Streamed(model, () => Blocks("a training epoch"), RowCount, _sample, _baseline);

        public override void Calibrate(VaeModel model) => ScoreCalibrator.Calibrate(model, Blocks("the calibration"), RowCount);

        public override float[][] TrainingScores(IReadOnlyList<VaeModel> models)
        {
            // One sample of rows for every model: slot s holds the same row's score in each model's array.
            var slots = new ReservoirSample<int>((int)Math.Min(MaximumSampledScores, RowCount), _seed + 2);
            int width = _modelWidth;
            var scores = models.Select(_ => new float[slots.Capacity]).ToArray();
            // Buffers of one forward pass, reused: a block's worth of latent vectors would be tens of MB of garbage per block.
            int batchRows = models[0].ScoringBatchRows;
            var latent = new float[batchRows * models[0].LatentDimension];
            var batchScores = new float[models.Count][];
            for (int k = 0; k < models.Count; k++) batchScores[k] = new float[batchRows];
            foreach (var (block, count) in Blocks("the scoring of the training rows"))
            {
                for (int start = 0; start < count; start += batchRows)
                {
                    int n = Math.Min(batchRows, count - start);
                    for (int k = 0; k < models.Count; k++)
                        models[k].Score(block.AsSpan(start * width, n * width), n, latent, batchScores[k]);
                    for (int r = 0; r < n; r++)
                    {
                        if (slots.NextSlot() is not (int slot and >= 0)) continue;
                        for (int k = 0; k < models.Count; k++) scores[k][slot] = batchScores[k][r];
                    }
                }
            }
            return scores.Select(s => s[..slots.Items.Count]).ToArray();
        }

        /// <summary>One more pass over the data, for <paramref name="purpose"/>, checked against the first (see the type's summary).</summary>
        private IEnumerable<(float[] Rows, int Count)> Blocks(string purpose)
        {
            int pass = ++_passes;
            var fingerprint = new RowFingerprint();
            foreach (var (block, count) in Read(_data, _column, _width, _logs, _unitInterval, _checkCancelled))
            {
                fingerprint.Add(block, count, _modelWidth);
                if (fingerprint.Rows > RowCount) throw Changed(pass, purpose, $"more than the {RowCount:N0} rows of the first pass");
                yield return (block, count);
            }
            if (fingerprint.Rows != RowCount) throw Changed(pass, purpose, $"{fingerprint.Rows:N0} rows where the first pass gave {RowCount:N0}");
            if (!fingerprint.Equals(_fingerprint)) throw Changed(pass, purpose, $"other rows than the first pass (the same count, {RowCount:N0}, but other values)");
        }

        private InvalidOperationException Changed(int pass, string purpose, string what) => Changed(_column, _width, pass, purpose, what, RowCount);

        private static InvalidOperationException Changed(string column, int width, int pass, string purpose, string what, long rows) => new(
            $"Input column '{column}' gave {what} in pass {pass} over the data ({purpose}). Fit streams data above MaximumInMemoryBytes " +
            $"({rows:N0} rows or more of {width:N0} features) and reads it once per epoch, so the source must give the same rows every time it is read " +
            "(in any order): a read-once enumerable, or a query over a table that changes, cannot be streamed. Save the rows first " +
            "(e.g. mlContext.Data.SaveAsBinary, then mlContext.Data.LoadFromBinary), or raise MaximumInMemoryBytes so that Fit reads them once.");
    }
}
