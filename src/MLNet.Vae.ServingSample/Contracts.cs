namespace MLNet.Vae.ServingSample;

/// <summary>One row to score: its features in the order of the model's training columns.</summary>
public sealed record ScoreRequest(float[] Features);

/// <summary>Rows to score in one call (the batched path: faster per row than one call each).</summary>
public sealed record BatchScoreRequest(float[][] Rows);

/// <summary>
/// A row's answer: <see cref="Score"/> on the model's scale (for models written by this release, the robust z-score of
/// the training scores, so 3 is far out), <see cref="IsAnomaly"/> = score above the model's threshold, and the latent
/// features (the encoder's mean).
/// </summary>
public sealed record ScoreResponse(float Score, bool IsAnomaly, float[] LatentFeatures);

/// <summary>What the service loaded: the feature count a row must have and the threshold a score is compared with.</summary>
public sealed record ModelDescription(string ModelPath, int FeatureCount, float Threshold);
