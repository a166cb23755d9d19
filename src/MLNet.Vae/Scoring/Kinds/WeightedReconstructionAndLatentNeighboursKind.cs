using MLNet.Vae.Export;

namespace MLNet.Vae.Scoring.Kinds;

/// <summary>
/// <see cref="VaeScoreKind.WeightedReconstructionAndLatentNeighbours"/>: s(x) = (W − m_W) / s_W + max(0, (N − m_N) / s_N), W the
/// weighted reconstruction error (<see cref="WeightedReconstructionErrorKind"/>) and N the mean distance from μ(x) to its 2nd
/// to (k + 1)th nearest stored training codes (<see cref="LatentNeighbours"/>). The distance only adds: a dense group of
/// anomalies among the training rows does not score below normal rows. The feature scores are the weighted terms.
/// </summary>
internal sealed class WeightedReconstructionAndLatentNeighboursKind(ScoreKindContext context, float[]? weights = null, RobustScale? weighted = null,
    LatentNeighbours? neighbours = null, RobustScale? distance = null) : ScoreKindModel(context)
{
    public override VaeScoreKind Kind => VaeScoreKind.WeightedReconstructionAndLatentNeighbours;
    public override bool NeedsCalibration => true;

    public float[] Weights { get; } = weights ?? Enumerable.Repeat(1f, context.InputWidth).ToArray();
    public RobustScale Weighted { get; } = weighted ?? RobustScale.Identity;
    public LatentNeighbours? Neighbours { get; } = neighbours;
    public RobustScale Distance { get; } = distance ?? RobustScale.Identity;

    public override void Terms(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, Span<float> terms, int offset) =>
        WeightedReconstructionErrorKind.WeightedTerms(Context.Likelihood, Weights, decoded, x, terms, offset);

    public override void FeatureTerms(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, Span<float> terms, int offset) =>
        Terms(decoded, x, terms, offset);

    public override float Score(float termSum, ReadOnlySpan<float> mean, float latentTerm) => Weighted.Standardize(termSum) + NeighbourTerm(mean);

    /// <summary>max(0, (N(μ) − m_N) / s_N).</summary>
    public float NeighbourTerm(ReadOnlySpan<float> mean)
    {
        var neighbours = Neighbours ?? throw new InvalidOperationException("The model was not calibrated for the WeightedReconstructionAndLatentNeighbours score.");
        return Math.Max(0f, Distance.Standardize(neighbours.MeanDistance(mean)));
    }

    public override string OnnxScore(OnnxGraphBuilder g, OnnxScoreInputs inputs) =>
        g.Node("Add", OnnxStandardized(g, g.SumRows(OnnxFeatureTerms(g, inputs)), "weighted", Weighted.Center, Weighted.Scale), OnnxNeighbourTerm(g, inputs.Mean));

    public override string OnnxFeatureTerms(OnnxGraphBuilder g, OnnxScoreInputs inputs) =>
        WeightedReconstructionErrorKind.OnnxWeightedTerms(g, Context.Likelihood, Weights, inputs);

    /// <summary>max(0, (N − m_N) / s_N), [n, 1] (<see cref="LatentNeighbours.OnnxMeanDistance"/>).</summary>
    private string OnnxNeighbourTerm(OnnxGraphBuilder g, string mean)
    {
        var neighbours = Neighbours ?? throw new InvalidOperationException("The model was not calibrated for the WeightedReconstructionAndLatentNeighbours score.");
        if (neighbours.Neighbours == 0) return g.Constant("zero", 0f);
        return g.Node("Max", OnnxStandardized(g, neighbours.OnnxMeanDistance(g, mean, Context.LatentDimension), "neighbour", Distance.Center, Distance.Scale),
            g.Constant("zero", 0f));
    }

    /// <summary>
    /// The feature weights, then each calibration row's weighted error W and latent mean, the codes stored from them
    /// (<see cref="LatentNeighbours.Fit"/>) and each row's distance N, and the centre and scale of W and of N.
    /// </summary>
    public override ScoreKindModel Calibrated(CalibrationSample sample)
    {
        var weights = WeightedReconstructionErrorKind.FitWeights(sample);
        var (neighbours, distance) = LatentNeighbours.Calibrate(sample);
        return new WeightedReconstructionAndLatentNeighboursKind(Context, weights, RobustScale.Fit(sample.WeightedSums(weights)), neighbours, distance);
    }

    public override ScoreCalibration Saved => new(0, 1, 0, 1, FeatureWeights: Weights, WeightedCenter: Weighted.Center, WeightedScale: Weighted.Scale,
        Neighbours: Neighbours, NeighbourCenter: Distance.Center, NeighbourScale: Distance.Scale);

    /// <summary>The kind as a file holds it: the weights, and valid codes with finite centres and positive scales.</summary>
    public override ScoreKindModel Restored(ScoreCalibration? saved, string field)
    {
        RequireSaved(saved?.HasFeatureWeights(Context.InputWidth) == true, $"{field}.FeatureWeights", $"does not hold {Context.InputWidth} positive finite weights");
        RequireSaved(saved!.HasNeighbours(Context.LatentDimension), $"{field}.Neighbours",
            $"does not hold valid codes over {Context.LatentDimension} latent dimensions with finite centres and positive scales");
        return new WeightedReconstructionAndLatentNeighboursKind(Context, saved.FeatureWeights, new RobustScale(saved.WeightedCenter, saved.WeightedScale),
            saved.Neighbours, new RobustScale(saved.NeighbourCenter, saved.NeighbourScale));
    }
}
