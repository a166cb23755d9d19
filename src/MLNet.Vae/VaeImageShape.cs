using Microsoft.ML.Data;

namespace MLNet.Vae;

/// <summary>
/// The shape of image rows: <paramref name="Channels"/> planes of <paramref name="Height"/> × <paramref name="Width"/> pixels in
/// CHW order, as ImageAnalytics' <c>ExtractPixels(interleavePixelColors: false)</c> produces (1 channel: grey; 3: RGB).
/// </summary>
public sealed record VaeImageShape(int Channels, int Height, int Width)
{
    /// <summary>
    /// The shape a vector column declares: (C, H, W) for three dimensions, as ImageAnalytics' ExtractPixels gives them,
    /// (1, H, W) for two; null for any other type.
    /// </summary>
    public static VaeImageShape? FromColumnType(DataViewType type) =>
        type is VectorDataViewType { Dimensions.Length: var rank } vector && rank is 2 or 3
            ? rank == 3 ? new VaeImageShape(vector.Dimensions[0], vector.Dimensions[1], vector.Dimensions[2])
                        : new VaeImageShape(1, vector.Dimensions[0], vector.Dimensions[1])
            : null;

    /// <summary>Channels × Height × Width: the vector width of one image (64-bit, so no shape overflows it).</summary>
    public long Size => (long)Channels * Height * Width;
}
