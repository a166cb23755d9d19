using System.Buffers;
using System.Numerics;
using MLNet.Vae.Tensors;
using MLNet.Vae.Network;
using TorchSharp;
using static TorchSharp.torch;
using MLNet.Vae.Scoring;
using MLNet.Vae.Kernels;
using MLNet.Vae.Platform;

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
    /// <summary>Values per forward pass of the batched scoring loop: 512 rows of 784 features fit; wider rows get fewer.</summary>
    private const int ScoringBatchValues = 1 << 22;

    private readonly Tensor? _mean;
    private readonly Tensor? _scale;
    private SingleRowScorer? _singleRow;
    // 1 for the owner plus 1 per running call; the native memory is freed when it reaches 0.
    private int _references = 1;
    private int _disposed;

    public VaeModel(VaeNetwork network, VaeLikelihood likelihood, ScoreKindModel kind, FeatureStandardization? standardization)
    {
        Network = network;
        Likelihood = likelihood;
        Kind = kind;
        Standardization = standardization;
        if (standardization is not null)
        {
            _mean = TensorCopy.FromRows(standardization.Mean, 1, standardization.Mean.Length);
            _scale = TensorCopy.FromRows(standardization.Scale, 1, standardization.Scale.Length);
        }
    }

    /// <summary>A model that scores with <paramref name="kind"/>, uncalibrated (<see cref="ScoreCalibrator"/> calibrates it).</summary>
    public VaeModel(VaeNetwork network, VaeLikelihood likelihood, VaeScoreKind kind, FeatureStandardization? standardization)
        : this(network, likelihood, ScoreKinds.Create(kind, new ScoreKindContext(likelihood, network.InputWidth, network.LatentDimension, standardization?.Scale)),
            standardization)
    {
    }

    public VaeNetwork Network { get; }
    public VaeLikelihood Likelihood { get; }
    public FeatureStandardization? Standardization { get; }

    /// <summary>
    /// The score kind the model scores with, with its calibration: set by Fit (<see cref="ScoreCalibrator"/>) or loading,
    /// before the model scores.
    /// </summary>
    public ScoreKindModel Kind { get; set; }

    public VaeScoreKind ScoreKind => Kind.Kind;

    /// <summary>What a score kind for this model is made for.</summary>
    public ScoreKindContext KindContext => new(Likelihood, InputWidth, LatentDimension, Standardization?.Scale);

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
    /// Encodes <paramref name="count"/> rows and scores them with the model's kind: writes μ(x) to <paramref name="latent"/>
    /// [count × L] and the score to <paramref name="scores"/> [count].
    /// </summary>
    public void Score(ReadOnlySpan<float> rows, int count, Span<float> latent, Span<float> scores) =>
        Score(Kind, rows, count, latent, scores);

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
            Score(Kind, rows.Slice(checked(start * InputWidth), n * InputWidth), n,
                latent.AsSpan(start * LatentDimension, n * LatentDimension), scores.AsSpan(start, n));
        }
        return (latent, scores);
    }

    /// <summary>
    /// As <see cref="Score(ReadOnlySpan{float}, int, Span{float}, Span{float})"/> with another kind (calibrated for this model).
    /// A row the model cannot judge scores +∞, the most anomalous value: one with NaN or ±∞ in it, or one whose score
    /// overflows to NaN.
    /// </summary>
    /// <param name="kind">The score kind.</param>
    /// <param name="rows">Row-major input rows.</param>
    /// <param name="count">How many rows.</param>
    /// <param name="latent">Receives μ(x), [count × L].</param>
    /// <param name="scores">Receives the scores, [count].</param>
    /// <param name="featureScores">Empty, or receives each feature's share (<see cref="ScoreKindModel.FeatureTerms"/>), [count × d]; +∞ where a row's score is.</param>
    public void Score(ScoreKindModel kind, ReadOnlySpan<float> rows, int count, Span<float> latent, Span<float> scores, Span<float> featureScores = default)
    {
        if (count == 1 && _singleRow is { } single)
        {
            using var lease = Lease();
            scores[0] = single.Score(kind, rows[..InputWidth], latent[..LatentDimension], featureScores.IsEmpty ? default : featureScores[..InputWidth]);
        }
        else if (Math.Min(IntraOpThreads.OfThisThread, count / MinimumRowsPerPart) is int parts and > 1)
        {
            ScoreInParts(kind, rows, count, latent, scores, featureScores, parts);
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
    /// Lets one-row calls of <see cref="Score(ScoreKindModel, ReadOnlySpan{float}, int, Span{float}, Span{float}, Span{float})"/>
    /// take <see cref="SingleRowScorer"/> (MLP networks), over a copy of the weights taken now: call it once the weights are
    /// final, after Fit or loading. Before it, and for the convolutional network, every call runs on libtorch.
    /// </summary>
    public void PrepareSingleRowScoring()
    {
        using var lease = Lease();
        if (_singleRow is not null) return;
        var scorer = SingleRowScorer.For(Network, Standardization);
        if (Interlocked.CompareExchange(ref _singleRow, scorer, null) is not null) scorer?.Dispose();
    }

    /// <summary>
    /// The index of the first value of <paramref name="row"/> outside the model's domain, NaN or ±∞ (a finite Bernoulli value
    /// outside [0, 1] is clipped, <see cref="ToScoringSpace(Tensor)"/>); −1 when every value is inside.
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

    /// <summary>The fewest rows a part of a batch holds when the batch is split across threads.</summary>
    private const int MinimumRowsPerPart = 64;

    /// <summary>
    /// The batched path split into <paramref name="parts"/> parts of consecutive rows, each scored on its own thread with
    /// libtorch on one thread (<see cref="IntraOpThreads"/>): the products keep the cores the caller lets libtorch use, and
    /// the terms in managed code, otherwise one core's work while the others wait, are shared out too. Every row is scored
    /// by the same steps as in one part; only the products' rounding can differ.
    /// </summary>
    private unsafe void ScoreInParts(ScoreKindModel kind, ReadOnlySpan<float> rows, int count, Span<float> latent, Span<float> scores,
        Span<float> featureScores, int parts)
    {
        int d = InputWidth, l = LatentDimension, perPart = (count + parts - 1) / parts;
        fixed (float* rowsAt = rows, latentAt = latent, scoresAt = scores, featureScoresAt = featureScores)
        {
            // The spans' memory stays fixed until every part has returned: Parallel.For returns only then.
            nint rowsBase = (nint)rowsAt, latentBase = (nint)latentAt, scoresBase = (nint)scoresAt, featureScoresBase = (nint)featureScoresAt;
            try
            {
                Parallel.For(0, parts, part =>
                {
                    int start = part * perPart, n = Math.Min(perPart, count - start);
                    if (n <= 0) return;
                    using var oneThread = IntraOpThreads.One();
                    ScoreInDomain(kind,
                        new ReadOnlySpan<float>((float*)rowsBase + (long)start * d, n * d), n,
                        new Span<float>((float*)latentBase + (long)start * l, n * l),
                        new Span<float>((float*)scoresBase + start, n),
                        featureScoresBase == 0 ? default : new Span<float>((float*)featureScoresBase + (long)start * d, n * d));
                });
            }
            catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
            {
                // The caller sees what one thread would have thrown, not a wrapper.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
            }
        }
    }

    /// <summary>
    /// The batched path: the network on libtorch, then each row's terms and score in managed code with the one-row path's
    /// own functions (<see cref="RowScoring"/>), so that the two paths differ only by their products' rounding. The decoder's
    /// output and the latent means are copied out once; the latent term is the KL from μ and log σ² (libtorch's for the
    /// learned mixture prior, which has no closed form).
    /// </summary>
    private void ScoreInDomain(ScoreKindModel kind, ReadOnlySpan<float> rows, int count, Span<float> latent, Span<float> scores,
        Span<float> featureScores = default)
    {
        int d = InputWidth, l = LatentDimension;
        var decoded = ArrayPool<float>.Shared.Rent(count * d);
        var latentTerms = ArrayPool<float>.Shared.Rent(count);
        var logVariances = ArrayPool<float>.Shared.Rent(kind.UsesLatentTerm ? count * l : 0);
        var buffer = ArrayPool<float>.Shared.Rent(2 * d);
        try
        {
            using (var inference = new Inference(this))
            {
                var x = ToScoringSpace(FromRows(rows, count));
                var (mean, logVariance) = Network.Encode(x);
                TensorCopy.CopyTo(mean, latent[..(count * l)]);
                TensorCopy.CopyTo(Network.Decode(mean), decoded.AsSpan(0, count * d));
                if (kind.UsesLatentTerm && Network.HasMixturePrior) TensorCopy.CopyTo(VaeObjective.LatentTerm(Network, mean, logVariance), latentTerms.AsSpan(0, count));
                else if (kind.UsesLatentTerm) TensorCopy.CopyTo(logVariance, logVariances.AsSpan(0, count * l));
            }
            var modelRow = buffer.AsSpan(0, d);
            var terms = buffer.AsSpan(d, d);
            for (int r = 0; r < count; r++)
            {
                var mean = latent.Slice(r * l, l);
                if (kind.UsesLatentTerm && !Network.HasMixturePrior) latentTerms[r] = ScoreKindModel.Kl(mean, logVariances.AsSpan(r * l, l));
                ToScoringSpace(rows.Slice(r * d, d), modelRow);
                scores[r] = RowScoring.Score(kind, decoded.AsSpan(r * d, d), modelRow, mean, latentTerms[r], terms,
                    featureScores.IsEmpty ? default : featureScores.Slice(r * d, d));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(decoded);
            ArrayPool<float>.Shared.Return(latentTerms);
            ArrayPool<float>.Shared.Return(logVariances);
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>One row in the input's units → the network's space in managed code, as <see cref="ToScoringSpace(Tensor)"/>.</summary>
    public void ToScoringSpace(ReadOnlySpan<float> row, Span<float> destination)
    {
        if (Standardization is { } standardization) RowMath.Standardize(row, standardization.Mean, standardization.Scale, destination);
        else RowMath.Clamp(row, 0f, 1f, destination);
    }

    /// <summary>
    /// What the score kinds calibrate on, for <paramref name="count"/> rows: each row's reconstruction-error terms, latent mean
    /// and latent term (<see cref="CalibrationSample"/>), in batches.
    /// </summary>
    public CalibrationSample CalibrationSample(ReadOnlySpan<float> rows, int count)
    {
        int d = InputWidth, l = LatentDimension;
        var terms = new float[(long)count * d];
        var means = new float[(long)count * l];
        var latentTerms = new float[count];
        var logVariances = new float[Math.Min(ScoringBatchRows, count) * l];
        var modelRow = new float[d];
        for (int start = 0; start < count; start += ScoringBatchRows)
        {
            int n = Math.Min(ScoringBatchRows, count - start);
            using (var inference = new Inference(this))
            {
                var x = ToScoringSpace(FromRows(rows.Slice(checked(start * d), n * d), n));
                var (mean, logVariance) = Network.Encode(x);
                TensorCopy.CopyTo(mean, means.AsSpan(start * l, n * l));
                // The decoder's output goes where the terms will be: each row's terms overwrite its own output.
                TensorCopy.CopyTo(Network.Decode(mean), terms.AsSpan(start * d, n * d));
                if (Network.HasMixturePrior) TensorCopy.CopyTo(VaeObjective.LatentTerm(Network, mean, logVariance), latentTerms.AsSpan(start, n));
                else TensorCopy.CopyTo(logVariance, logVariances.AsSpan(0, n * l));
            }
            for (int r = 0; r < n; r++)
            {
                int row = start + r;
                if (!Network.HasMixturePrior) latentTerms[row] = ScoreKindModel.Kl(means.AsSpan(row * l, l), logVariances.AsSpan(r * l, l));
                ToScoringSpace(rows.Slice(row * d, d), modelRow);
                var rowTerms = terms.AsSpan(row * d, d);
                ReconstructionTerms.Managed(Likelihood, rowTerms, modelRow, rowTerms);
            }
        }
        return new CalibrationSample(count, d, l, terms, means, latentTerms);
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
        return new VaeModel(network, Likelihood, Kind, Standardization);
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
