using MLNet.Vae.Export;
using MLNet.Vae.Kernels;

namespace MLNet.Vae.Scoring.Kinds;

/// <summary>
/// <see cref="VaeScoreKind.WeightedReconstructionError"/>: s(x) = Σᵢ wᵢ tᵢ, each feature's reconstruction-error term weighted
/// by how steady it is on the training rows, wᵢ = 1 / (σᵢ + ε) (<see cref="FeatureTermSpread"/>). The feature scores are the
/// weighted terms, summing to s(x).
/// </summary>
internal sealed class WeightedReconstructionErrorKind(ScoreKindContext context, float[]? weights = null) : ScoreKindModel(context)
{
    public override VaeScoreKind Kind => VaeScoreKind.WeightedReconstructionError;
    public override bool NeedsCalibration => true;

    /// <summary>wᵢ, one per feature (all 1 before calibration).</summary>
    public float[] Weights { get; } = weights ?? Enumerable.Repeat(1f, context.InputWidth).ToArray();

    public override void Terms(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, Span<float> terms, int offset) =>
        WeightedTerms(Context.Likelihood, Weights, decoded, x, terms, offset);

    public override void FeatureTerms(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, Span<float> terms, int offset) =>
        Terms(decoded, x, terms, offset);

    public override float Score(float termSum, ReadOnlySpan<float> mean, float latentTerm) => termSum;

    public override string OnnxScore(OnnxGraphBuilder g, OnnxScoreInputs inputs) => g.SumRows(OnnxFeatureTerms(g, inputs));

    public override string OnnxFeatureTerms(OnnxGraphBuilder g, OnnxScoreInputs inputs) => OnnxWeightedTerms(g, Context.Likelihood, Weights, inputs);

    /// <summary>tᵢ wᵢ for a stretch of a row: shared with the neighbour kind.</summary>
    public static void WeightedTerms(VaeLikelihood likelihood, float[] weights, ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, Span<float> terms, int offset)
    {
        ReconstructionTerms.Managed(likelihood, decoded, x, terms);
        RowMath.Multiply(terms, weights.AsSpan(offset, terms.Length), terms);
    }

    public static string OnnxWeightedTerms(OnnxGraphBuilder g, VaeLikelihood likelihood, float[] weights, OnnxScoreInputs inputs) =>
        g.Node("Mul", ReconstructionTerms.Onnx(g, likelihood, inputs.Decoded, inputs.X), g.Constant("featureWeights", weights, 1, weights.Length));

    /// <summary>wᵢ = 1 / (σᵢ + ε) from the spread of each feature's term over the calibration rows.</summary>
    public static float[] FitWeights(CalibrationSample sample)
    {
        var spread = new FeatureTermSpread(sample.Width);
        spread.Add(sample.Terms, sample.Count);
        return spread.Weights();
    }

    public override ScoreKindModel Calibrated(CalibrationSample sample) => new WeightedReconstructionErrorKind(Context, FitWeights(sample));

    public override ScoreCalibration Saved => new(0, 1, 0, 1, FeatureWeights: Weights);

    /// <summary>The kind as a file holds it: one positive finite weight per feature.</summary>
    public override ScoreKindModel Restored(ScoreCalibration? saved, string field)
    {
        RequireSaved(saved?.HasFeatureWeights(Context.InputWidth) == true, $"{field}.FeatureWeights", $"does not hold {Context.InputWidth} positive finite weights");
        return new WeightedReconstructionErrorKind(Context, saved!.FeatureWeights);
    }
}
