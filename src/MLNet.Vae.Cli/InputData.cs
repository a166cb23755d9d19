using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using SkiaSharp;

namespace MLNet.Vae.Cli;

/// <summary>
/// The tool's two kinds of input as ML.NET data: a CSV file (its numeric columns become one Features vector whose slot
/// names are the header, so a saved model knows its columns; read from the file on each pass, so that a file larger than
/// memory streams) or a folder of images (ImagePath rows that the saved pipeline loads, resizes and turns into pixels).
/// Each row also carries what names it in the tool's output (<see cref="RowColumn"/>): its data row number, or its file.
/// Dispose it: standard input is held in a temporary file.
/// </summary>
internal sealed class InputData : IDisposable
{
    public const string Features = "Features";
    public const string Pixels = "Pixels";
    public const string ImagePath = "ImagePath";
    public const string Row = "Row";
    private static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    private readonly CsvSource? _csv;
    private readonly int _imageCount;

    private InputData(IDataView data, string[]? featureNames, CsvSource? csv, int imageCount)
    {
        Data = data;
        FeatureNames = featureNames;
        _csv = csv;
        _imageCount = imageCount;
    }

    public IDataView Data { get; }

    /// <summary>The CSV's feature columns, or null for images.</summary>
    public string[]? FeatureNames { get; }

    public bool IsImages => _csv is null;

    /// <summary>The column that names a row in the output: <see cref="Row"/> (the data row number) or <see cref="ImagePath"/>.</summary>
    public string RowColumn => IsImages ? ImagePath : Row;

    /// <summary>How many rows the data holds: known for images, and for a CSV once a pass has read it whole.</summary>
    public int? RowCount => _csv is null ? _imageCount : _csv.RowCount;

    public sealed class CsvRow
    {
        public float[] Features { get; set; } = [];
        public float Label { get; set; }
        public int Row { get; set; }
    }

    public sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";
    }

    /// <summary>Reads <paramref name="path"/>: a folder of images, or a CSV file ("-": standard input) read as <paramref name="reading"/> says.</summary>
    public static InputData Load(MLContext ml, string path, CsvReading reading, TextReader? standardInput = null)
    {
        if (path != OutputFile.StandardStream && Directory.Exists(path)) return LoadImages(ml, path);
        return FromCsv(ml, CsvSource.Open(path, reading, standardInput));
    }

    /// <summary>
    /// Reads a CSV file for a model trained on <paramref name="featureNames"/>: those columns by name, in the model's order,
    /// whatever order the file has them in; the file's other columns (an id, a label) are not read as features.
    /// </summary>
    public static InputData LoadFor(MLContext ml, string path, string[] featureNames, CsvReading reading, TextReader? standardInput = null) =>
        FromCsv(ml, CsvSource.Open(path, reading with { Features = featureNames }, standardInput));

    private static InputData FromCsv(MLContext ml, CsvSource csv)
    {
        var names = csv.FeatureNames;
        var schema = SchemaDefinition.Create(typeof(CsvRow));
        schema[Features].ColumnType = new VectorDataViewType(NumberDataViewType.Single, names.Length);
        var slotNames = new VBuffer<ReadOnlyMemory<char>>(names.Length, names.Select(n => n.AsMemory()).ToArray());
        schema[Features].AddAnnotation("SlotNames", slotNames, new VectorDataViewType(TextDataViewType.Instance, names.Length));
        // A sequence that reads the file again on each enumeration: ML.NET's cursors stream it, and Fit can pass over it again.
        var rows = csv.Records().Select(r => new CsvRow { Features = r.Features, Label = r.Label, Row = r.RowNumber });
        return new InputData(ml.Data.LoadFromEnumerable(rows, schema), names, csv, 0);
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
        return new InputData(ml.Data.LoadFromEnumerable(rows), null, null, files.Count);
    }

    /// <summary>Reads the name of each row from a cursor over data that carries <see cref="RowColumn"/>.</summary>
    public Func<string> RowNames(DataViewRowCursor cursor)
    {
        if (IsImages)
        {
            var path = cursor.GetGetter<ReadOnlyMemory<char>>(cursor.Schema[ImagePath]);
            ReadOnlyMemory<char> value = default;
            return () => { path(ref value); return Path.GetFileName(value.ToString()); };
        }
        var number = cursor.GetGetter<int>(cursor.Schema[Row]);
        int row = 0;
        return () => { number(ref row); return row.ToString(System.Globalization.CultureInfo.InvariantCulture); };
    }

    public void Dispose() => _csv?.Dispose();

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
