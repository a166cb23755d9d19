using MLNet.Vae.Reporting;

namespace MLNet.Vae;

/// <summary>
/// Writes image rows (CHW floats in [0, 1], values outside clamped), such as <see cref="VaeTransformer.Generate"/>,
/// <see cref="VaeTransformer.Reconstruct"/> or <see cref="VaeTransformer.Interpolate"/> return for image data, as PNG files.
/// </summary>
public static class VaeImageWriter
{
    /// <summary>Writes one image, each pixel drawn as a <paramref name="scale"/> × <paramref name="scale"/> square.</summary>
    public static void WritePng(string path, VaeImageShape shape, float[] image, int scale = 1) =>
        WriteGrid(path, shape, [[image]], scale);

    /// <summary>Writes rows of images side by side, 2 grey pixels apart, as one PNG.</summary>
    /// <exception cref="ArgumentException">An image's length differs from the shape's size.</exception>
    public static void WriteGrid(string path, VaeImageShape shape, IReadOnlyList<IReadOnlyList<float[]>> rows, int scale = 1)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Check(shape, rows, scale);
        ImageGrid.Write(path, shape, rows, scale);
    }

    /// <summary>Writes rows of images side by side, 2 grey pixels apart, as one PNG into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException">An image's length differs from the shape's size.</exception>
    public static void WriteGrid(Stream destination, VaeImageShape shape, IReadOnlyList<IReadOnlyList<float[]>> rows, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Check(shape, rows, scale);
        ImageGrid.Write(destination, shape, rows, scale);
    }

    private static void Check(VaeImageShape shape, IReadOnlyList<IReadOnlyList<float[]>> rows, int scale)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(rows);
        if (scale < 1) throw new ArgumentOutOfRangeException(nameof(scale), $"scale must be positive, got {scale}.");
        if (rows.Count == 0 || rows.All(r => r.Count == 0)) throw new ArgumentException("There are no images to write.", nameof(rows));
        for (int r = 0; r < rows.Count; r++)
            for (int c = 0; c < rows[r].Count; c++)
                if (rows[r][c]?.Length != shape.Size)
                    throw new ArgumentException($"Image {c} of row {r} has {rows[r][c]?.Length ?? 0} values; shape {shape.Channels}x{shape.Height}x{shape.Width} holds {shape.Size}.", nameof(rows));
    }
}
