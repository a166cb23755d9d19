namespace MLNet.Vae;

/// <summary>
/// How a row's anomaly score is computed. Four kinds are retired (<see cref="ObsoleteAttribute"/>): no data set of the
/// real-table suite or Fashion-MNIST ranks anomalies best with them; models saved with them load and score as before. Every kind is deterministic: the row is encoded to the posterior mean μ(x),
/// decoded from z = μ(x) (never from a random sample), and higher always means more anomalous. The kind gives the measure
/// s of a row; the transformer's Score is s standardized by its median and robust spread over the training rows
/// (<see cref="VaeTransformer"/>).
/// </summary>
public enum VaeScoreKind
{
    /// <summary>
    /// The reconstruction error that suits the likelihood.
    /// Bernoulli: Σᵢ KL(Bern(xᵢ) ‖ Bern(pᵢ)) = Σᵢ [BCE(xᵢ, pᵢ) − H(xᵢ)], with p = σ(decoder logits) and
    /// H(x) = −x log x − (1 − x) log(1 − x). Subtracting the input's own entropy H removes the floor that makes summed BCE
    /// rank grey-level images by how grey they are rather than by how badly they are reconstructed.
    /// Gaussian: Σᵢ (x̃ᵢ − μ̃ᵢ)² in standardized units.
    /// </summary>
    ReconstructionError,

    /// <summary>Σᵢ (xᵢ − x̂ᵢ)² in the input's own units, where x̂ is the decoded mean (σ(logits) for Bernoulli).</summary>
    [Obsolete("Retired: no data set of the real-table suite or Fashion-MNIST ranks anomalies best with it (0.613 mean ROC-AUC on the real tables, 0.913 on Fashion-MNIST). Models saved with it load and score as before; new models should use ReconstructionError or the default.")]
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    SquaredError,

    /// <summary>
    /// The negative evidence lower bound evaluated at z = μ(x): reconstruction term + KL(q(z|x) ‖ N(0, I)), where the
    /// Bernoulli reconstruction term is Σᵢ BCE(xᵢ, pᵢ) and the Gaussian one is ½ Σᵢ (x̃ᵢ − μ̃ᵢ)² + (d/2) log 2π, and
    /// KL = −½ Σⱼ (1 + log σⱼ² − μⱼ² − σⱼ²). On grey-level images its BCE part carries the entropy floor described above.
    /// </summary>
    [Obsolete("Retired: never the best kind on the real-table suite (0.679) or on Fashion-MNIST (0.724, its cross-entropy ranks images by how grey they are). Models saved with it load and score as before; new models should use the default.")]
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    NegativeElbo,

    /// <summary>
    /// What both the decoder and the latent space know, each term standardized
    /// on the training rows: s(x) = (R(x) − m_R) / s_R + max(0, (K(x) − m_K) / s_K − 3), where R is
    /// <see cref="ReconstructionError"/>, K(x) = KL(q(z|x) ‖ N(0, I)) = −½ Σⱼ (1 + log σⱼ² − μⱼ² − σⱼ²) (how far the row's
    /// code lies from where the prior puts the data), and m and s are the median and the inter-quartile range / 1.349 of
    /// each term over the training rows. A row is anomalous when it reconstructs badly (it is off the data's manifold) or
    /// encodes far out (on the manifold, but where no training row was). The latent term counts only beyond 3 robust
    /// standard deviations: within them its spread over normal rows would bury anomalies that only break the features'
    /// dependence (docs/choosing-options.md has the measurements).
    /// </summary>
    [Obsolete("Retired: superseded by ReconstructionAndLatentNeighbours, the tables default (0.676 against 0.692 on the real-table suite). Models saved with it load and score as before.")]
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    ReconstructionAndLatent,

    /// <summary>
    /// The reconstruction error with each feature's term weighted by how steady it is on normal rows (the default for the
    /// Bernoulli likelihood with the MLP): s(x) = Σᵢ tᵢ(x) / (σᵢ + ε), where tᵢ is feature i's term of <see cref="ReconstructionError"/>,
    /// σᵢ the standard deviation of tᵢ over the training rows (up to 8,192 of them, spread evenly) and ε = 0.3 × the mean σᵢ (so that a feature the training
    /// rows always reconstruct exactly does not dominate). A pixel that the class's images always reconstruct well weighs
    /// more than one on a varying edge, so an anomaly is judged where normal rows agree: on Fashion-MNIST one-class it lifts
    /// the mean ROC-AUC from 0.920 to 0.926 (docs/decisions.md). It loses where anomalies differ from normal rows only
    /// where those vary themselves (docs/choosing-options.md). The feature scores are the weighted terms, summing to s(x).
    /// </summary>
    WeightedReconstructionError,

    /// <summary>
    /// <see cref="ReconstructionAndLatent"/> plus where the row's code lies among the training rows' codes:
    /// s(x) = (R(x) − m_R) / s_R + max(0, (K(x) − m_K) / s_K − 3) + max(0, (D(x) − m_D) / s_D), where D(x) = −log Σₖ πₖ N(μ(x); cₖ, Σₖ) is the negative log density of μ(x) under a Gaussian mixture (up to 4
    /// components, full covariances) fitted by EM to the training rows' latent means, and m_D, s_D its median and
    /// inter-quartile range / 1.349 over them. The prior N(0, I) says where codes should be; the mixture says where the
    /// encoder put them, so a row whose code falls between or beside the training rows' clusters (a class between two others,
    /// a broken dependence between features) scores high even when it reconstructs well. The term only adds: a dense region
    /// of codes may be a large group of anomalies among the training rows, which the mixture gives a component of its own.
    /// docs/choosing-options.md has the measurements. Declared last so that the earlier kinds keep their numeric values.
    /// </summary>
    [Obsolete("Retired: the tables default until ReconstructionAndLatentNeighbours ranked anomalies better on the real-table suite (0.681 against 0.692). Models saved with it load and score as before.")]
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    ReconstructionAndLatentDensity,

    /// <summary>
    /// <see cref="WeightedReconstructionError"/> plus how far the row's code lies from the training rows' nearest codes (the
    /// default for the Bernoulli likelihood, pixels, with the convolutional network):
    /// s(x) = (W(x) − m_W) / s_W + max(0, (N(x) − m_N) / s_N), where W(x) = Σᵢ wᵢ tᵢ(x) is the weighted reconstruction error,
    /// N(x) = (1/k) Σ_{r=2}^{k+1} ‖μ(x) − c₍ᵣ₎‖ the mean Euclidean distance from μ(x) to its 2nd to (k + 1)th nearest stored
    /// training code c (k = 10; up to 2,048 codes spread evenly over the calibration rows, so a trained model carries up to
    /// 2,048 × L floats), and m, s the median and inter-quartile range / 1.349 of W and N over the calibration rows (up to
    /// 8,192, spread evenly). The nearest code is always skipped, so that a stored training row is not its own neighbour. A
    /// row is anomalous when it reconstructs badly where normal rows agree, or encodes where few training rows did: on
    /// Fashion-MNIST one-class the codes carry what a blurry reconstruction loses (docs/choosing-options.md has the
    /// measurements). Like the density term, the distance only adds: a dense group of anomalies among the training rows does
    /// not score below normal rows. The feature scores are the weighted terms wᵢ tᵢ, as for <see cref="WeightedReconstructionError"/>.
    /// Declared last so that the earlier kinds keep their numeric values.
    /// </summary>
    WeightedReconstructionAndLatentNeighbours,

    /// <summary>
    /// The reconstruction error plus where the row's code lies among the training rows' codes (the default for the Gaussian
    /// likelihood, tables): s(x) = (R(x) − m_R) / s_R + (N(x) − m_N) / s_N, R the <see cref="ReconstructionError"/> and N(x) the mean Euclidean
    /// distance from μ(x) to its 2nd to (k + 1)th nearest stored training codes (as in
    /// <see cref="WeightedReconstructionAndLatentNeighbours"/>), each standardized by its median and robust spread over the
    /// calibration rows. Unlike that kind, neither term is weighted or clipped: a row whose code lies among many training codes
    /// scores lower, one far from them higher. Declared last so that the earlier kinds keep their numeric values.
    /// </summary>
    ReconstructionAndLatentNeighbours,
}
