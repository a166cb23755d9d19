namespace MLNet.Vae;

/// <summary>
/// What scoring does with a row the model cannot judge: one holding NaN or ±∞. Such a row is never called normal. (A finite
/// Bernoulli value outside [0, 1], such as a new pixel above its training maximum after NormalizeMinMax, is not out of the
/// domain: it is clipped into [0, 1] and the row is scored.)
/// </summary>
public enum VaeOutOfDomainInput
{
    /// <summary>
    /// Score the row +∞, the most anomalous value, so <c>PredictedLabel</c> is true (the default: scoring goes on).
    /// <c>LatentFeatures</c> holds the encoder's output for the row as it is (NaN where the row holds NaN).
    /// </summary>
    ScoreAsAnomaly,

    /// <summary>Throw an <see cref="InvalidOperationException"/> naming the row's first such value and its feature index.</summary>
    Throw,
}
