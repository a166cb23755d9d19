using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using SkiaSharp;

namespace MLNet.Vae.Cli;

/// <summary>
/// The tool's two kinds of input as ML.NET data: a CSV file (its numeric columns become one Features vector whose slot
/// names are the header, so a saved model knows its columns) or a folder of images (ImagePath rows that the saved pipeline
/// loads, resizes and turns into pixels).
/// </summary>
internal sealed record InputData(IDataView Data, IReadOnlyList<string> RowNames, string[]? FeatureNames, bool IsImages)
{
    public const string Features = "Features";
    public const string Pixels = "Pixels";
    public const string ImagePath = "ImagePath";
    private static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    public sealed class CsvRow
    {
        public float[] Features { get; set; } = [];
        public float Label { get; set; }
    }

    public sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";
    }

    /// <summary>Reads <paramref name="path"/>: a folder of images, or a CSV file ("-": standard input) read as <paramref name="reading"/> says.</summary>
    public static InputData Load(MLContext ml, string path, CsvReading reading, TextReader? standardInput = null)
    {
        if (path != OutputFile.StandardStream && Directory.Exists(path)) return LoadImages(ml, path);
        var table = CsvTable.Read(path, reading, standardInput);
        return FromTable(ml, table, table.Header);
    }

    /// <summary>
    /// Reads a CSV file for a model trained on <paramref name="featureNames"/>: those columns by name, in the model's order,
    /// whatever order the file has them in; the file's other columns (an id, a label) are not read.
    /// </summary>
    public static InputData LoadFor(MLContext ml, string path, string[] featureNames, CsvReading reading, TextReader? standardInput = null) =>
        FromTable(ml, CsvTable.Read(path, reading with { Features = featureNames, LabelColumn = null }, standardInput), featureNames);

    private static InputData FromTable(MLContext ml, CsvTable table, string[] names)
    {
        var rows = table.Rows.Select((r, i) => new CsvRow { Features = r, Label = table.Labels[i] }).ToList();
        var schema = SchemaDefinition.Create(typeof(CsvRow));
        schema[Features].ColumnType = new VectorDataViewType(NumberDataViewType.Single, names.Length);
        var slotNames = new VBuffer<ReadOnlyMemory<char>>(names.Length, names.Select(n => n.AsMemory()).ToArray());
        schema[Features].AddAnnotation("SlotNames", slotNames, new VectorDataViewType(TextDataViewType.Instance, names.Length));
        var rowNames = table.RowNumbers.Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        return new InputData(ml.Data.LoadFromEnumerable(rows, schema), rowNames, names, IsImages: false);
    }

    private static InputData LoadImages(MLContext ml, string folder)
    {
        var files = Directory.GetFiles(folder).Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .OrderBy(f => f, StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new CliException($"The folder '{folder}' holds no images ({string.Join(", ", ImageExtensions)}).");
        foreach (string file in files)
        {
            using var bitmap = SKBitmap.Decode(file);
            if (bitmap is null) throw new CliException($"The image '{file}' cannot be read: it is empty, damaged or not an image.");
        }
        var rows = files.Select(f => new ImageRow { ImagePath = Path.GetFullPath(f) }).ToList();
        return new InputData(ml.Data.LoadFromEnumerable(rows), files.Select(Path.GetFileName).ToList()!, null, IsImages: true);
    }

    /// <summary>The pixel pipeline saved in front of an image model: load, resize to size × size, (grey,) extract CHW pixels in [0, 1].</summary>
    public static IEstimator<ITransformer> ImagePipeline(MLContext ml, int size, bool grayscale)
    {
        var pipeline = ml.Transforms.LoadImages("Image", imageFolder: "", ImagePath)
            .Append(ml.Transforms.ResizeImages("Image", size, size, resizing: ImageResizingEstimator.ResizingKind.Fill));
        return grayscale
            ? pipeline.Append(ml.Transforms.ConvertToGrayscale("Image"))
                .Append(ml.Transforms.ExtractPixels(Pixels, "Image", ImagePixelExtractingEstimator.ColorBits.Red, interleavePixelColors: false, scaleImage: 1f / 255))
            : pipeline.Append(ml.Transforms.ExtractPixels(Pixels, "Image", interleavePixelColors: false, scaleImage: 1f / 255));
    }

    /// <summary>The feature names a CSV model was trained on (its input's slot names), or null for an image model.</summary>
    public static string[]? FeatureNamesOf(DataViewSchema inputSchema)
    {
        var column = inputSchema.GetColumnOrNull(Features);
        if (column is null || !column.Value.HasSlotNames()) return null;
        VBuffer<ReadOnlyMemory<char>> names = default;
        column.Value.GetSlotNames(ref names);
        return names.DenseValues().Select(n => n.ToString()).ToArray();
    }
}
