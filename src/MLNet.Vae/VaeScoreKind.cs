namespace MLNet.Vae;

/// <summary>
/// How a row's anomaly score is computed. Every kind is deterministic: the row is encoded to the posterior mean μ(x),
/// decoded from z = μ(x) (never from a random sample), and higher always means more anomalous.
/// </summary>
public enum VaeScoreKind
{
    /// <summary>
    /// The reconstruction error that suits the likelihood (the default).
    /// Bernoulli: Σᵢ KL(Bern(xᵢ) ‖ Bern(pᵢ)) = Σᵢ [BCE(xᵢ, pᵢ) − H(xᵢ)], with p = σ(decoder logits) and
    /// H(x) = −x log x − (1 − x) log(1 − x). Subtracting the input's own entropy H removes the floor that makes summed BCE
    /// rank grey-level images by how grey they are rather than by how badly they are reconstructed.
    /// Gaussian: Σᵢ (x̃ᵢ − μ̃ᵢ)² in standardized units.
    /// </summary>
    ReconstructionError,

    /// <summary>Σᵢ (xᵢ − x̂ᵢ)² in the input's own units, where x̂ is the decoded mean (σ(logits) for Bernoulli).</summary>
    SquaredError,

    /// <summary>
    /// The negative evidence lower bound evaluated at z = μ(x): reconstruction term + KL(q(z|x) ‖ N(0, I)), where the
    /// Bernoulli reconstruction term is Σᵢ BCE(xᵢ, pᵢ) and the Gaussian one is ½ Σᵢ (x̃ᵢ − μ̃ᵢ)² + (d/2) log 2π, and
    /// KL = −½ Σⱼ (1 + log σⱼ² − μⱼ² − σⱼ²). On grey-level images its BCE part carries the entropy floor described above.
    /// </summary>
    NegativeElbo,
}
