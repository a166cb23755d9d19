namespace MLNet.Vae;

/// <summary>
/// What scoring does with a row the model cannot judge: one holding NaN or ±∞, or, for the Bernoulli likelihood, a value
/// outside [0, 1] (such as a new row above the training maximum after NormalizeMinMax). Such a row is never called normal.
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
