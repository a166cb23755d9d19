using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Data;

/// <summary>Where a model's image shape comes from: the options, or the feature column's dimensions.</summary>
internal static class ImageShapes
{
    /// <summary>(C, H, W) from a vector column's dimensions, as ImageAnalytics' ExtractPixels declares them; (1, H, W) for two.</summary>
    public static VaeImageShape? FromColumn(DataViewSchema.Column column) => VaeImageShape.FromColumnType(column.Type);

    /// <summary>
    /// The image shape to fit with: <see cref="VaeOptions.ImageShape"/>, else the column's. Throws when they disagree with
    /// each other or with the vector width, or when the convolutional network has none.
    /// </summary>
    public static VaeImageShape? Resolve(VaeOptions options, DataViewSchema.Column column, int width)
    {
        var fromColumn = FromColumn(column);
        var shape = options.ImageShape ?? fromColumn;
        if (options.ImageShape is { } given && fromColumn is not null && given != fromColumn)
        {
            throw new ArgumentOutOfRangeException(nameof(VaeOptions.ImageShape),
                $"ImageShape {Text(given)} disagrees with input column '{column.Name}', whose dimensions are {Text(fromColumn)}.");
        }
        if (shape is not null && shape.Size != width)
        {
            throw new ArgumentOutOfRangeException(nameof(VaeOptions.ImageShape),
                $"ImageShape {Text(shape)} holds {shape.Size} values, but input column '{column.Name}' has {width}.");
        }
        if (shape is null && options.Architecture == VaeArchitecture.Convolutional)
        {
            throw new ArgumentOutOfRangeException(nameof(VaeOptions.ImageShape),
                $"The convolutional architecture needs the image shape of input column '{column.Name}' (a vector of {width}): set " +
                "VaeOptions.ImageShape, or produce the column with ImageAnalytics' ExtractPixels, which declares (C, H, W).");
        }
        return shape;
    }

    public static string Text(VaeImageShape shape) => $"{shape.Channels}x{shape.Height}x{shape.Width}";
}
