namespace MLNet.Vae.Model;

/// <summary>
/// Per-feature standardization x̃ = (x − m) / s fitted on the training rows, for the Gaussian likelihood
/// (<see cref="FeatureMoments.Standardization"/>). A feature that does not vary in the training rows gets the smallest
/// scale its magnitude allows, so any other value there makes a row anomalous.
/// </summary>
internal sealed record FeatureStandardization(float[] Mean, float[] Scale);
