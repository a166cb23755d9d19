using System.Diagnostics;
using MLNet.Vae.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.Vae.Training;

/// <summary>
/// Mini-batch training with Adam on the β-weighted negative ELBO (see <see cref="VaeOptions"/>). Rows are shuffled each
/// epoch and the reparameterization noise is drawn from a generator seeded by the caller, so a seed fixes the result.
/// </summary>
internal static class VaeTrainingLoop
{
    /// <summary>Trains <paramref name="model"/> in place on <paramref name="rows"/> ([n × d], input units) and returns the per-epoch history.</summary>
    public static IReadOnlyList<VaeEpochRecord> Train(VaeModel model, float[] rows, int rowCount, VaeOptions options, long seed,
        Action<VaeEpochRecord>? onEpoch)
    {
        var history = new List<VaeEpochRecord>(options.NumberOfEpochs);
        using var generator = new Generator((ulong)seed);
        using var data = LoadModelSpace(model, rows, rowCount);
        using var optimizer = optim.Adam(model.Network.parameters(), lr: options.LearningRate);
        model.Network.train();
        int batchSize = Math.Min(options.BatchSize, rowCount);
        for (int epoch = 1; epoch <= options.NumberOfEpochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            double reconstructionSum = 0, klSum = 0;
            using var order = randperm(rowCount, generator: generator);
            for (int start = 0, batch = 1; start < rowCount; start += batchSize, batch++)
            {
                using var step = NewDisposeScope();
                int count = Math.Min(batchSize, rowCount - start);
                var x = data.index_select(0, order.narrow(0, start, count));
                var (mean, logVariance) = model.Network.Encode(x);
                var z = mean + (logVariance * 0.5).exp() * randn(mean.shape, generator: generator);
                var reconstruction = VaeObjective.Reconstruction(model.Likelihood, model.Network.Decode(z), x).sum();
                var kl = VaeObjective.KlDivergence(mean, logVariance).sum();
                var loss = (reconstruction + kl * options.Beta) / count;
                double batchReconstruction = reconstruction.item<float>(), batchKl = kl.item<float>();
                if (!double.IsFinite(batchReconstruction) || !double.IsFinite(batchKl))
                    throw Diverged(epoch, batch, batchReconstruction / count, batchKl / count, history, options);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                reconstructionSum += batchReconstruction;
                klSum += batchKl;
            }
            double meanReconstruction = reconstructionSum / rowCount, meanKl = klSum / rowCount;
            var record = new VaeEpochRecord(epoch, meanReconstruction + options.Beta * meanKl, meanReconstruction, meanKl, clock.Elapsed.TotalSeconds);
            history.Add(record);
            onEpoch?.Invoke(record);
        }
        model.Network.eval();
        return history;
    }

    private static Tensor LoadModelSpace(VaeModel model, float[] rows, int rowCount)
    {
        using var scope = NewDisposeScope();
        return model.ToModelSpace(tensor(rows, [rowCount, model.InputWidth])).MoveToOuterDisposeScope();
    }

    private static InvalidOperationException Diverged(int epoch, int batch, double reconstruction, double kl,
        IReadOnlyList<VaeEpochRecord> history, VaeOptions options)
    {
        string lastGood = history.Count == 0
            ? "no epoch finished before it"
            : $"the last finished epoch ({history[^1].Epoch}) had loss {history[^1].Loss:G6} (reconstruction {history[^1].Reconstruction:G6}, KL {history[^1].Kl:G6})";
        return new InvalidOperationException(
            $"VAE training diverged at epoch {epoch}, batch {batch}: reconstruction {reconstruction:G6}, KL {kl:G6} per row; {lastGood}. " +
            $"Lower LearningRate (now {options.LearningRate:G4}), check the scale of the input features (Bernoulli needs values in [0, 1]; " +
            $"very large values call for normalization or the Gaussian likelihood), or lower Beta (now {options.Beta:G4}).");
    }
}
