using MLNet.Vae.Model;
using MLNet.Vae.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.Vae.Training;

/// <summary>
/// The rows training learns from, in the network's space: the mini-batches of each epoch, the sample the active units are
/// counted on, the validation rows, and the reconstruction of the mean-predicting baseline (see <see cref="TrainingOutcome"/>).
/// Two kinds: <see cref="InMemory"/> (one tensor, shuffled as a whole each epoch) and <see cref="Streamed"/> (read from the
/// data again each epoch in blocks, shuffled within each block).
/// </summary>
internal abstract class TrainingRows : IDisposable
{
    /// <summary>Up to this many rows are drawn for counting active units.</summary>
    public const int ActiveUnitSampleRows = 2048;
    // The mean-prediction baseline's probabilities stay inside (0, 1), so its BCE is finite.
    private const double ProbabilityFloor = 1e-6;

    /// <summary>Training rows per epoch.</summary>
    public abstract long Count { get; }

    /// <summary>Up to <see cref="ActiveUnitSampleRows"/> training rows drawn at random.</summary>
    public abstract Tensor ActiveUnitSample { get; }

    /// <summary>Held-out rows for the validation loss, or null.</summary>
    public abstract Tensor? Validation { get; }

    /// <summary>Reconstruction per row of predicting each feature's training mean.</summary>
    public abstract double ReconstructionBaseline { get; }

    /// <summary>
    /// One epoch's mini-batches of at most <paramref name="batchSize"/> rows, in an order drawn from
    /// <paramref name="generator"/>. The caller disposes each batch.
    /// </summary>
    public abstract IEnumerable<Tensor> Batches(int batchSize, Generator generator);

    public abstract void Dispose();

    /// <summary>The rows of a row-major array, split after a seeded shuffle into training and validation rows.</summary>
    public static TrainingRows InMemory(VaeModel model, float[] rows, int rowCount, double validationFraction, Generator generator) =>
        new InMemoryRows(model, rows, rowCount, validationFraction, generator);

    /// <summary>
    /// Rows read again at every epoch through <paramref name="readBlocks"/> (each call a new pass over the data, blocks valid
    /// until the next), with what one earlier pass gathered: <paramref name="count"/> rows, a random <paramref name="sample"/>
    /// of them (row-major, input units) and the <paramref name="reconstructionBaseline"/> (<see cref="MeanPredictionBaseline"/>).
    /// </summary>
    public static TrainingRows Streamed(VaeModel model, Func<IEnumerable<(float[] Rows, int Count)>> readBlocks, long count, float[] sample,
        double reconstructionBaseline) => new StreamedRows(model, readBlocks, count, sample, reconstructionBaseline);

    /// <summary>
    /// The in-memory rows' baseline from the feature means alone: BCE is linear in x, so its mean over the rows is
    /// −Σᵢ (mᵢ log pᵢ + (1 − mᵢ) log(1 − pᵢ)) with pᵢ = mᵢ clamped into (0, 1); standardized Gaussian features have variance 1
    /// (0 for constant ones), so ½ Σᵢ Var(x̃ᵢ) is half the number of <paramref name="varyingFeatures"/>.
    /// </summary>
    public static double MeanPredictionBaseline(VaeLikelihood likelihood, IReadOnlyList<double> featureMean, int varyingFeatures)
    {
        if (likelihood != VaeLikelihood.Bernoulli) return 0.5 * varyingFeatures;
        double sum = 0;
        foreach (double m in featureMean)
        {
            double p = Math.Clamp(m, ProbabilityFloor, 1 - ProbabilityFloor);
            sum -= m * Math.Log(p) + (1 - m) * Math.Log(1 - p);
        }
        return sum;
    }

    private sealed class InMemoryRows : TrainingRows
    {
        private readonly Tensor _train;
        private readonly Tensor? _validation;
        private readonly Tensor _sample;

        public InMemoryRows(VaeModel model, float[] rows, int rowCount, double validationFraction, Generator generator)
        {
            using (var scope = NewDisposeScope())
            {
                // Over the caller's array, not a copy of it (the Bernoulli model space is the input itself): the rows are held once.
                var all = model.ToModelSpace(TensorCopy.Wrap(rows, rowCount, model.InputWidth));
                int validationCount = VaeTrainingLoop.ValidationRowCount(rowCount, validationFraction);
                if (validationCount == 0)
                {
                    _train = all.MoveToOuterDisposeScope();
                }
                else
                {
                    var order = randperm(rowCount, generator: generator);
                    _train = all.index_select(0, order.narrow(0, 0, rowCount - validationCount)).MoveToOuterDisposeScope();
                    _validation = all.index_select(0, order.narrow(0, rowCount - validationCount, validationCount)).MoveToOuterDisposeScope();
                }
            }
            // Active units are counted on a fixed random sample: the first rows of sorted data would bias the count.
            if (_train.shape[0] <= ActiveUnitSampleRows)
            {
                _sample = _train.alias();
            }
            else
            {
                using var order = randperm(_train.shape[0], generator: generator);
                using var chosen = order.narrow(0, 0, ActiveUnitSampleRows);
                _sample = _train.index_select(0, chosen);
            }
            ReconstructionBaseline = Baseline(model, _train);
        }

        public override long Count => _train.shape[0];
        public override Tensor ActiveUnitSample => _sample;
        public override Tensor? Validation => _validation;
        public override double ReconstructionBaseline { get; }

        public override IEnumerable<Tensor> Batches(int batchSize, Generator generator)
        {
            using var order = randperm(Count, generator: generator);
            for (long start = 0; start < Count; start += batchSize)
            {
                using var indices = order.narrow(0, start, Math.Min(batchSize, Count - start));
                yield return _train.index_select(0, indices);
            }
        }

        public override void Dispose()
        {
            _train.Dispose();
            _validation?.Dispose();
            _sample.Dispose();
        }

        private static double Baseline(VaeModel model, Tensor rows)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var featureMean = rows.mean([0], keepdim: true);
            // BCE is linear in x: the closed form from the means alone, without a pass of two logarithms over every value
            // (0.65 s of a 7.5 s Fit for 60,000 images).
            if (model.Likelihood == VaeLikelihood.Bernoulli)
                return MeanPredictionBaseline(VaeLikelihood.Bernoulli, TensorCopy.ToArray(featureMean).Select(m => (double)m).ToArray(), varyingFeatures: 0);
            double sum = 0;
            for (long start = 0; start < rows.shape[0]; start += VaeTrainingLoop.EvaluationBatchRows)
            {
                using var batchScope = NewDisposeScope();
                var x = rows.narrow(0, start, Math.Min(VaeTrainingLoop.EvaluationBatchRows, rows.shape[0] - start));
                sum += VaeObjective.Reconstruction(VaeLikelihood.Gaussian, featureMean.expand(x.shape), x).sum().item<float>();
            }
            return sum / rows.shape[0];
        }
    }

    private sealed class StreamedRows : TrainingRows
    {
        private readonly VaeModel _model;
        private readonly Func<IEnumerable<(float[] Rows, int Count)>> _readBlocks;
        private readonly Tensor _sample;

        public StreamedRows(VaeModel model, Func<IEnumerable<(float[] Rows, int Count)>> readBlocks, long count, float[] sample, double reconstructionBaseline)
        {
            _model = model;
            _readBlocks = readBlocks;
            Count = count;
            using (var scope = NewDisposeScope())
                _sample = model.ToModelSpace(TensorCopy.FromRows(sample, sample.Length / model.InputWidth, model.InputWidth)).DetachFromDisposeScope();
            ReconstructionBaseline = reconstructionBaseline;
        }

        public override long Count { get; }
        public override Tensor ActiveUnitSample => _sample;
        public override Tensor? Validation => null;
        public override double ReconstructionBaseline { get; }

        public override IEnumerable<Tensor> Batches(int batchSize, Generator generator)
        {
            foreach (var (rows, count) in _readBlocks())
            {
                Tensor block, order;
                using (var scope = NewDisposeScope())
                {
                    block = _model.ToModelSpace(TensorCopy.FromRows(rows, count, _model.InputWidth)).DetachFromDisposeScope();
                    order = randperm(count, generator: generator).DetachFromDisposeScope();
                }
                try
                {
                    for (int start = 0; start < count; start += batchSize)
                    {
                        using var indices = order.narrow(0, start, Math.Min(batchSize, count - start));
                        yield return block.index_select(0, indices);
                    }
                }
                finally
                {
                    block.Dispose();
                    order.Dispose();
                }
            }
        }

        public override void Dispose() => _sample.Dispose();
    }
}
