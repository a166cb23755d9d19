using MLNet.Vae.Export;

namespace MLNet.Vae.Scoring.Kinds;

/// <summary>
/// <see cref="VaeScoreKind.ReconstructionAndLatentNeighbours"/>: s(x) = (R − m_R) / s_R + (N − m_N) / s_N, R the reconstruction
/// error and N the mean distance from μ(x) to its 2nd to (k + 1)th nearest stored training codes (<see cref="LatentNeighbours"/>),
/// each standardized by its median and robust spread over the calibration rows. Both terms count both ways: a row far from
/// the training rows' codes scores higher, one among many lower.
/// </summary>
internal sealed class ReconstructionAndLatentNeighboursKind(ScoreKindContext context, RobustScale? reconstruction = null,
    LatentNeighbours? neighbours = null, RobustScale? distance = null) : ScoreKindModel(context)
{
    public override VaeScoreKind Kind => VaeScoreKind.ReconstructionAndLatentNeighbours;
    public override bool NeedsCalibration => true;

    public RobustScale Reconstruction { get; } = reconstruction ?? RobustScale.Identity;
    public LatentNeighbours? Neighbours { get; } = neighbours;
    public RobustScale Distance { get; } = distance ?? RobustScale.Identity;

    public override void Terms(ReadOnlySpan<float> decoded, ReadOnlySpan<float> x, Span<float> terms, int offset) =>
        ReconstructionTerms.Managed(Context.Likelihood, decoded, x, terms);

    public override float Score(float termSum, ReadOnlySpan<float> mean, float latentTerm)
    {
        var neighbours = Neighbours ?? throw new InvalidOperationException("The model was not calibrated for the ReconstructionAndLatentNeighbours score.");
        return Reconstruction.Standardize(termSum) + Distance.Standardize(neighbours.MeanDistance(mean));
    }

    public override string OnnxScore(OnnxGraphBuilder g, OnnxScoreInputs inputs)
    {
        var neighbours = Neighbours ?? throw new InvalidOperationException("The model was not calibrated for the ReconstructionAndLatentNeighbours score.");
        string reconstruction = OnnxStandardized(g, g.SumRows(OnnxFeatureTerms(g, inputs)), "reconstruction", Reconstruction.Center, Reconstruction.Scale);
        string distance = neighbours.Neighbours == 0 ? g.Constant("zero", 0f) : neighbours.OnnxMeanDistance(g, inputs.Mean, Context.LatentDimension);
        return g.Node("Add", reconstruction, OnnxStandardized(g, distance, "neighbour", Distance.Center, Distance.Scale));
    }

    /// <summary>The centre and scale of R, the codes stored from the calibration rows, and the centre and scale of their N.</summary>
    public override ScoreKindModel Calibrated(CalibrationSample sample)
    {
        var (neighbours, distance) = LatentNeighbours.Calibrate(sample);
        return new ReconstructionAndLatentNeighboursKind(Context, RobustScale.Fit(sample.WeightedSums(null)), neighbours, distance);
    }

    public override ScoreCalibration Saved => new(Reconstruction.Center, Reconstruction.Scale, 0, 1,
        Neighbours: Neighbours, NeighbourCenter: Distance.Center, NeighbourScale: Distance.Scale);

    /// <summary>The kind as a file holds it: the reconstruction's centre and scale, and valid codes with their own.</summary>
    public override ScoreKindModel Restored(ScoreCalibration? saved, string field)
    {
        RequireSaved(saved is { IsValid: true }, field, "is missing or not finite with positive scales");
        RequireSaved(saved!.Neighbours is { } n && n.IsValidFor(Context.LatentDimension) && new RobustScale(saved.NeighbourCenter, saved.NeighbourScale).IsValid,
            $"{field}.Neighbours", $"does not hold valid codes over {Context.LatentDimension} latent dimensions with a finite centre and a positive scale");
        return new ReconstructionAndLatentNeighboursKind(Context, new RobustScale(saved.ReconstructionCenter, saved.ReconstructionScale), saved.Neighbours,
            new RobustScale(saved.NeighbourCenter, saved.NeighbourScale));
    }
}
