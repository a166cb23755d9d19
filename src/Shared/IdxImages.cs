using System.Buffers.Binary;
using System.IO.Compression;

namespace MLNet.Vae.Samples;

/// <summary>
/// Reads MNIST-style IDX files (gzip-compressed): a big-endian header, then one byte per pixel or label. Shared by the demo
/// (its embedded slice) and the benchmarks (the full Fashion-MNIST files), each compiling this file into itself.
/// </summary>
internal static class IdxImages
{
    public static readonly string[] FashionClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Images scaled to [0, 1] and their labels.</summary>
    public static (float[][] Images, int Width, int Height, byte[] Labels) Read(Stream imagesGz, Stream labelsGz)
    {
        byte[] images = Decompress(imagesGz);
        byte[] labels = Decompress(labelsGz);
        if (images.Length < 16 || BinaryPrimitives.ReadInt32BigEndian(images) != 2051)
            throw new InvalidDataException("The image file is not an IDX3 file (magic number 2051 expected).");
        if (labels.Length < 8 || BinaryPrimitives.ReadInt32BigEndian(labels) != 2049)
            throw new InvalidDataException("The label file is not an IDX1 file (magic number 2049 expected).");
        int count = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(4));
        int height = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(8));
        int width = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(12));
        int labelCount = BinaryPrimitives.ReadInt32BigEndian(labels.AsSpan(4));
        int pixels = width * height;
        if (labelCount != count || images.Length != 16 + (long)count * pixels || labels.Length != 8 + count)
            throw new InvalidDataException($"The IDX files disagree or are truncated: {count} images of {width}x{height}, {labelCount} labels.");

        var rows = new float[count][];
        for (int i = 0; i < count; i++)
        {
            var row = new float[pixels];
            var source = images.AsSpan(16 + i * pixels, pixels);
            for (int p = 0; p < pixels; p++) row[p] = source[p] / 255f;
            rows[i] = row;
        }
        return (rows, width, height, labels[8..]);
    }

    private static byte[] Decompress(Stream gz)
    {
        using var gunzip = new GZipStream(gz, CompressionMode.Decompress);
        using var buffer = new MemoryStream();
        gunzip.CopyTo(buffer);
        return buffer.ToArray();
    }
}
