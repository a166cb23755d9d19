namespace MLNet.Vae.Scoring;

/// <summary>
/// What the calibrated score kinds know of the training rows. For <see cref="VaeScoreKind.ReconstructionAndLatent"/>, where
/// its two terms sit: a robust centre (the median) and scale (the inter-quartile range / 1.349, which equals σ for normal
/// data; the standard deviation when the range is 0, and 1 when that is 0 too) of each, so that neither term dominates by
/// its units alone. For <see cref="VaeScoreKind.WeightedReconstructionError"/>, each feature's weight 1 / (σᵢ + ε)
/// (<see cref="FeatureTermSpread"/>). For <see cref="VaeScoreKind.ReconstructionAndLatentDensity"/>, also the mixture fitted to
/// the training rows' latent means and the centre and scale of its negative log density D over them. For
/// <see cref="VaeScoreKind.WeightedReconstructionAndLatentNeighbours"/>, the feature weights, the centre and scale of the
/// weighted error W, the stored training codes and the centre and scale of their neighbour distance N.
/// </summary>
internal sealed record ScoreCalibration(float ReconstructionCenter, float ReconstructionScale, float LatentCenter, float LatentScale,
    float[]? FeatureWeights = null, LatentCodeDensity? Density = null, float DensityCenter = 0, float DensityScale = 1,
    float WeightedCenter = 0, float WeightedScale = 1, LatentNeighbours? Neighbours = null, float NeighbourCenter = 0, float NeighbourScale = 1)
{
    public static ScoreCalibration Fit(float[] reconstruction, float[] latent, float[]? featureWeights = null)
    {
        var (reconstructionCenter, reconstructionScale) = CenterAndScale(reconstruction);
        var (latentCenter, latentScale) = CenterAndScale(latent);
        return new ScoreCalibration(reconstructionCenter, reconstructionScale, latentCenter, latentScale, featureWeights);
    }

    /// <summary>This calibration with <paramref name="density"/> and the centre and scale of its values <paramref name="densities"/> on the training rows.</summary>
    public ScoreCalibration WithDensity(LatentCodeDensity density, float[] densities)
    {
        var (center, scale) = CenterAndScale(densities);
        return this with { Density = density, DensityCenter = center, DensityScale = scale };
    }

    /// <summary>
    /// This calibration with <paramref name="neighbours"/>, the centre and scale of the weighted errors <paramref name="weighted"/>
    /// and of the neighbour distances <paramref name="distances"/> on the training rows.
    /// </summary>
    public ScoreCalibration WithNeighbours(LatentNeighbours neighbours, float[] weighted, float[] distances)
    {
        var (weightedCenter, weightedScale) = CenterAndScale(weighted);
        var (center, scale) = CenterAndScale(distances);
        return this with
        {
            WeightedCenter = weightedCenter, WeightedScale = weightedScale,
            Neighbours = neighbours, NeighbourCenter = center, NeighbourScale = scale,
        };
    }

    public bool IsValid => float.IsFinite(ReconstructionCenter) && float.IsFinite(LatentCenter)
        && float.IsFinite(ReconstructionScale) && ReconstructionScale > 0 && float.IsFinite(LatentScale) && LatentScale > 0;

    /// <summary>Whether it holds a valid mixture over <paramref name="latentDimension"/> dimensions with a finite centre and positive finite scale.</summary>
    public bool HasDensity(int latentDimension) => Density is { } density && density.IsValidFor(latentDimension)
        && float.IsFinite(DensityCenter) && float.IsFinite(DensityScale) && DensityScale > 0;

    /// <summary>
    /// Whether it holds valid codes over <paramref name="latentDimension"/> dimensions, and a finite centre and positive finite
    /// scale for both the weighted error and the neighbour distance.
    /// </summary>
    public bool HasNeighbours(int latentDimension) => Neighbours is { } neighbours && neighbours.IsValidFor(latentDimension)
        && float.IsFinite(WeightedCenter) && float.IsFinite(WeightedScale) && WeightedScale > 0
        && float.IsFinite(NeighbourCenter) && float.IsFinite(NeighbourScale) && NeighbourScale > 0;

    /// <summary>Whether it holds one positive finite weight for each of <paramref name="width"/> features.</summary>
    public bool HasFeatureWeights(int width) => FeatureWeights is { } weights && weights.Length == width && weights.All(w => float.IsFinite(w) && w > 0);

    /// <summary>The median and robust spread of the finite values (see the type's summary).</summary>
    public static (float Center, float Scale) CenterAndScale(float[] values)
    {
        var finite = values.Where(float.IsFinite).Select(v => (double)v).Order().ToArray();
        if (finite.Length == 0) return (0, 1);
        double median = Quantile(finite, 0.5);
        double scale = (Quantile(finite, 0.75) - Quantile(finite, 0.25)) / 1.349;
        if (!(scale > 1e-12))
        {
            double mean = finite.Average();
            scale = Math.Sqrt(finite.Average(v => (v - mean) * (v - mean)));
        }
        return ((float)median, scale > 1e-12 ? (float)scale : 1f);
    }

    /// <summary>The q quantile of sorted values, interpolating between order statistics.</summary>
    private static double Quantile(double[] sorted, double q)
    {
        double position = q * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }
}
