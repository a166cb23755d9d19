using System.Globalization;

namespace MLNet.Vae.Cli;

/// <summary>Writes RFC 4180 CSV with commas: cells quoted where they hold a comma, a quote or a newline; numbers in round-trip form.</summary>
internal static class CsvOutput
{
    /// <summary>Writes one row of cells.</summary>
    public static void WriteRow(TextWriter writer, IEnumerable<string> cells) => writer.WriteLine(string.Join(",", cells.Select(Quote)));

    public static string Number(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Quote(string cell) => cell.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{cell.Replace("\"", "\"\"")}\"" : cell;
}
