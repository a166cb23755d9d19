using MLNet.Vae.Model;
using MLNet.Vae.Tensors;
using static TorchSharp.torch;
using MLNet.Vae.Scoring;

namespace MLNet.Vae.Benchmarks;

/// <summary>Measurements the library itself does not need: every score kind of one model, and the sampled test ELBO.</summary>
internal static class BenchmarkScores
{
    private const int BatchRows = 1000;

    /// <summary>The scores of <paramref name="count"/> rows under <paramref name="kind"/> (calibrated for the model), whatever kind it was fitted with.</summary>
    public static float[] Score(VaeModel model, ScoreKindModel kind, float[] rows, int count) => ScoreWithLatent(model, kind, rows, count).Scores;

    /// <summary>As <see cref="Score(VaeModel, ScoreKindModel, float[], int)"/>, with the latent means [count × L].</summary>
    public static (float[] Scores, float[] Latent) ScoreWithLatent(VaeModel model, ScoreKindModel kind, float[] rows, int count)
    {
        var latent = new float[count * model.LatentDimension];
        var scores = new float[count];
        for (int start = 0; start < count; start += BatchRows)
        {
            int n = Math.Min(BatchRows, count - start);
            model.Score(kind, rows.AsSpan(start * model.InputWidth, n * model.InputWidth), n,
                latent.AsSpan(start * model.LatentDimension, n * model.LatentDimension), scores.AsSpan(start, n));
        }
        return (scores, latent);
    }

    /// <summary>
    /// The scores of <paramref name="count"/> rows under <paramref name="kind"/> for a model or an ensemble, each member's kind
    /// calibrated on the training rows: an ensemble's is the mean of its members' scores standardized by their median and
    /// robust scale on the training rows, as <see cref="VaeEnsemble.Score"/> combines the kind it was fitted with.
    /// </summary>
    public static float[] Score(VaeEnsemble models, VaeScoreKind kind, float[] trainRows, int trainCount, float[] rows, int count)
    {
        var combined = new float[count];
        foreach (var member in models.Members)
        {
            var memberKind = ScoreCalibrator.Calibrated(member, kind, trainRows, trainCount);
            var scores = Score(member, memberKind, rows, count);
            if (models.Members.Count == 1) return scores;
            var scale = MemberScale.Fit(Score(member, memberKind, trainRows, trainCount));
            for (int r = 0; r < count; r++) combined[r] += (scores[r] - scale.Center) / scale.Scale / models.Members.Count;
        }
        return combined;
    }

    /// <summary>
    /// The single-sample negative ELBO per row, reconstruction(x, decoder(z)) + KL with z = μ + σ ⊙ ε, ε drawn from
    /// <paramref name="generator"/>: the estimate pytorch/examples reports as its test loss.
    /// </summary>
    public static float[] SampledNegativeElbo(VaeModel model, ReadOnlySpan<float> rows, int count, Generator generator)
    {
        using var lease = model.Lease();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.Network.eval();
        var x = model.ToModelSpace(TensorCopy.FromRows(rows, count, model.InputWidth));
        var (mean, logVariance) = model.Network.Encode(x);
        var z = VaeObjective.Reparameterize(mean, logVariance, generator);
        var elbo = VaeObjective.Reconstruction(model.Likelihood, model.Network.Decode(z), x).add(VaeObjective.Kl(model.Network, z, mean, logVariance), Scalars.One);
        return TensorCopy.ToArray(elbo);
    }
}
