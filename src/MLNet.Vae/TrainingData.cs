using Microsoft.ML;
using MLNet.Vae.Data;
using MLNet.Vae.Model;
using MLNet.Vae.Training;
using TorchSharp;
using static TorchSharp.torch;

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

    public abstract long RowCount { get; }

    /// <summary>How the rows are held, for the log.</summary>
    public abstract string Description { get; }

    /// <summary>x̃ = (x − m) / s for the Gaussian likelihood, null for Bernoulli.</summary>
    public abstract FeatureStandardization? Standardization { get; }

    public abstract TrainingRows Load(VaeModel model, double validationFraction, Generator generator);

    /// <summary>
    /// Fits the model's calibration of <see cref="VaeScoreKind.ReconstructionAndLatent"/>,
    /// <see cref="VaeScoreKind.ReconstructionAndLatentDensity"/>, <see cref="VaeScoreKind.WeightedReconstructionError"/> and
    /// <see cref="VaeScoreKind.WeightedReconstructionAndLatentNeighbours"/> on the training rows.
    /// </summary>
    public abstract void Calibrate(VaeModel model);

    /// <summary>How many rows, spread evenly, in-memory Fit calibrates the weighted kinds on (<see cref="ScoreKindTraits.UsesFeatureWeights"/>).</summary>
    public const int WeightSampleRows = 8192;

    /// <summary>The training rows' scores: all of them in memory, a uniform sample of up to <see cref="MaximumSampledScores"/> when streamed.</summary>
    public abstract float[] TrainingScores(VaeModel model);

    /// <summary>Rows read once into an array.</summary>
    public sealed class InMemory(float[] rows, int rowCount, int width, VaeLikelihood likelihood) : TrainingData
    {
        public override long RowCount => rowCount;
        public override string Description => "in memory";
        public override FeatureStandardization? Standardization { get; } =
            likelihood == VaeLikelihood.Gaussian ? FeatureStandardization.Fit(rows, rowCount, width) : null;

        public override TrainingRows Load(VaeModel model, double validationFraction, Generator generator) =>
            TrainingRows.InMemory(model, rows, rowCount, validationFraction, generator);

        public override void Calibrate(VaeModel model)
        {
            if (!model.ScoreKind.UsesFeatureWeights())
            {
                model.Calibrate(rows, rowCount, withFeatureWeights: false, withDensity: model.ScoreKind == VaeScoreKind.ReconstructionAndLatentDensity);
                return;
            }
            // The weighted scores need only each feature's spread (and the neighbour kind a few thousand codes), which rows
            // spread evenly over the data measure as well as all of them: a pass over 60,000 images would add a tenth to Fit.
            var (sample, count) = rowCount <= WeightSampleRows ? (rows, rowCount) : (EvenSample(), WeightSampleRows);
            if (model.ScoreKind == VaeScoreKind.WeightedReconstructionAndLatentNeighbours) model.CalibrateNeighbours(sample, count);
            else model.Calibrate(sample, count, withFeatureWeights: true, withDensity: false);
        }

        /// <summary><see cref="WeightSampleRows"/> rows spread evenly over the training rows.</summary>
        private float[] EvenSample()
        {
            var sample = new float[WeightSampleRows * width];
            for (int r = 0; r < WeightSampleRows; r++)
                rows.AsSpan((int)((long)r * rowCount / WeightSampleRows) * width, width).CopyTo(sample.AsSpan(r * width));
            return sample;
        }

        public override float[] TrainingScores(VaeModel model) => model.ScoreRows(rows, rowCount).Scores;
    }

    /// <summary>Rows streamed from the data view in blocks; <see cref="Scan"/> makes one with a first pass.</summary>
    public sealed class Streamed : TrainingData
    {
        private readonly IDataView _data;
        private readonly string _column;
        private readonly int _width;
        private readonly int _blockRows;
        private readonly Action? _checkCancelled;
        private readonly float[] _sample;
        private readonly double _baseline;
        private readonly int _seed;

        private Streamed(IDataView data, string column, int width, Action? checkCancelled, long rowCount, FeatureStandardization? standardization,
            float[] sample, double baseline, int seed)
        {
            _data = data;
            _column = column;
            _width = width;
            _blockRows = Math.Max(1, StreamBlockValues / width);
            _checkCancelled = checkCancelled;
            RowCount = rowCount;
            Standardization = standardization;
            _sample = sample;
            _baseline = baseline;
            _seed = seed;
        }

        public override long RowCount { get; }
        public override string Description => $"streamed in blocks of {_blockRows:N0} rows";
        public override FeatureStandardization? Standardization { get; }

        /// <summary>
        /// The statistics pass: counts the rows, checks every value (finite; in [0, 1] for Bernoulli), sums each feature and
        /// its square for the standardization and the baseline, and draws <see cref="TrainingRows.ActiveUnitSampleRows"/> rows.
        /// </summary>
        /// <exception cref="InvalidOperationException">No rows, a non-finite value, or a Bernoulli value outside [0, 1].</exception>
        public static Streamed Scan(IDataView data, string column, int width, VaeLikelihood likelihood, int seed, Action? checkCancelled)
        {
            var sum = new double[width];
            var sumOfSquares = new double[width];
            var sample = new ReservoirSample<float[]>(TrainingRows.ActiveUnitSampleRows, seed);
            long rows = 0;
            foreach (var (block, count) in FeatureColumn.ReadBlocks(data, column, width, Math.Max(1, StreamBlockValues / width), checkCancelled))
            {
                if (likelihood == VaeLikelihood.Bernoulli) FeatureColumn.RequireUnitInterval(block.AsSpan(0, count * width), width, column, rows);
                for (int r = 0; r < count; r++)
                {
                    var row = block.AsSpan(r * width, width);
                    FeatureStandardization.AddRow(row, sum, sumOfSquares);
                    // Only the kept rows are copied out of the reused block.
                    if (sample.NextSlot() is int slot and >= 0) sample.Set(slot, row.ToArray());
                }
                rows += count;
            }
            if (rows == 0) throw new InvalidOperationException("Training set has 0 instances, aborting training.");
            var standardization = likelihood == VaeLikelihood.Gaussian ? FeatureStandardization.FromMoments(sum, sumOfSquares, rows) : null;
            int varying = Enumerable.Range(0, width).Count(i => FeatureStandardization.Varies(sum[i], sumOfSquares[i], rows));
            double baseline = TrainingRows.MeanPredictionBaseline(likelihood, sum.Select(s => s / rows).ToArray(), varying);
            return new Streamed(data, column, width, checkCancelled, rows, standardization, sample.Items.SelectMany(r => r).ToArray(), baseline, seed);
        }

        public override TrainingRows Load(VaeModel model, double validationFraction, Generator generator) =>
            TrainingRows.Streamed(model, Blocks, RowCount, _sample, _baseline);

        public override void Calibrate(VaeModel model)
        {
            if (model.ScoreKind == VaeScoreKind.WeightedReconstructionAndLatentNeighbours)
            {
                CalibrateNeighbours(model);
                return;
            }
            var pairs = new ReservoirSample<(float Reconstruction, float Kl)>(MaximumSampledScores, _seed + 1);
            var reconstruction = new float[_blockRows];
            var kl = new float[_blockRows];
            var spread = model.ScoreKind == VaeScoreKind.WeightedReconstructionError ? new FeatureTermSpread(_width) : null;
            var means = model.ScoreKind == VaeScoreKind.ReconstructionAndLatentDensity ? new ReservoirSample<float[]>(LatentMixture.MaximumFitRows, _seed + 3) : null;
            VaeModel.LatentMeanSink? sink = means is null ? null : mean =>
            {
                if (means.NextSlot() is int slot and >= 0) means.Set(slot, mean.ToArray());
            };
            foreach (var (block, count) in Blocks())
            {
                model.CalibrationTerms(block, count, reconstruction, kl, spread, sink);
                for (int r = 0; r < count; r++) pairs.Add((reconstruction[r], kl[r]));
            }
            model.Calibration = ScoreCalibration.Fit(pairs.Items.Select(p => p.Reconstruction).ToArray(), pairs.Items.Select(p => p.Kl).ToArray(),
                spread?.Weights());
            if (means is not null) model.FitDensity(means.Items);
        }

        /// <summary>
        /// The neighbour kind calibrates on a uniform sample of the rows, as in-memory Fit does on rows spread evenly: up to
        /// <see cref="WeightSampleRows"/> of them, and at most a block's worth of values (64 MiB) for wide rows.
        /// </summary>
        private void CalibrateNeighbours(VaeModel model)
        {
            var sample = new ReservoirSample<float[]>(Math.Clamp(StreamBlockValues / _width, 2, WeightSampleRows), _seed + 4);
            foreach (var (block, count) in Blocks())
                for (int r = 0; r < count; r++)
                    if (sample.NextSlot() is int slot and >= 0) sample.Set(slot, block.AsSpan(r * _width, _width).ToArray());
            model.CalibrateNeighbours(sample.Items.SelectMany(row => row).ToArray(), sample.Items.Count);
        }

        public override float[] TrainingScores(VaeModel model)
        {
            var scores = new ReservoirSample<float>(MaximumSampledScores, _seed + 2);
            // Buffers of one forward pass, reused: a block's worth of latent vectors would be tens of MB of garbage per block.
            int batchRows = model.ScoringBatchRows;
            var latent = new float[batchRows * model.LatentDimension];
            var batchScores = new float[batchRows];
            foreach (var (block, count) in Blocks())
            {
                for (int start = 0; start < count; start += batchRows)
                {
                    int n = Math.Min(batchRows, count - start);
                    model.Score(model.ScoreKind, block.AsSpan(start * _width, n * _width), n, latent, batchScores);
                    for (int r = 0; r < n; r++) scores.Add(batchScores[r]);
                }
            }
            return scores.Items.ToArray();
        }

        private IEnumerable<(float[] Rows, int Count)> Blocks() => FeatureColumn.ReadBlocks(_data, _column, _width, _blockRows, _checkCancelled);
    }
}
