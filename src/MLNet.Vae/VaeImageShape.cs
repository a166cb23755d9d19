namespace MLNet.Vae;

/// <summary>
/// The shape of image rows: <paramref name="Channels"/> planes of <paramref name="Height"/> × <paramref name="Width"/> pixels in
/// CHW order, as ImageAnalytics' <c>ExtractPixels(interleavePixelColors: false)</c> produces (1 channel: grey; 3: RGB).
/// </summary>
public sealed record VaeImageShape(int Channels, int Height, int Width)
{
    /// <summary>Channels × Height × Width: the vector width of one image (64-bit, so no shape overflows it).</summary>
    public long Size => (long)Channels * Height * Width;
}
