using System.Globalization;
using nietras.SeparatedValues;

namespace MLNet.Vae.Cli;

/// <summary>What to do with an empty cell in a feature column.</summary>
internal enum MissingValues
{
    /// <summary>Stop with the line and the column (the default: a gap may be an error in the export).</summary>
    Refuse,
    /// <summary>Leave the row out.</summary>
    Drop,
    /// <summary>Fill it with the median of the column's other cells.</summary>
    Median,
}

/// <summary>
/// How a CSV file is read: its separator (null: detected from the header), the columns left out, the label, empty cells,
/// and, for a model that knows its columns, the only columns read as features (<see cref="Features"/>; the others are not parsed).
/// </summary>
internal sealed record CsvReading(char? Separator = null, IReadOnlyCollection<string>? IgnoreColumns = null, string? LabelColumn = null,
    MissingValues Missing = MissingValues.Refuse, IReadOnlyList<string>? Features = null);

/// <summary>One data row of a CSV file: its feature values, its label (0 without a label column) and its number among the data rows.</summary>
internal readonly record struct CsvRecord(float[] Features, float Label, int RowNumber);

/// <summary>
/// A CSV file of numbers with a header row, read with Sep: RFC 4180 quoting (a quoted cell may hold the separator, quotes and
/// newlines), the separator detected from the header among , ; tab and | unless given. The header is checked when the source
/// is opened; the rows are read lazily, from the file, each time <see cref="Records"/> is enumerated, so a file larger than
/// memory reaches the library's streaming Fit. Every feature cell must be a finite number (invariant culture); errors name
/// the file, the line and the column, with the value cut to 100 characters. Standard input ("-") is copied to a temporary
/// file first, since training reads its rows several times; disposing the source deletes it.
/// </summary>
internal sealed class CsvSource : IDisposable
{
    private const int ShownValueLength = 100;

    /// <summary>At most this many values of a column are kept to take its median (a uniform sample beyond it).</summary>
    public const int MedianSampleValues = 100_000;

    private readonly string _path;
    private readonly string? _temporaryCopy;
    private readonly SepReaderOptions _options;
    private readonly int[] _features;
    private readonly int _label;
    private readonly int _columnCount;
    private readonly MissingValues _missing;
    private float[]? _medians;

    private CsvSource(string path, string name, string? temporaryCopy, SepReaderOptions options, string[] header, int[] features, int label, MissingValues missing)
    {
        _path = path;
        Name = name;
        _temporaryCopy = temporaryCopy;
        _options = options;
        _features = features;
        _label = label;
        _columnCount = header.Length;
        _missing = missing;
        FeatureNames = features.Select(c => header[c]).ToArray();
    }

    /// <summary>The file as messages name it ("standard input" for "-").</summary>
    public string Name { get; }

    /// <summary>The feature columns' names, in the order the features are read.</summary>
    public string[] FeatureNames { get; }

    /// <summary>How many rows the last complete pass over <see cref="Records"/> gave (null before one).</summary>
    public int? RowCount { get; private set; }

    /// <summary>Opens <paramref name="path"/> ("-": <paramref name="standardInput"/>, or the console's) and checks its header against <paramref name="reading"/>.</summary>
    public static CsvSource Open(string path, CsvReading reading, TextReader? standardInput = null)
    {
        string? copy = null;
        string name = path;
        if (path == OutputFile.StandardStream)
        {
            name = "standard input";
            copy = Path.Combine(Path.GetTempPath(), $"mlnet-vae-stdin-{Guid.NewGuid():N}.csv");
            using (var file = File.CreateText(copy))
            {
                var reader = standardInput ?? Console.In;
                var buffer = new char[1 << 16];
                for (int read; (read = reader.Read(buffer, 0, buffer.Length)) > 0;) file.Write(buffer, 0, read);
            }
            path = copy;
        }
        else if (!File.Exists(path)) throw new CliException($"The file '{path}' does not exist.");
        try
        {
            return Checked(path, name, copy, reading);
        }
        catch
        {
            if (copy is not null) File.Delete(copy);
            throw;
        }
    }

    private static CsvSource Checked(string path, string name, string? copy, CsvReading reading)
    {
        var options = reading.Separator is char separator ? new SepReaderOptions(new Sep(separator)) : new SepReaderOptions();
        options = options with { Unescape = true, Trim = SepTrim.All, DisableColCountCheck = true };
        using var reader = options.FromFile(path);
        if (reader.IsEmpty || reader.Header.ColNames.Count == 0 || reader.Header.ColNames.All(string.IsNullOrWhiteSpace))
            throw new CliException($"The file '{name}' is empty: it needs a header row and at least one row of numbers.");
        var header = reader.Header.ColNames.ToArray();
        if (header.Any(string.IsNullOrEmpty)) throw new CliException($"The header of '{name}' has an empty column name.");
        var duplicate = header.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new CliException($"The header of '{name}' names column '{duplicate.Key}' twice.");
        var ignored = reading.IgnoreColumns ?? [];
        foreach (string column in ignored.Append(reading.LabelColumn).OfType<string>())
            if (!header.Contains(column))
                throw new CliException($"The column '{Shown(column)}' is not in the header of '{name}' ({Shown(string.Join(", ", header))}).");
        int label = reading.LabelColumn is null ? -1 : Array.IndexOf(header, reading.LabelColumn);
        if (reading.Features?.Where(f => !header.Contains(f)).ToList() is { Count: > 0 } absent)
            throw new CliException($"'{name}' lacks the model's columns: {Shown(string.Join(", ", absent))}.");
        var features = reading.Features?.Select(f => Array.IndexOf(header, f)).ToArray()
            ?? Enumerable.Range(0, header.Length).Where(c => c != label && !ignored.Contains(header[c])).ToArray();
        if (features.Length == 0) throw new CliException($"'{name}' has no feature columns besides the label and the ignored columns.");
        // The separator found in the header, so that every pass reads the rows alike.
        options = options with { Sep = reader.Spec.Sep };
        return new CsvSource(path, name, copy, options, header, features, label, reading.Missing);
    }

    /// <summary>
    /// The rows, read from the file on each enumeration: a blank line is skipped, a row with an empty feature cell is refused,
    /// left out or filled with its column's median, as the source was opened to do.
    /// </summary>
    public IEnumerable<CsvRecord> Records()
    {
        var medians = _missing == MissingValues.Median ? _medians ??= Medians() : null;
        int kept = 0;
        foreach (var (values, label, rowNumber) in Parsed())
        {
            if (medians is not null)
                for (int f = 0; f < values.Length; f++)
                    if (float.IsNaN(values[f])) values[f] = medians[f];
            kept++;
            yield return new CsvRecord(values, label, rowNumber);
        }
        if (kept == 0)
            throw new CliException(_missing == MissingValues.Drop ? $"The file '{Name}' has no row without an empty cell (--missing drop)." : $"The file '{Name}' has a header but no rows.");
        RowCount = kept;
    }

    /// <summary>The rows as parsed: an empty cell is NaN (or refused, or the row left out, by the missing-value rule).</summary>
    private IEnumerable<CsvRecord> Parsed()
    {
        using var reader = _options.FromFile(_path);
        int dataRow = 0;
        foreach (var row in reader)
        {
            dataRow++;
            if (row.ColCount == 1 && row[0].Span.IsEmpty) continue;   // a blank line
            if (row.ColCount != _columnCount)
                throw new CliException($"Line {row.LineNumberFrom} of '{Name}' has {row.ColCount} values; the header has {_columnCount}" +
                                       (_columnCount > 1 && row.ColCount == 1 ? $" (is the separator '{reader.Spec.Sep.Separator}'? give it with --separator)" : "") + ".");
            var values = new float[_features.Length];
            bool missing = false;
            for (int f = 0; f < _features.Length; f++)
            {
                var cell = row[_features[f]].Span;
                if (cell.IsEmpty)
                {
                    if (_missing == MissingValues.Refuse)
                        throw new CliException($"Line {row.LineNumberFrom} of '{Name}', column '{Shown(FeatureNames[f])}' is empty: fill it, " +
                                               "or say what to do with empty cells (--missing drop or --missing median).");
                    values[f] = float.NaN;
                    missing = true;
                    continue;
                }
                values[f] = Number(cell, row.LineNumberFrom, FeatureNames[f]);
            }
            if (missing && _missing == MissingValues.Drop) continue;
            float label = _label < 0 ? 0 : Number(row[_label].Span, row.LineNumberFrom, reader.Header.ColNames[_label]);
            yield return new CsvRecord(values, label, dataRow);
        }
    }

    /// <summary>
    /// Each feature column's median, from one pass: of every number in it, or of a uniform sample of
    /// <see cref="MedianSampleValues"/> of them in a longer file (seed 1), so that memory stays bounded.
    /// </summary>
    private float[] Medians()
    {
        int columns = _features.Length;
        var samples = Enumerable.Range(0, columns).Select(_ => new List<float>()).ToArray();
        var seen = new long[columns];
        var random = new Random(1);
        foreach (var record in Parsed())
            for (int c = 0; c < columns; c++)
            {
                float value = record.Features[c];
                if (float.IsNaN(value)) continue;
                long index = seen[c]++;
                if (index < MedianSampleValues) samples[c].Add(value);
                else if (random.NextInt64(index + 1) is var slot && slot < MedianSampleValues) samples[c][(int)slot] = value;
            }
        var medians = new float[columns];
        for (int c = 0; c < columns; c++)
        {
            if (samples[c].Count == 0)
                throw new CliException($"Column '{Shown(FeatureNames[c])}' of '{Name}' has no number to take a median of: every cell of it is empty.");
            var sorted = samples[c].Order().ToArray();
            int n = sorted.Length;
            medians[c] = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        }
        return medians;
    }

    private float Number(ReadOnlySpan<char> cell, int line, string column)
    {
        if (float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && float.IsFinite(value)) return value;
        throw new CliException($"Line {line} of '{Name}', column '{Shown(column)}': '{Shown(cell.ToString())}' is not a finite number.");
    }

    /// <summary>A value from the file as a message shows it: at most 100 characters.</summary>
    private static string Shown(string text) => text.Length <= ShownValueLength ? text : text[..ShownValueLength] + $"... ({text.Length:N0} characters)";

    /// <summary>Deletes the copy of standard input.</summary>
    public void Dispose()
    {
        if (_temporaryCopy is not null && File.Exists(_temporaryCopy)) File.Delete(_temporaryCopy);
    }
}
