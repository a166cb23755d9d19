using SkiaSharp;

namespace MLNet.Vae.Reporting;

/// <summary>Draws rows of images (CHW floats, clamped to [0, 1]) as one PNG grid, each pixel magnified.</summary>
internal static class ImageGrid
{
    private const int Padding = 2;

    /// <summary>Renders <paramref name="rows"/> (each a list of images) to a PNG file; returns its width and height.</summary>
    public static (int Width, int Height) Write(string path, VaeImageShape shape, IReadOnlyList<IReadOnlyList<float[]>> rows, int scale)
    {
        using var file = File.Create(path);
        return Write(file, shape, rows, scale);
    }

    /// <summary>Renders <paramref name="rows"/> (each a list of images) as a PNG into <paramref name="destination"/>; returns its width and height.</summary>
    public static (int Width, int Height) Write(Stream destination, VaeImageShape shape, IReadOnlyList<IReadOnlyList<float[]>> rows, int scale)
    {
        int columns = rows.Max(r => r.Count);
        int width = Padding + columns * (shape.Width * scale + Padding);
        int height = Padding + rows.Count * (shape.Height * scale + Padding);
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        bitmap.Erase(new SKColor(0x80, 0x80, 0x80));
        for (int r = 0; r < rows.Count; r++)
            for (int c = 0; c < rows[r].Count; c++)
                Draw(bitmap, shape, rows[r][c], Padding + c * (shape.Width * scale + Padding), Padding + r * (shape.Height * scale + Padding), scale);
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        png.SaveTo(destination);
        return (width, height);
    }

    private static void Draw(SKBitmap bitmap, VaeImageShape shape, float[] pixels, int left, int top, int scale)
    {
        int plane = shape.Height * shape.Width;
        for (int y = 0; y < shape.Height; y++)
            for (int x = 0; x < shape.Width; x++)
            {
                int i = y * shape.Width + x;
                byte red = Byte(pixels[i]);
                var color = shape.Channels >= 3
                    ? new SKColor(red, Byte(pixels[plane + i]), Byte(pixels[2 * plane + i]))
                    : new SKColor(red, red, red);
                for (int dy = 0; dy < scale; dy++)
                    for (int dx = 0; dx < scale; dx++)
                        bitmap.SetPixel(left + x * scale + dx, top + y * scale + dy, color);
            }
    }

    private static byte Byte(float value) => (byte)Math.Round(255 * Math.Clamp(float.IsFinite(value) ? value : 0, 0, 1));
}
