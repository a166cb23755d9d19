namespace MLNet.Vae;

/// <summary>The decoder's output distribution p(x | z), which fixes the reconstruction term of the loss.</summary>
public enum VaeLikelihood
{
    /// <summary>
    /// Independent Bernoulli per feature; for data in [0, 1] such as pixel intensities.
    /// The decoder outputs logits l; reconstruction term = Σᵢ BCE(xᵢ, σ(lᵢ)) = Σᵢ −[xᵢ log σ(lᵢ) + (1 − xᵢ) log(1 − σ(lᵢ))].
    /// </summary>
    Bernoulli,

    /// <summary>
    /// Independent unit-variance Gaussian per standardized feature; for real-valued data.
    /// Features are standardized with the training mean and standard deviation (stored in the model), x̃ = (x − m) / s.
    /// The decoder outputs the mean μ̃; reconstruction term = ½ Σᵢ (x̃ᵢ − μ̃ᵢ)².
    /// </summary>
    Gaussian,
}
