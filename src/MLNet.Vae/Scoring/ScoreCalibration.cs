namespace MLNet.Vae.Scoring;

/// <summary>
/// The calibration of a score kind as a model file holds it (the JSON field "Calibration", and each member's in an
/// ensemble): one record whose fields each kind fills in part (<see cref="ScoreKindModel.Saved"/>, read back by
/// <see cref="ScoreKindModel.Restored"/>), kept in this shape so that every file written since the calibrated kinds exist
/// loads, and every release since reads the files this one writes. The kinds keep their state in their own types.
/// </summary>
internal sealed record ScoreCalibration(float ReconstructionCenter, float ReconstructionScale, float LatentCenter, float LatentScale,
    float[]? FeatureWeights = null, LatentCodeDensity? Density = null, float DensityCenter = 0, float DensityScale = 1,
    float WeightedCenter = 0, float WeightedScale = 1, LatentNeighbours? Neighbours = null, float NeighbourCenter = 0, float NeighbourScale = 1)
{
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
}
