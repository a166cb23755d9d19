namespace MLNet.Vae;

/// <summary>A known VAE failure mode that training detected (see docs/debugging.md).</summary>
public enum VaeWarningKind
{
    /// <summary>Almost no latent dimension is used: the decoder ignores z (KL near zero).</summary>
    PosteriorCollapse,
    /// <summary>The β-weighted KL term outweighs the reconstruction term while reconstructions stay poor.</summary>
    KlDominates,
    /// <summary>Reconstructions are barely better than predicting each feature's mean (blurry reconstructions).</summary>
    ReconstructionNotImproving,
    /// <summary>The latent space is not smaller than the input, so it need not compress anything.</summary>
    LatentNotSmallerThanInput,
    /// <summary>A hidden layer is wider than the input, which lets the autoencoder approach the identity.</summary>
    HiddenLayerWiderThanInput,
    /// <summary>
    /// Features that do not vary in the training rows (or vary less than float32 resolves around their value): any other
    /// value there makes a row anomalous.
    /// </summary>
    ConstantFeatures,
    /// <summary>
    /// <see cref="VaeScoreKind.SquaredError"/> adds squared errors in the features' own units, and one feature's spread is so
    /// much larger than the others' that it alone decides the score.
    /// </summary>
    FeatureScalesDiffer,
}

/// <summary>A warning raised while fitting, with what to change. Also written to <c>MLContext.Log</c>.</summary>
/// <param name="Kind">Which failure mode.</param>
/// <param name="Message">What was measured and which options address it.</param>
public sealed record VaeTrainingWarning(VaeWarningKind Kind, string Message);
