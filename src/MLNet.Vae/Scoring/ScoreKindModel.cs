using MLNet.Vae.Export;

namespace MLNet.Vae.Scoring;

/// <summary>What a score kind is made for: the likelihood, the widths, and the standardization's scales (Gaussian).</summary>
internal sealed record ScoreKindContext(VaeLikelihood Likelihood, int InputWidth, int LatentDimension, float[]? FeatureScale);

/// <summary>One score kind's ONNX inputs: the decoder's output, the input in the network's space, μ and log σ², all [n, ·].</summary>
internal sealed record OnnxScoreInputs(string Decoded, string X, string Mean, string LogVariance);

/// <summary>
/// One score kind (<see cref="VaeScoreKind"/>), everything about it in one object: its per-feature terms and its score from
/// them (run by the batched and the one-row paths alike, in managed code, so the two agree by construction), its ONNX nodes,
/// its calibration on the training rows and the state that calibration gives, and that state as a model file holds it.
/// </summary>
/// <remarks>
/// A row's score is <see cref="Score"/>(Σᵢ tᵢ, μ(x), K(x)), where tᵢ are the kind's <see cref="Terms"/> of the decoder's
/// output and the input (in the network's space: standardized for the Gaussian likelihood, clipped into [0, 1] for
/// Bernoulli), μ(x) the latent mean and K(x) the latent term (the KL to the prior, computed only when
/// <see cref="UsesLatentTerm"/>). An instance is immutable: <see cref="Calibrated"/> returns a new one.
/// </remarks>
internal abstract class ScoreKindModel(ScoreKindContext context)
{
    public abstract VaeScoreKind Kind { get; }

    protected ScoreKindContext Context { get; } = context;

    /// <summary>Whether <see cref="Score"/> reads the latent term K(x).</summary>
    public virtual bool UsesLatentTerm => false;

    /// <summary>Whether <see cref="Calibrated"/> must run on the training rows before the kind can score.</summary>
    public virtual bool NeedsCalibration => false;

    /// <summary>Whether the feature-scores column is <see cref="Terms"/> itself (else <see cref="FeatureTerms"/> is computed apart).</summary>
    public virtual bool TermsAreFeatureScores => true;

    /// <summary>
    /// The terms tᵢ whose sum the score is made of, for the features from <paramref name="offset"/> on (the spans are that
    /// stretch of the row): the one-row path computes each half of a row on its own core.
    /// </summary>
    public abstract void Terms(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, Span<float> terms, int offset);

    /// <summary>
    /// The feature-scores column: each feature's reconstruction-error term (<see cref="ReconstructionTerms"/>), times its
    /// weight for the weighted kinds; a row's shares sum to its reconstruction error.
    /// </summary>
    public virtual void FeatureTerms(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, Span<float> terms, int offset) =>
        ReconstructionTerms.Managed(Context.Likelihood, decoded, x, terms);

    /// <summary>The row's score from the sum of its <see cref="Terms"/>, its latent mean and its latent term.</summary>
    public abstract float Score(float termSum, ReadOnlySpan<float> mean, float latentTerm);

    /// <summary>The score's ONNX nodes, [n, 1].</summary>
    public abstract string OnnxScore(OnnxGraphBuilder g, OnnxScoreInputs inputs);

    /// <summary>The feature-scores column's ONNX nodes, [n, d].</summary>
    public virtual string OnnxFeatureTerms(OnnxGraphBuilder g, OnnxScoreInputs inputs) =>
        ReconstructionTerms.Onnx(g, Context.Likelihood, inputs.Decoded, inputs.X);

    /// <summary>This kind calibrated on training rows (<see cref="CalibrationSample"/>); the kind itself when it needs none.</summary>
    public virtual ScoreKindModel Calibrated(CalibrationSample sample) => this;

    /// <summary>The state calibration gave, as the model file holds it (null for a kind without one).</summary>
    public virtual ScoreCalibration? Saved => null;

    /// <summary>
    /// This kind with the state a model file holds for it (<see cref="Saved"/>), checked: an <see cref="InvalidDataException"/>
    /// names <paramref name="field"/> when it lacks what the kind needs. A kind without state ignores it.
    /// </summary>
    public virtual ScoreKindModel Restored(ScoreCalibration? saved, string field) => this;

    /// <summary>The KL term K(x) = ½ Σⱼ (μⱼ² + σⱼ² − log σⱼ² − 1) under the N(0, I) prior, in float64.</summary>
    public static float Kl(ReadOnlySpan<float> mean, ReadOnlySpan<float> logVariance)
    {
        double sum = 0;
        for (int j = 0; j < mean.Length; j++)
            sum += (double)mean[j] * mean[j] + Math.Exp(logVariance[j]) - logVariance[j] - 1;
        return (float)(0.5 * sum);
    }

    /// <summary>The KL term's ONNX nodes, ½ Σⱼ (μⱼ² + σⱼ² − log σⱼ² − 1), [n, 1].</summary>
    protected static string OnnxKl(OnnxGraphBuilder g, OnnxScoreInputs inputs)
    {
        string sum = g.Node("Sub", g.Node("Add", g.Node("Mul", inputs.Mean, inputs.Mean), g.Node("Exp", inputs.LogVariance)), inputs.LogVariance);
        return g.Node("Mul", g.SumRows(g.Node("Sub", sum, g.Constant("one", 1f))), g.Constant("half", 0.5f));
    }

    /// <summary>(v − c) / s as ONNX nodes.</summary>
    protected static string OnnxStandardized(OnnxGraphBuilder g, string value, string name, float center, float scale) =>
        g.Node("Div", g.Node("Sub", value, g.Constant($"{name}Center", center)), g.Constant($"{name}Scale", scale));

    /// <summary>Refuses a saved state that does not hold what the kind needs, naming the file's field.</summary>
    protected static void RequireSaved(bool condition, string field, string problem)
    {
        if (!condition) throw new InvalidDataException($"Cannot load the VAE model: its metadata field {field} {problem}.");
    }
}
