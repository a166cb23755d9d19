#pragma warning disable CS0618 // The retired score kinds still score the models saved with them (and a caller may still ask for one).
using MLNet.Vae.Export;

namespace MLNet.Vae.Scoring.Kinds;

/// <summary>
/// <see cref="VaeScoreKind.ReconstructionAndLatentDensity"/>: <see cref="ReconstructionAndLatentKind"/> plus
/// max(0, (D − m_D) / s_D), D(x) = −log p̂(μ(x)) the negative log density of the row's code under a Gaussian mixture fitted
/// to the training rows' codes (<see cref="LatentCodeDensity"/>). Only a sparse region adds: a dense one may be a large group
/// of anomalies that the mixture gave a component of its own.
/// </summary>
internal sealed class ReconstructionAndLatentDensityKind : ScoreKindModel
{
    private readonly double[] _normalizers;

    public ReconstructionAndLatentDensityKind(ScoreKindContext context, RobustScale? reconstruction = null, RobustScale? latent = null,
        LatentCodeDensity? density = null, RobustScale? densityScale = null) : base(context)
    {
        Reconstruction = reconstruction ?? RobustScale.Identity;
        Latent = latent ?? RobustScale.Identity;
        Density = density;
        DensityScale = densityScale ?? RobustScale.Identity;
        _normalizers = density?.LogNormalizers() ?? [];
    }

    public override VaeScoreKind Kind => VaeScoreKind.ReconstructionAndLatentDensity;
    public override bool UsesLatentTerm => true;
    public override bool NeedsCalibration => true;

    public RobustScale Reconstruction { get; }
    public RobustScale Latent { get; }
    public LatentCodeDensity? Density { get; }
    public RobustScale DensityScale { get; }

    public override void Terms(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, Span<float> terms, int offset) =>
        ReconstructionTerms.Managed(Context.Likelihood, decoded, x, terms);

    public override float Score(float termSum, ReadOnlySpan<float> mean, float latentTerm) =>
        ReconstructionAndLatentKind.Combined(Reconstruction, Latent, termSum, latentTerm) + DensityTerm(mean);

    /// <summary>max(0, (D(μ) − m_D) / s_D).</summary>
    public float DensityTerm(ReadOnlySpan<float> mean)
    {
        var density = Density ?? throw new InvalidOperationException("The model was not calibrated for the ReconstructionAndLatentDensity score.");
        return Math.Max(0f, DensityScale.Standardize((float)density.NegativeLogDensity(mean, _normalizers)));
    }

    /// <summary>
    /// The score's nodes: D = −log Σₖ exp(aₖ − ½ ‖(μ − cₖ) Uₖ‖²), aₖ = log πₖ + log det Uₖ − (L/2) log 2π, per component a Sub,
    /// MatMul and sum of squares, then a log-sum-exp over the components shifted by their maximum, as the managed path does.
    /// </summary>
    public override string OnnxScore(OnnxGraphBuilder g, OnnxScoreInputs inputs)
    {
        var density = Density ?? throw new InvalidOperationException("The model was not calibrated for the ReconstructionAndLatentDensity score.");
        int l = density.Dimension;
        var logTerms = new string[density.Components];
        for (int k = 0; k < density.Components; k++)
        {
            string centred = g.Node("Sub", inputs.Mean, g.Constant($"densityMean{k}", density.Means.AsSpan(k * l, l).ToArray(), 1, l));
            string y = g.Node("MatMul", centred, g.Constant($"densityFactor{k}", density.PrecisionFactors.AsSpan(k * l * l, l * l).ToArray(), l, l));
            string halfQuadratic = g.Node("Mul", g.SumRows(g.Node("Mul", y, y)), g.Constant("half", 0.5f));
            logTerms[k] = g.Node("Sub", g.Constant($"densityNormalizer{k}", (float)_normalizers[k]), halfQuadratic);
        }
        string all = logTerms.Length == 1 ? logTerms[0] : g.Node("Concat", logTerms, n => n.AddAttribute("axis", 1L));
        string largest = g.MaxRows(all);
        string logSum = g.Node("Add", g.Node("Log", g.SumRows(g.Node("Exp", g.Node("Sub", all, largest)))), largest);
        string densityTerm = g.Node("Max", OnnxStandardized(g, g.Node("Neg", logSum), "density", DensityScale.Center, DensityScale.Scale), g.Constant("zero", 0f));
        return g.Node("Add", ReconstructionAndLatentKind.OnnxCombined(g, inputs, g.SumRows(OnnxFeatureTerms(g, inputs)), Reconstruction, Latent), densityTerm);
    }

    public override ScoreKindModel Calibrated(CalibrationSample sample)
    {
        var density = LatentCodeDensity.Fit(sample.Means, sample.Count, sample.LatentDimension, seed: 1);
        var normalizers = density.LogNormalizers();
        var values = Enumerable.Range(0, sample.Count).Select(r => (float)density.NegativeLogDensity(sample.MeanOf(r), normalizers)).ToArray();
        return new ReconstructionAndLatentDensityKind(Context, RobustScale.Fit(sample.WeightedSums(null)), RobustScale.Fit(sample.LatentTerms),
            density, RobustScale.Fit(values));
    }

    public override ScoreCalibration Saved => new(Reconstruction.Center, Reconstruction.Scale, Latent.Center, Latent.Scale,
        Density: Density, DensityCenter: DensityScale.Center, DensityScale: DensityScale.Scale);

    /// <summary>The kind as a file holds it: the two terms' centres and scales, and a valid mixture with its own.</summary>
    public override ScoreKindModel Restored(ScoreCalibration? saved, string field)
    {
        RequireSaved(saved is { IsValid: true }, field, "is missing or not finite with positive scales");
        RequireSaved(saved!.HasDensity(Context.LatentDimension), $"{field}.Density", $"is not a valid mixture over {Context.LatentDimension} latent dimensions");
        return new ReconstructionAndLatentDensityKind(Context, new RobustScale(saved.ReconstructionCenter, saved.ReconstructionScale),
            new RobustScale(saved.LatentCenter, saved.LatentScale), saved.Density, new RobustScale(saved.DensityCenter, saved.DensityScale));
    }
}
