using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.ModelLoadProbe;

/// <summary>
/// The probe's CSV formats. Input: 16 feature columns, then Label and Id, no header. Output: one line per row with
/// every output column, floats in round-trip ("R") form so values compare exactly.
/// </summary>
public static class ProbeData
{
    public const int Width = 16;

    /// <summary>The output columns compared between processes and versions, in the order they are written.</summary>
    public static readonly string[] OutputColumns = ["AnomalyScore", "IsAnomaly", "LatentFeatures", "PredictedLabel", "Score"];

    public static IDataView Load(MLContext ml, string path) => ml.Data.LoadFromTextFile(path,
    [
        new TextLoader.Column("Features", DataKind.Single, 0, Width - 1),
        new TextLoader.Column("Label", DataKind.Single, Width),
        new TextLoader.Column("Id", DataKind.Int32, Width + 1),
    ], separatorChar: ',');

    /// <summary>Writes the columns named in <paramref name="columns"/> (vectors expanded) for every row.</summary>
    public static void WriteColumns(IDataView scored, string path, params string[] columns)
    {
        using var writer = new StreamWriter(path);
        using var cursor = scored.GetRowCursor(columns.Select(c => scored.Schema[c]));
        var getters = columns.Select(c => Getter(cursor, scored.Schema[c])).ToList();
        while (cursor.MoveNext())
            writer.WriteLine(string.Join(",", getters.Select(g => g())));
    }

    private static Func<string> Getter(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        if (column.Type is VectorDataViewType)
        {
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> value = default;
            return () => { getter(ref value); return string.Join(",", value.DenseValues().Select(Format)); };
        }
        if (column.Type == BooleanDataViewType.Instance)
        {
            var getter = cursor.GetGetter<bool>(column);
            bool value = false;
            return () => { getter(ref value); return value ? "1" : "0"; };
        }
        if (column.Type == NumberDataViewType.UInt32 || column.Type is KeyDataViewType)
        {
            var getter = cursor.GetGetter<uint>(column);
            uint value = 0;
            return () => { getter(ref value); return value.ToString(CultureInfo.InvariantCulture); };
        }
        var single = cursor.GetGetter<float>(column);
        float number = 0;
        return () => { single(ref number); return Format(number); };
    }

    private static string Format(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
