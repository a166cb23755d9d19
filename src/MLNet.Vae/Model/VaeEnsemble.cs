using System.Buffers;
using MLNet.Vae.Scoring;

namespace MLNet.Vae.Model;

/// <summary>
/// The models a transformer scores with: one VAE, or <see cref="VaeOptions.NumberOfModels"/> VAEs fitted with different
/// seeds whose scores are combined. All members share the input standardization, likelihood, score kind and network shape.
/// </summary>
/// <remarks>
/// The score of a row is the mean of the members' standardized scores, S = (1/K) Σₖ (sₖ − cₖ) / σₖ, where cₖ and σₖ are the
/// median and the robust spread (inter-quartile range / 1.349) of member k's scores on the training rows
/// (<see cref="MemberScale"/>): one scale for one model and for K, on which 0 is a typical training row, and no member weighs
/// more by its units alone; a row any member cannot judge scores +∞. A model from a file written before the scale (format
/// 2) has no scale and scores its kind's raw score, as it did. The latent column, reconstruction and generation are the first
/// member's (the members' latent spaces are not aligned, so they cannot be averaged); the feature scores are the mean of the
/// members' per-feature terms, in the shared standardized units. With <see cref="Logs"/>, the members see every row with
/// the logarithms of its skewed features appended; the ensemble appends them on the way in and folds them back on the way
/// out, so that its callers see the input's d features only.
/// Disposing the ensemble disposes every member; a call leases all members first, so it either runs on all of them or
/// throws <see cref="ObjectDisposedException"/>.
/// </remarks>
internal sealed class VaeEnsemble : IDisposable
{
    private readonly VaeModel[] _members;
    private readonly MemberScale[] _scales;
    private readonly LogFeatures? _logs;

    /// <summary>A single model from a file written before the score scale: scored with its kind's raw score.</summary>
    public static VaeEnsemble Unscaled(VaeModel model) => new([model], []);

    /// <param name="members">The fitted members, at least one; all of the same network shape and likelihood.</param>
    /// <param name="scales">Where each member's training scores sit, one per member (empty only for <see cref="Unscaled"/>).</param>
    /// <param name="logs">The logarithms appended to each row before the members see it, or null.</param>
    public VaeEnsemble(IReadOnlyList<VaeModel> members, IReadOnlyList<MemberScale> scales, LogFeatures? logs = null)
    {
        if (members.Count == 0) throw new ArgumentException("An ensemble needs at least one model.", nameof(members));
        if (logs is not null && logs.ExpandedWidth != members[0].InputWidth)
            throw new ArgumentException($"Rows of {logs.ExpandedWidth} values with their logarithms do not fit members of {members[0].InputWidth} inputs.", nameof(logs));
        if (scales.Count != members.Count && !(scales.Count == 0 && members.Count == 1))
            throw new ArgumentException($"{members.Count} members need {members.Count} score scales, got {scales.Count}.", nameof(scales));
        _members = members.ToArray();
        _scales = scales.ToArray();
        _logs = logs;
    }

    /// <summary>The logarithms appended to each row before the members see it; null when none is.</summary>
    public LogFeatures? Logs => _logs;

    /// <summary>The members, the first one being the model of the latent column and of generation.</summary>
    public IReadOnlyList<VaeModel> Members => _members;

    /// <summary>Each member's training-score centre and scale; empty for a model without a scale (<see cref="Unscaled"/>).</summary>
    public IReadOnlyList<MemberScale> Scales => _scales;

    /// <summary>False for a model read from a file written before the score scale: its scores are its kind's raw scores.</summary>
    public bool IsScaled => _scales.Length > 0;

    /// <summary>The model whose latent space the transformer exposes.</summary>
    public VaeModel First => _members[0];

    /// <summary>d, the width of the rows the ensemble is given (the members see d + k with <see cref="Logs"/>).</summary>
    public int InputWidth => _logs?.InputWidth ?? First.InputWidth;
    public int LatentDimension => First.LatentDimension;
    public VaeLikelihood Likelihood => First.Likelihood;
    public VaeScoreKind ScoreKind => First.ScoreKind;
    public int ScoringBatchRows => First.ScoringBatchRows;

    /// <inheritdoc cref="VaeModel.FirstOutOfDomain"/>
    public static int FirstOutOfDomain(ReadOnlySpan<float> row) => VaeModel.FirstOutOfDomain(row);

    /// <summary>
    /// Scores <paramref name="count"/> rows with the model's score kind: μ(x) of the first member into <paramref name="latent"/>,
    /// the combined score into <paramref name="scores"/>, and the mean per-feature terms into <paramref name="featureScores"/>
    /// unless it is empty. See <see cref="VaeModel.Score(Scoring.ScoreKindModel, ReadOnlySpan{float}, int, Span{float}, Span{float}, Span{float})"/>.
    /// </summary>
    public void Score(ReadOnlySpan<float> rows, int count, Span<float> latent, Span<float> scores, Span<float> featureScores = default)
    {
        if (_logs is null)
        {
            ScoreMemberRows(rows, count, latent, scores, featureScores);
            return;
        }
        // Pooled, so that a PredictionEngine's one-row calls do not allocate.
        int width = _logs.ExpandedWidth;
        var expanded = ArrayPool<float>.Shared.Rent(count * width);
        var expandedTerms = ArrayPool<float>.Shared.Rent(featureScores.IsEmpty ? 0 : count * width);
        try
        {
            _logs.Expand(rows, count, expanded);
            var terms = expandedTerms.AsSpan(0, featureScores.IsEmpty ? 0 : count * width);
            ScoreMemberRows(expanded.AsSpan(0, count * width), count, latent, scores, terms);
            if (!featureScores.IsEmpty) _logs.Fold(terms, count, featureScores);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(expanded);
            ArrayPool<float>.Shared.Return(expandedTerms);
        }
    }

    /// <summary><see cref="Score"/> of rows as the members see them, d + k values each with <see cref="Logs"/>.</summary>
    private void ScoreMemberRows(ReadOnlySpan<float> rows, int count, Span<float> latent, Span<float> scores, Span<float> featureScores)
    {
        if (_members.Length == 1)
        {
            First.Score(First.Kind, rows, count, latent, scores, featureScores);
            if (IsScaled)
            {
                var (center, scale) = _scales[0];
                for (int r = 0; r < count; r++) scores[r] = (scores[r] - center) / scale;
            }
            return;
        }
        using var leases = LeaseAll();
        // Pooled, so that a PredictionEngine's one-row calls do not allocate.
        int termCount = featureScores.IsEmpty ? 0 : count * First.InputWidth;
        var scoreBuffer = ArrayPool<float>.Shared.Rent(count);
        var termBuffer = ArrayPool<float>.Shared.Rent(termCount);
        var latentBuffer = ArrayPool<float>.Shared.Rent(count * LatentDimension);
        try
        {
            var memberScores = scoreBuffer.AsSpan(0, count);
            var memberTerms = termBuffer.AsSpan(0, termCount);
            var memberLatent = latentBuffer.AsSpan(0, count * LatentDimension);
            scores[..count].Clear();
            featureScores[..termCount].Clear();
            for (int k = 0; k < _members.Length; k++)
            {
                // The first member writes the latent column; the others' latent means are not aligned with it.
                _members[k].Score(_members[k].Kind, rows, count, k == 0 ? latent : memberLatent, memberScores, memberTerms);
                var (center, scale) = _scales[k];
                for (int r = 0; r < count; r++) scores[r] += (memberScores[r] - center) / scale;
                for (int i = 0; i < termCount; i++) featureScores[i] += memberTerms[i];
            }
            float share = 1f / _members.Length;
            for (int r = 0; r < count; r++) scores[r] *= share;
            for (int i = 0; i < termCount; i++) featureScores[i] *= share;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scoreBuffer);
            ArrayPool<float>.Shared.Return(termBuffer);
            ArrayPool<float>.Shared.Return(latentBuffer);
        }
    }

    /// <summary>
    /// The members' training scores (row-aligned: the same rows in the same order for every member) combined as
    /// <see cref="Score"/> combines them, with the scales fitted on these same scores.
    /// </summary>
    public static (float[] Combined, MemberScale[] Scales) Combine(IReadOnlyList<float[]> memberScores)
    {
        int rows = memberScores[0].Length;
        if (memberScores.Any(s => s.Length != rows)) throw new ArgumentException("The members' training scores are not of the same rows.", nameof(memberScores));
        var scales = memberScores.Select(MemberScale.Fit).ToArray();
        var combined = new float[rows];
        for (int k = 0; k < scales.Length; k++)
            for (int r = 0; r < rows; r++) combined[r] += (memberScores[k][r] - scales[k].Center) / scales[k].Scale;
        for (int r = 0; r < rows; r++) combined[r] /= scales.Length;
        return (combined, scales);
    }

    /// <summary>The first member's reconstruction of <paramref name="count"/> rows, [count × d] (see <see cref="VaeModel.Reconstruct"/>).</summary>
    public float[] Reconstruct(ReadOnlySpan<float> rows, int count) =>
        _logs is null ? First.Reconstruct(rows, count) : _logs.Cut(First.Reconstruct(_logs.Expand(rows, count), count), count);

    /// <summary>The first member's generated rows, [count × d] (see <see cref="VaeModel.Generate"/>).</summary>
    public float[] Generate(int count, long seed) => _logs is null ? First.Generate(count, seed) : _logs.Cut(First.Generate(count, seed), count);

    /// <summary>The first member's decoded line between two rows, [steps × d] (see <see cref="VaeModel.Interpolate"/>).</summary>
    public float[] Interpolate(ReadOnlySpan<float> from, ReadOnlySpan<float> to, int steps) =>
        _logs is null ? First.Interpolate(from, to, steps) : _logs.Cut(First.Interpolate(_logs.Expand(from, 1), _logs.Expand(to, 1), steps), steps);

    /// <summary>Lets every member's one-row calls take the managed path (see <see cref="VaeModel.PrepareSingleRowScoring"/>).</summary>
    public void PrepareSingleRowScoring()
    {
        foreach (var member in _members) member.PrepareSingleRowScoring();
    }

    /// <summary>An independent copy of every member, with the same scales.</summary>
    public VaeEnsemble Clone()
    {
        var copies = new List<VaeModel>();
        try
        {
            foreach (var member in _members) copies.Add(member.Clone());
            return new VaeEnsemble(copies, _scales, _logs);
        }
        catch
        {
            foreach (var copy in copies) copy.Dispose();
            throw;
        }
    }

    /// <summary>Holds every member's native memory until disposed; throws <see cref="ObjectDisposedException"/> if any is gone.</summary>
    public Leases LeaseAll()
    {
        var leases = ArrayPool<VaeModel.ModelLease>.Shared.Rent(_members.Length);
        int taken = 0;
        try
        {
            for (; taken < _members.Length; taken++) leases[taken] = _members[taken].Lease();
            return new Leases(leases, taken);
        }
        catch
        {
            new Leases(leases, taken).Dispose();
            throw;
        }
    }

    /// <summary>Gives up every member (each frees its memory once its running calls return).</summary>
    public void Dispose()
    {
        foreach (var member in _members) member.Dispose();
    }

    /// <summary>The leases of <see cref="LeaseAll"/>, in a pooled array: dispose it once.</summary>
    internal readonly struct Leases(VaeModel.ModelLease[] leases, int count) : IDisposable
    {
        public void Dispose()
        {
            for (int i = 0; i < count; i++) leases[i].Dispose();
            ArrayPool<VaeModel.ModelLease>.Shared.Return(leases, clearArray: true);
        }
    }
}
