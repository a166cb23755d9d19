using MLNet.Vae.Kernels;
using MLNet.Vae.Scoring;

namespace MLNet.Vae.Model;

/// <summary>
/// One row's score from the network's outputs, the same code on the batched path (<see cref="VaeModel"/>) and the one-row
/// path (<see cref="SingleRowScorer"/>): the kind's terms, their sum, and the kind's score from it.
/// </summary>
internal static class RowScoring
{
    /// <summary>
    /// The score of one row whose decoder output is <paramref name="decoded"/> and input, in the network's space,
    /// <paramref name="x"/>; <paramref name="terms"/> is scratch of the row's width; <paramref name="featureScores"/> is empty
    /// or receives the feature-scores column's values.
    /// </summary>
    public static float Score(ScoreKindModel kind, ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, ReadOnlySpan<float> mean, float latentTerm,
        Span<float> terms, Span<float> featureScores)
    {
        kind.Terms(decoded, x, terms, 0);
        return Finish(kind, decoded, x, mean, latentTerm, terms, featureScores);
    }

    /// <summary>The rest of <see cref="Score"/> once the kind's terms are in <paramref name="terms"/>.</summary>
    public static float Finish(ScoreKindModel kind, ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, ReadOnlySpan<float> mean, float latentTerm,
        ReadOnlySpan<float> terms, Span<float> featureScores)
    {
        if (!featureScores.IsEmpty)
        {
            if (kind.TermsAreFeatureScores) terms.CopyTo(featureScores);
            else kind.FeatureTerms(decoded, x, featureScores, 0);
        }
        return kind.Score(RowMath.Sum(terms), mean, latentTerm);
    }
}
