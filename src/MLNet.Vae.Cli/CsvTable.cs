using System.Globalization;
using System.Text;

namespace MLNet.Vae.Cli;

/// <summary>
/// A CSV file of numbers with a header row: every cell must parse as a number (invariant culture), every row must have as
/// many cells as the header. Errors name the file, the line and the column.
/// </summary>
internal sealed record CsvTable(string[] Header, float[][] Rows)
{
    public static CsvTable Read(string path)
    {
        if (!File.Exists(path)) throw new CliException($"The file '{path}' does not exist.");
        var lines = File.ReadAllLines(path);
        int first = Array.FindIndex(lines, l => l.Trim().Length > 0);
        if (first < 0) throw new CliException($"The file '{path}' is empty: it needs a header row and at least one row of numbers.");
        var header = Split(lines[first]).Select(h => h.Trim()).ToArray();
        if (header.Any(string.IsNullOrEmpty)) throw new CliException($"The header of '{path}' has an empty column name.");
        var duplicate = header.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new CliException($"The header of '{path}' names column '{duplicate.Key}' twice.");
        var rows = new List<float[]>();
        for (int i = first + 1; i < lines.Length; i++)
        {
            if (lines[i].Trim().Length == 0) continue;
            var cells = Split(lines[i]);
            if (cells.Count != header.Length)
                throw new CliException($"Line {i + 1} of '{path}' has {cells.Count} values; the header has {header.Length}.");
            var row = new float[header.Length];
            for (int c = 0; c < cells.Count; c++)
            {
                string cell = cells[c].Trim();
                if (!float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out row[c]) || !float.IsFinite(row[c]))
                    throw new CliException($"Line {i + 1} of '{path}', column '{header[c]}': '{cell}' is not a finite number.");
            }
            rows.Add(row);
        }
        if (rows.Count == 0) throw new CliException($"The file '{path}' has a header but no rows.");
        return new CsvTable(header, rows.ToArray());
    }

    /// <summary>Splits one line on commas, honouring double quotes ("a, b" is one cell; "" is a quote).</summary>
    private static List<string> Split(string line)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted && c == '"' && i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; }
            else if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(c);
        }
        cells.Add(cell.ToString());
        return cells;
    }

    /// <summary>Writes a header and rows of cells (quoted where needed).</summary>
    public static void Write(string path, IEnumerable<string> header, IEnumerable<IEnumerable<string>> rows)
    {
        using var writer = new StreamWriter(path);
        writer.WriteLine(string.Join(",", header.Select(Quote)));
        foreach (var row in rows) writer.WriteLine(string.Join(",", row.Select(Quote)));
    }

    public static string Number(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Quote(string cell) => cell.Contains(',') || cell.Contains('"') ? $"\"{cell.Replace("\"", "\"\"")}\"" : cell;
}
