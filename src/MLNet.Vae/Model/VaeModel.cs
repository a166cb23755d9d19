using System.Buffers;
using System.Numerics;
using MLNet.Vae.Tensors;
using MLNet.Vae.Network;
using TorchSharp;
using static TorchSharp.torch;
using MLNet.Vae.Scoring;
using MLNet.Vae.Kernels;

namespace MLNet.Vae.Model;

/// <summary>
/// The fitted VAE without any ML.NET around it: the network, the likelihood, the input standardization and the score
/// kind. Works on row-major float arrays; every call runs in its own dispose scope under <c>no_grad</c>, so no tensor
/// outlives it. Owns native memory: dispose it.
/// </summary>
/// <remarks>
/// Every call holds a <see cref="Lease"/> on the native memory: <see cref="Dispose"/> frees it only after the last running
/// call returns, and calls that start after <see cref="Dispose"/> throw <see cref="ObjectDisposedException"/>. A server
/// that swaps models can therefore dispose the old one while requests are still scoring with it.
/// </remarks>
internal sealed class VaeModel : IDisposable
{
    /// <summary>How many robust standard deviations of the latent term are ignored by <see cref="VaeScoreKind.ReconstructionAndLatent"/>.</summary>
    public const double LatentMargin = 3;
    private static readonly Scalar LatentMarginScalar = LatentMargin.ToScalar();
    private static readonly Scalar ZeroScalar = 0.0.ToScalar();

    /// <summary>Values per forward pass of the batched scoring loop: 512 rows of 784 features fit; wider rows get fewer.</summary>
    private const int ScoringBatchValues = 1 << 22;

    private readonly Tensor? _mean;
    private readonly Tensor? _scale;
    private SingleRowScorer? _singleRow;
    // 1 for the owner plus 1 per running call; the native memory is freed when it reaches 0.
    private int _references = 1;
    private int _disposed;

    public VaeModel(VaeNetwork network, VaeLikelihood likelihood, VaeScoreKind scoreKind, FeatureStandardization? standardization)
    {
        Network = network;
        Likelihood = likelihood;
        ScoreKind = scoreKind;
        Standardization = standardization;
        if (standardization is not null)
        {
            _mean = TensorCopy.FromRows(standardization.Mean, 1, standardization.Mean.Length);
            _scale = TensorCopy.FromRows(standardization.Scale, 1, standardization.Scale.Length);
        }
    }

    public VaeNetwork Network { get; }
    public VaeLikelihood Likelihood { get; }
    public VaeScoreKind ScoreKind { get; }
    public FeatureStandardization? Standardization { get; }

    /// <summary>
    /// The training rows' centre and scale of each term of <see cref="VaeScoreKind.ReconstructionAndLatent"/>; set once by
    /// Fit (<see cref="Calibrate"/>) or loading, before the model scores with that kind.
    /// </summary>
    public ScoreCalibration? Calibration { get; set; }
    public int InputWidth => Network.InputWidth;
    public int LatentDimension => Network.LatentDimension;

    /// <summary>Training rows in the input's units -> rows in the network's space (standardized for the Gaussian likelihood).</summary>
    public Tensor ToModelSpace(Tensor x) => _mean is null ? x.alias() : (x - _mean) / _scale!;

    /// <summary>
    /// Rows to score -> the network's space: <see cref="ToModelSpace"/>, with Bernoulli values clipped into [0, 1]. After
    /// NormalizeMinMax a new image can hold a pixel above its training maximum (1 to 2% of normal Fashion-MNIST test images,
    /// up to 29); clipped, it counts as fully bright, which the model judges where it expected dark (docs/reliability.md).
    /// </summary>
    public Tensor ToScoringSpace(Tensor x) => _mean is null ? x.clamp(Scalars.Zero, Scalars.One) : (x - _mean) / _scale!;

    /// <summary>The decoder's output -> the reconstructed mean in the input's units.</summary>
    public Tensor ToInputSpace(Tensor decoderOutput)
    {
        if (Likelihood == VaeLikelihood.Bernoulli) return decoderOutput.sigmoid();
        using var scaled = decoderOutput.mul(_scale!);
        return scaled.add(_mean!, Scalars.One);
    }

    /// <summary>
    /// Encodes <paramref name="count"/> rows and scores them: writes μ(x) to <paramref name="latent"/> [count × L] and
    /// the score to <paramref name="scores"/> [count].
    /// </summary>
    public void Score(ReadOnlySpan<float> rows, int count, Span<float> latent, Span<float> scores) =>
        Score(ScoreKind, rows, count, latent, scores);

    /// <summary>Rows per forward pass for every batched caller: 512, fewer for rows wider than 8,192 values, at least 1.</summary>
    public int ScoringBatchRows => Math.Clamp(ScoringBatchValues / InputWidth, 1, 512);

    /// <summary>
    /// Scores <paramref name="count"/> rows in batches of <see cref="ScoringBatchRows"/>: the latent means [count × L] and the
    /// scores [count].
    /// </summary>
    public (float[] Latent, float[] Scores) ScoreRows(ReadOnlySpan<float> rows, int count)
    {
        var latent = new float[(long)count * LatentDimension];
        var scores = new float[count];
        int batchRows = ScoringBatchRows;
        for (int start = 0; start < count; start += batchRows)
        {
            int n = Math.Min(batchRows, count - start);
            Score(ScoreKind, rows.Slice(checked(start * InputWidth), n * InputWidth), n,
                latent.AsSpan(start * LatentDimension, n * LatentDimension), scores.AsSpan(start, n));
        }
        return (latent, scores);
    }

    /// <summary>
    /// As <see cref="Score(ReadOnlySpan{float}, int, Span{float}, Span{float})"/> with another score kind. A row the model
    /// cannot judge scores +∞, the most anomalous value: one with NaN or ±∞ in it, or one
    /// whose score overflows to NaN.
    /// </summary>
    /// <param name="kind">The score kind.</param>
    /// <param name="rows">Row-major input rows.</param>
    /// <param name="count">How many rows.</param>
    /// <param name="latent">Receives μ(x), [count × L].</param>
    /// <param name="scores">Receives the scores, [count].</param>
    /// <param name="featureScores">
    /// Empty, or receives each feature's reconstruction-error term, [count × d] (see
    /// <see cref="VaeObjective.ReconstructionErrorPerFeature"/>); +∞ where a row's score is.
    /// </param>
    public void Score(VaeScoreKind kind, ReadOnlySpan<float> rows, int count, Span<float> latent, Span<float> scores, Span<float> featureScores = default)
    {
        if (count == 1 && _singleRow is { } single)
        {
            using var lease = Lease();
            scores[0] = single.Score(kind, rows[..InputWidth], latent[..LatentDimension], Calibration,
                featureScores.IsEmpty ? default : featureScores[..InputWidth]);
        }
        else
        {
            ScoreInDomain(kind, rows, count, latent, scores, featureScores);
        }
        for (int r = 0; r < count; r++)
        {
            if (float.IsNaN(scores[r]) || FirstOutOfDomain(rows.Slice(r * InputWidth, InputWidth)) >= 0)
            {
                scores[r] = float.PositiveInfinity;
                if (!featureScores.IsEmpty)
                {
                    // The features the model cannot judge carry the row's +∞; the others keep their terms.
                    var row = rows.Slice(r * InputWidth, InputWidth);
                    var terms = featureScores.Slice(r * InputWidth, InputWidth);
                    for (int i = 0; i < InputWidth; i++)
                        if (float.IsNaN(terms[i]) || FirstOutOfDomain(row.Slice(i, 1)) >= 0) terms[i] = float.PositiveInfinity;
                }
            }
        }
    }

    /// <summary>
    /// Lets one-row calls of <see cref="Score(VaeScoreKind, ReadOnlySpan{float}, int, Span{float}, Span{float}, Span{float})"/>
    /// take <see cref="SingleRowScorer"/> (MLP networks), over a copy of the weights taken now: call it once the weights are
    /// final, after Fit or loading. Before it, and for the convolutional network, every call runs on libtorch.
    /// </summary>
    public void PrepareSingleRowScoring()
    {
        using var lease = Lease();
        if (_singleRow is not null) return;
        var scorer = SingleRowScorer.For(Network, Likelihood, Standardization);
        if (Interlocked.CompareExchange(ref _singleRow, scorer, null) is not null) scorer?.Dispose();
    }

    /// <summary>
    /// The index of the first value of <paramref name="row"/> outside the model's domain, NaN or ±∞ (a finite Bernoulli value
    /// outside [0, 1] is clipped, <see cref="ToScoringSpace"/>); −1 when every value is inside.
    /// </summary>
    public static int FirstOutOfDomain(ReadOnlySpan<float> row)
    {
        // Whole vectors first (every row of a one-row call passes here), then one value at a time from the first vector
        // that holds a value outside.
        int i = 0;
        for (; i <= row.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var v = new Vector<float>(row[i..]);
            // v − v is 0 for finite v and NaN for NaN and ±∞.
            if (!Vector.EqualsAll(v - v, Vector<float>.Zero)) break;
        }
        for (; i < row.Length; i++)
            if (!float.IsFinite(row[i])) return i;
        return -1;
    }

    /// <summary>
    /// Fits <see cref="Calibration"/> on <paramref name="count"/> training rows: their reconstruction errors and KL terms,
    /// when <paramref name="withFeatureWeights"/> the spread of each feature's term, and when <paramref name="withDensity"/> the
    /// mixture over a sample of their latent means (<see cref="FitDensity"/>), scored in batches.
    /// </summary>
    public void Calibrate(ReadOnlySpan<float> rows, int count, bool withFeatureWeights, bool withDensity)
    {
        var reconstruction = new float[count];
        var kl = new float[count];
        var spread = withFeatureWeights ? new FeatureTermSpread(InputWidth) : null;
        // The latent means of up to MaximumFitRows rows spread evenly (every row's below that).
        int sampleRows = Math.Min(count, LatentCodeDensity.MaximumFitRows), row = 0;
        var means = withDensity ? new List<float[]>(sampleRows) : null;
        CalibrationTerms(rows, count, reconstruction, kl, spread, means is null ? null : mean =>
        {
            if (means.Count < sampleRows && row == (int)((long)means.Count * count / sampleRows)) means.Add(mean.ToArray());
            row++;
        });
        Calibration = ScoreCalibration.Fit(reconstruction, kl, spread?.Weights());
        if (means is not null) FitDensity(means);
    }

    /// <summary>
    /// Fits the calibration of <see cref="VaeScoreKind.WeightedReconstructionAndLatentNeighbours"/> on <paramref name="count"/>
    /// rows (up to 8,192, spread over the training rows): the feature weights, then the
    /// rows' weighted errors W and latent means, the codes stored from them (<see cref="LatentNeighbours.Fit"/>) and each row's
    /// neighbour distance N, and the centre and scale of W and of N. Two passes: W needs the weights the first one fits.
    /// </summary>
    public void CalibrateNeighbours(ReadOnlySpan<float> rows, int count)
    {
        Calibrate(rows, count, withFeatureWeights: true, withDensity: false);
        var latent = new float[(long)count * LatentDimension];
        var weighted = new float[count];
        for (int start = 0; start < count; start += ScoringBatchRows)
        {
            int n = Math.Min(ScoringBatchRows, count - start);
            ScoreInDomain(VaeScoreKind.WeightedReconstructionError, rows.Slice(checked(start * InputWidth), n * InputWidth), n,
                latent.AsSpan(start * LatentDimension, n * LatentDimension), weighted.AsSpan(start, n));
        }
        var neighbours = LatentNeighbours.Fit(latent, count, LatentDimension);
        var distances = new float[count];
        Parallel.For(0, count, r => distances[r] = neighbours.MeanDistance(latent.AsSpan(r * LatentDimension, LatentDimension)));
        Calibration = Calibration!.WithNeighbours(neighbours, weighted, distances);
    }

    /// <summary>Receives one row's latent mean μ(x), valid only during the call.</summary>
    public delegate void LatentMeanSink(ReadOnlySpan<float> mean);

    /// <summary>
    /// Fits the latent mixture of <see cref="VaeScoreKind.ReconstructionAndLatentDensity"/> to training rows' latent means
    /// (every row's up to <see cref="LatentCodeDensity.MaximumFitRows"/> rows, a sample of that many above) and the centre and
    /// scale of its D to the same rows; <see cref="Calibration"/> must already hold the other terms.
    /// </summary>
    public void FitDensity(IReadOnlyList<float[]> means)
    {
        var calibration = Calibration ?? throw new InvalidOperationException("Calibrate the reconstruction and KL terms before the density.");
        int l = LatentDimension, count = means.Count;
        var flat = new float[count * l];
        for (int r = 0; r < count; r++) means[r].CopyTo(flat, r * l);
        var mixture = LatentCodeDensity.Fit(flat, count, l, seed: 1);
        var normalizers = mixture.LogNormalizers();
        var densities = new float[count];
        for (int r = 0; r < count; r++) densities[r] = (float)mixture.NegativeLogDensity(flat.AsSpan(r * l, l), normalizers);
        Calibration = calibration.WithDensity(mixture, densities);
    }

    /// <summary>
    /// Each row's reconstruction error and KL term, the two terms <see cref="Calibration"/> is fitted on, in batches; each
    /// feature's term is added to <paramref name="spread"/> and each row's latent mean, in order, handed to
    /// <paramref name="means"/> unless they are null.
    /// </summary>
    public void CalibrationTerms(ReadOnlySpan<float> rows, int count, Span<float> reconstruction, Span<float> kl, FeatureTermSpread? spread,
        LatentMeanSink? means = null)
    {
        var batchMeans = means is null ? [] : new float[Math.Min(ScoringBatchRows, count) * LatentDimension];
        var terms = spread is null ? [] : new float[Math.Min(ScoringBatchRows, count) * InputWidth];
        for (int start = 0; start < count; start += ScoringBatchRows)
        {
            int n = Math.Min(ScoringBatchRows, count - start);
            using var inference = new Inference(this);
            var x = ToScoringSpace(FromRows(rows.Slice(checked(start * InputWidth), n * InputWidth), n));
            var (mean, logVariance) = Network.Encode(x);
            var latentTerm = VaeObjective.LatentTerm(Network, mean, logVariance);
            // Summed, the terms are the ReconstructionError score.
            var featureTerms = VaeObjective.ReconstructionErrorPerFeature(Likelihood, Network.Decode(mean), x);
            if (spread is not null)
            {
                TensorCopy.CopyTo(featureTerms, terms.AsSpan(0, n * InputWidth));
                spread.Add(terms, n);
            }
            TensorCopy.CopyTo(featureTerms.sum(1), reconstruction.Slice(start, n));
            TensorCopy.CopyTo(latentTerm, kl.Slice(start, n));
            if (means is not null)
            {
                TensorCopy.CopyTo(mean, batchMeans.AsSpan(0, n * LatentDimension));
                for (int r = 0; r < n; r++) means(batchMeans.AsSpan(r * LatentDimension, LatentDimension));
            }
        }
    }

    private void ScoreInDomain(VaeScoreKind kind, ReadOnlySpan<float> rows, int count, Span<float> latent, Span<float> scores,
        Span<float> featureScores = default)
    {
        using var inference = new Inference(this);
        var x = ToScoringSpace(FromRows(rows, count));
        var (mean, logVariance) = Network.Encode(x);
        var decoded = Network.Decode(mean);
        TensorCopy.CopyTo(mean, latent[..(count * LatentDimension)]);
        bool weightedError = kind.UsesFeatureWeights();
        if (featureScores.IsEmpty && Likelihood == VaeLikelihood.Bernoulli && (weightedError || kind == VaeScoreKind.ReconstructionError))
        {
            BernoulliErrors(decoded, rows, count, weightedError ? FeatureWeights() : null, scores[..count]);
        }
        else
        {
            // The weighted kinds' feature scores are their weighted terms, which sum to W; every other kind's are the plain terms.
            var weighted = weightedError ? WeightedTerms(decoded, x) : null;
            if (!featureScores.IsEmpty)
                TensorCopy.CopyTo(weighted ?? VaeObjective.ReconstructionErrorPerFeature(Likelihood, decoded, x), featureScores[..(count * InputWidth)]);
            var score = weighted is not null ? weighted.sum(1)
                : kind is VaeScoreKind.ReconstructionAndLatent or VaeScoreKind.ReconstructionAndLatentDensity
                    ? Combined(decoded, x, VaeObjective.LatentTerm(Network, mean, logVariance))
                : VaeObjective.Score(kind, Likelihood, decoded, x, VaeObjective.LatentTerm(Network, mean, logVariance), _scale);
            TensorCopy.CopyTo(score, scores[..count]);
        }
        if (kind == VaeScoreKind.ReconstructionAndLatentDensity) AddDensityTerms(latent, count, scores);
        if (kind == VaeScoreKind.WeightedReconstructionAndLatentNeighbours) StandardizeAndAddNeighbourTerms(latent, count, scores);
    }

    /// <summary>
    /// Each Bernoulli row's reconstruction error Σᵢ wᵢ (BCE(xᵢ, σ(lᵢ)) − H(xᵢ)) into <paramref name="scores"/>, wᵢ = 1 when
    /// <paramref name="weights"/> is null: the decoder's logits copied out once, then each row's terms in managed code with the
    /// one-row path's own functions (<see cref="RowMath.BernoulliTerms"/>, <see cref="RowMath.Sum"/>), so that the two paths differ
    /// only by their products' rounding. Each term is formed before it is summed: BCE and H are each about 0.7 a grey pixel and
    /// their difference is small, so two row sums subtracted afterwards lose most of their digits (8e-5 relative on 200-wide rows).
    /// </summary>
    private void BernoulliErrors(Tensor decoded, ReadOnlySpan<float> rows, int count, float[]? weights, Span<float> scores)
    {
        var logits = ArrayPool<float>.Shared.Rent(count * InputWidth);
        var buffer = ArrayPool<float>.Shared.Rent(2 * InputWidth);
        try
        {
            TensorCopy.CopyTo(decoded, logits.AsSpan(0, count * InputWidth));
            var x = buffer.AsSpan(0, InputWidth);
            var terms = buffer.AsSpan(InputWidth, InputWidth);
            for (int r = 0; r < count; r++)
            {
                // Clipped into [0, 1] as the encoder's input was (ToScoringSpace).
                RowMath.Clamp(rows.Slice(r * InputWidth, InputWidth), 0f, 1f, x);
                RowMath.BernoulliTerms(logits.AsSpan(r * InputWidth, InputWidth), x, terms, minusEntropy: true);
                if (weights is not null) RowMath.Multiply(terms, weights, terms);
                scores[r] = RowMath.Sum(terms);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(logits);
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Turns each W in <paramref name="scores"/> into the score of <see cref="VaeScoreKind.WeightedReconstructionAndLatentNeighbours"/>:
    /// (W − m_W) / s_W + max(0, (N(μ) − m_N) / s_N), the neighbour term computed in managed code from the latent means already
    /// copied out (M L operations a row), rows split over the cores when there are many.
    /// </summary>
    private void StandardizeAndAddNeighbourTerms(ReadOnlySpan<float> latent, int count, Span<float> scores)
    {
        var calibration = NeighbourCalibration();
        int l = LatentDimension;
        var terms = new float[count];
        // Spans cannot enter the parallel loop's lambda; the latent means are copied once (count × L floats).
        var means = latent[..(count * l)].ToArray();
        if (count < ParallelNeighbourRows)
            for (int r = 0; r < count; r++) terms[r] = NeighbourTerm(calibration, means.AsSpan(r * l, l));
        else
            Parallel.For(0, count, r => terms[r] = NeighbourTerm(calibration, means.AsSpan(r * l, l)));
        for (int r = 0; r < count; r++)
            scores[r] = (scores[r] - calibration.WeightedCenter) / calibration.WeightedScale + terms[r];
    }

    /// <summary>Rows from which <see cref="StandardizeAndAddNeighbourTerms"/> splits its work over the cores (a row costs a few µs).</summary>
    private const int ParallelNeighbourRows = 64;

    /// <summary>The calibration of <see cref="VaeScoreKind.WeightedReconstructionAndLatentNeighbours"/>, or an exception when there is none.</summary>
    private ScoreCalibration NeighbourCalibration() => Calibration is { Neighbours: not null } c ? c
        : throw new InvalidOperationException("The model was not calibrated for the WeightedReconstructionAndLatentNeighbours score.");

    /// <summary>
    /// max(0, (N(μ) − m_N) / s_N) with <paramref name="calibration"/>'s stored codes (see <see cref="LatentNeighbours"/>). Only
    /// a code far from the training codes adds: one among them may belong to a group of anomalies in the training rows.
    /// </summary>
    internal static float NeighbourTerm(ScoreCalibration calibration, ReadOnlySpan<float> mean) =>
        Math.Max(0f, (calibration.Neighbours!.MeanDistance(mean) - calibration.NeighbourCenter) / calibration.NeighbourScale);

    /// <summary>
    /// Adds max(0, (D(μ) − m_D) / s_D) to each score, the density term of <see cref="VaeScoreKind.ReconstructionAndLatentDensity"/>,
    /// computed in managed code from the latent means already copied out (L² K operations a row).
    /// </summary>
    private void AddDensityTerms(ReadOnlySpan<float> latent, int count, Span<float> scores)
    {
        var calibration = Calibration is { Density: not null } c ? c
            : throw new InvalidOperationException("The model was not calibrated for the ReconstructionAndLatentDensity score.");
        var normalizers = calibration.Density!.LogNormalizers();
        for (int r = 0; r < count; r++)
            scores[r] += DensityTerm(calibration, latent.Slice(r * LatentDimension, LatentDimension), normalizers);
    }

    /// <summary>
    /// max(0, (D(μ) − m_D) / s_D) with <paramref name="calibration"/>'s mixture (see <see cref="LatentCodeDensity"/>). Only a
    /// sparse region adds: a dense one may be a large group of anomalies that the mixture gave a component of its own.
    /// </summary>
    internal static float DensityTerm(ScoreCalibration calibration, ReadOnlySpan<float> mean, double[] normalizers) =>
        (float)Math.Max(0, (calibration.Density!.NegativeLogDensity(mean, normalizers) - calibration.DensityCenter) / calibration.DensityScale);

    /// <summary>tᵢ wᵢ for each row and feature: the terms of W (<see cref="VaeScoreKind.WeightedReconstructionError"/>), [n × d].</summary>
    private Tensor WeightedTerms(Tensor decoded, Tensor x)
    {
        var weights = FeatureWeights();
        using var row = TensorCopy.FromRows(weights, 1, InputWidth);
        return VaeObjective.ReconstructionErrorPerFeature(Likelihood, decoded, x).mul(row);
    }

    /// <summary>
    /// The weights of the weighted kinds (<see cref="ScoreKindTraits.UsesFeatureWeights"/>), from <see cref="Calibration"/> (positive and
    /// finite as Fit makes them and loading checks them; only their presence is checked here, on every scoring call).
    /// </summary>
    public float[] FeatureWeights() => Calibration?.FeatureWeights is { } weights && weights.Length == InputWidth ? weights
        : throw new InvalidOperationException($"The model was not calibrated for the {ScoreKind} score.");

    /// <summary>
    /// (R − m_R) / s_R + max(0, (K − m_K) / s_K − <see cref="LatentMargin"/>) with the training rows' <see cref="Calibration"/>
    /// (see <see cref="VaeScoreKind.ReconstructionAndLatent"/>).
    /// </summary>
    private Tensor Combined(Tensor decoded, Tensor x, Tensor kl)
    {
        var calibration = Calibration ?? throw new InvalidOperationException($"The model was not calibrated for the {ScoreKind} score.");
        var reconstruction = VaeObjective.Score(VaeScoreKind.ReconstructionError, Likelihood, decoded, x, kl, _scale);
        using var reconstructionCenter = calibration.ReconstructionCenter.ToScalar();
        using var reconstructionScale = calibration.ReconstructionScale.ToScalar();
        using var latentCenter = calibration.LatentCenter.ToScalar();
        using var latentScale = calibration.LatentScale.ToScalar();
        // The latent term counts only beyond LatentMargin robust standard deviations: below it, its spread over normal rows
        // would only add noise to the reconstruction term.
        var latentExcess = kl.sub(latentCenter).div(latentScale).sub(LatentMarginScalar).clamp_min(ZeroScalar);
        return reconstruction.sub(reconstructionCenter).div(reconstructionScale).add(latentExcess, Scalars.One);
    }

    /// <summary>A [count × d] tensor holding a copy of the first count rows of a row-major buffer.</summary>
    private Tensor FromRows(ReadOnlySpan<float> rows, int count) => TensorCopy.FromRows(rows, count, InputWidth);

    /// <summary>Decodes z = μ(x) for each row: the reconstruction's mean, in the input's units, [count × d].</summary>
    public float[] Reconstruct(ReadOnlySpan<float> rows, int count)
    {
        using var inference = new Inference(this);
        var x = ToScoringSpace(FromRows(rows, count));
        var (mean, _) = Network.Encode(x);
        return TensorCopy.ToArray(ToInputSpace(Network.Decode(mean)));
    }

    /// <summary>
    /// Decodes <paramref name="count"/> codes z ~ N(0, I) drawn with <paramref name="seed"/>: generated rows' means, [count × d].
    /// The codes are drawn at once and decoded <see cref="ScoringBatchRows"/> at a time, so libtorch holds one batch's layers.
    /// </summary>
    public float[] Generate(int count, long seed)
    {
        using var inference = new Inference(this);
        using var generator = new Generator((ulong)seed);
        using var z = randn([count, LatentDimension], generator: generator);
        var rows = new float[(long)count * InputWidth];
        for (int start = 0; start < count; start += ScoringBatchRows)
        {
            using var batch = NewDisposeScope();
            int n = Math.Min(ScoringBatchRows, count - start);
            TensorCopy.CopyTo(ToInputSpace(Network.Decode(z.narrow(0, start, n))), rows.AsSpan(start * InputWidth, n * InputWidth));
        }
        return rows;
    }

    /// <summary>
    /// Decodes the straight line between μ(a) and μ(b) at <paramref name="steps"/> evenly spaced points, ends included:
    /// zₜ = (1 − t) μ(a) + t μ(b). Returns the decoded means in the input's units, [steps × d].
    /// </summary>
    public float[] Interpolate(ReadOnlySpan<float> from, ReadOnlySpan<float> to, int steps)
    {
        using var inference = new Inference(this);
        var ends = new float[2 * InputWidth];
        from.CopyTo(ends);
        to.CopyTo(ends.AsSpan(InputWidth));
        var (mean, _) = Network.Encode(ToScoringSpace(FromRows(ends, 2)));
        var t = linspace(0, 1, steps).unsqueeze(1);
        var start = mean[0].unsqueeze(0);
        // zₜ = μ(a) + t (μ(b) − μ(a)), the same line as (1 − t) μ(a) + t μ(b).
        var z = start.add(t.mul(mean[1].unsqueeze(0) - start), Scalars.One);
        return TensorCopy.ToArray(ToInputSpace(Network.Decode(z)));
    }

    /// <summary>An independent copy with the same weights (for a transformer that must own its model).</summary>
    public VaeModel Clone()
    {
        using var lease = Lease();
        var network = Network.Spec.Build();
        using (no_grad())
        {
            var source = Network.state_dict();
            foreach (var (name, parameter) in network.named_parameters())
                parameter.copy_(source[name]);
            foreach (var (name, buffer) in network.named_buffers())
                buffer.copy_(source[name]);
        }
        return new VaeModel(network, Likelihood, ScoreKind, Standardization) { Calibration = Calibration };
    }

    /// <summary>
    /// Keeps the native memory alive until the returned lease is disposed.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public ModelLease Lease()
    {
        while (true)
        {
            int references = Volatile.Read(ref _references);
            if (references == 0 || Volatile.Read(ref _disposed) != 0) throw new ObjectDisposedException(nameof(VaeTransformer));
            if (Interlocked.CompareExchange(ref _references, references + 1, references) == references) return new ModelLease(this);
        }
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _references) != 0) return;
        Network.Dispose();
        _singleRow?.Dispose();
        _mean?.Dispose();
        _scale?.Dispose();
    }

    /// <summary>Gives up the owner's reference: the native memory is freed now, or when the last running call returns.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) Release();
    }

    /// <summary>
    /// How every inference call runs: holding a lease on the model, inside a dispose scope (no tensor outlives the call),
    /// without autograd, with the network in evaluation mode.
    /// </summary>
    private sealed class Inference : IDisposable
    {
        private readonly ModelLease _lease;
        private readonly DisposeScope _scope;
        private readonly IDisposable _noGrad;

        public Inference(VaeModel model)
        {
            _lease = model.Lease();
            _scope = NewDisposeScope();
            _noGrad = no_grad();
            model.Network.eval();
        }

        public void Dispose()
        {
            _noGrad.Dispose();
            _scope.Dispose();
            _lease.Dispose();
        }
    }

    /// <summary>One running call's hold on the model's native memory.</summary>
    internal readonly struct ModelLease(VaeModel model) : IDisposable
    {
        public void Dispose() => model.Release();
    }
}
