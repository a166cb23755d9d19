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

/// <summary>
/// A CSV file of numbers with a header row, read with Sep: RFC 4180 quoting (a quoted cell may hold the separator, quotes and
/// newlines), the separator detected from the header among , ; tab and | unless given. Every feature cell must be a finite
/// number (invariant culture); errors name the file, the line and the column, with the value cut to 100 characters.
/// </summary>
/// <param name="Header">The feature columns' names, in file order.</param>
/// <param name="Rows">The feature values, one array per kept row.</param>
/// <param name="Labels">The label column's values (0 without one).</param>
/// <param name="RowNumbers">Each kept row's number among the file's data rows, 1-based (rows dropped for empty cells leave gaps).</param>
internal sealed record CsvTable(string[] Header, float[][] Rows, float[] Labels, int[] RowNumbers)
{
    private const int ShownValueLength = 100;

    public static CsvTable Read(string path, CsvReading reading, TextReader? standardInput = null)
    {
        string name = path == OutputFile.StandardStream ? "standard input" : path;
        if (path != OutputFile.StandardStream && !File.Exists(path)) throw new CliException($"The file '{path}' does not exist.");
        var options = reading.Separator is char separator ? new SepReaderOptions(new Sep(separator)) : new SepReaderOptions();
        options = options with { Unescape = true, Trim = SepTrim.All, DisableColCountCheck = true };
        using var reader = path == OutputFile.StandardStream
            ? options.From(standardInput ?? Console.In)
            : options.FromFile(path);
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

        var rows = new List<float[]>();
        var labels = new List<float>();
        var numbers = new List<int>();
        int dataRow = 0;
        foreach (var row in reader)
        {
            dataRow++;
            if (row.ColCount == 1 && row[0].Span.IsEmpty) continue;   // a blank line
            if (row.ColCount != header.Length)
                throw new CliException($"Line {row.LineNumberFrom} of '{name}' has {row.ColCount} values; the header has {header.Length}" +
                                       (header.Length > 1 && row.ColCount == 1 ? $" (is the separator '{reader.Spec.Sep.Separator}'? give it with --separator)" : "") + ".");
            var values = new float[features.Length];
            bool missing = false;
            for (int f = 0; f < features.Length; f++)
            {
                var cell = row[features[f]].Span;
                if (cell.IsEmpty)
                {
                    if (reading.Missing == MissingValues.Refuse)
                        throw new CliException($"Line {row.LineNumberFrom} of '{name}', column '{Shown(header[features[f]])}' is empty: fill it, " +
                                               "or say what to do with empty cells (--missing drop or --missing median).");
                    values[f] = float.NaN;
                    missing = true;
                    continue;
                }
                values[f] = Number(cell, row.LineNumberFrom, name, header[features[f]]);
            }
            if (missing && reading.Missing == MissingValues.Drop) continue;
            rows.Add(values);
            labels.Add(label < 0 ? 0 : Number(row[label].Span, row.LineNumberFrom, name, header[label]));
            numbers.Add(dataRow);
        }
        if (rows.Count == 0)
            throw new CliException(dataRow == 0 ? $"The file '{name}' has a header but no rows." : $"The file '{name}' has no row without an empty cell (--missing drop).");
        if (reading.Missing == MissingValues.Median) FillMedians(rows);
        return new CsvTable(features.Select(c => header[c]).ToArray(), rows.ToArray(), labels.ToArray(), numbers.ToArray());
    }

    private static float Number(ReadOnlySpan<char> cell, int line, string file, string column)
    {
        if (float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) && float.IsFinite(value)) return value;
        throw new CliException($"Line {line} of '{file}', column '{Shown(column)}': '{Shown(cell.ToString())}' is not a finite number.");
    }

    /// <summary>Each NaN (an empty cell) replaced by the median of its column's numbers.</summary>
    private static void FillMedians(List<float[]> rows)
    {
        for (int c = 0; c < rows[0].Length; c++)
        {
            var present = rows.Select(r => r[c]).Where(v => !float.IsNaN(v)).Order().ToArray();
            if (present.Length == 0) throw new CliException($"Column {c + 1} has no number to take a median of: every cell of it is empty.");
            float median = present.Length % 2 == 1 ? present[present.Length / 2] : (present[present.Length / 2 - 1] + present[present.Length / 2]) / 2;
            foreach (var row in rows)
                if (float.IsNaN(row[c])) row[c] = median;
        }
    }

    /// <summary>A value from the file as a message shows it: at most 100 characters.</summary>
    private static string Shown(string text) => text.Length <= ShownValueLength ? text : text[..ShownValueLength] + $"... ({text.Length:N0} characters)";

    /// <summary>Writes a header and rows of cells (quoted where needed) as RFC 4180 CSV with commas.</summary>
    public static void Write(TextWriter writer, IEnumerable<string> header, IEnumerable<IEnumerable<string>> rows)
    {
        WriteRow(writer, header);
        foreach (var row in rows) WriteRow(writer, row);
    }

    /// <summary>Writes one row of cells.</summary>
    public static void WriteRow(TextWriter writer, IEnumerable<string> cells) => writer.WriteLine(string.Join(",", cells.Select(Quote)));

    public static string Number(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Quote(string cell) => cell.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{cell.Replace("\"", "\"\"")}\"" : cell;
}
