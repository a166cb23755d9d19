using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Reporting;

/// <summary>What the report needs of its data, read in one pass through the transformer: scores, latent means, labels, the first rows.</summary>
internal sealed record ScoredData(List<float> Scores, List<float[]> Latent, List<string>? Labels, List<float[]> FirstRows)
{
    /// <summary>Scores the first <paramref name="maximumRows"/> rows of <paramref name="data"/>, keeping the first <paramref name="keptRows"/> inputs.</summary>
    public static ScoredData Read(VaeTransformer transformer, IDataView data, string? labelColumnName, int maximumRows, int keptRows)
    {
        var options = transformer.Options;
        var scored = transformer.Transform(data);
        var schema = scored.Schema;
        var label = labelColumnName is null ? (DataViewSchema.Column?)null
            : schema.GetColumnOrNull(labelColumnName) ?? throw new ArgumentOutOfRangeException(nameof(labelColumnName), $"Could not find input column '{labelColumnName}'");
        var columns = new List<DataViewSchema.Column> { schema[options.FeatureColumnName], schema[options.LatentColumnName], schema[options.ScoreColumnName] };
        if (label is not null) columns.Add(label.Value);
        using var cursor = scored.GetRowCursor(columns);
        var features = cursor.GetGetter<VBuffer<float>>(schema[options.FeatureColumnName]);
        var latent = cursor.GetGetter<VBuffer<float>>(schema[options.LatentColumnName]);
        var score = cursor.GetGetter<float>(schema[options.ScoreColumnName]);
        var readLabel = label is null ? null : LabelReader(cursor, label.Value);
        var result = new ScoredData([], [], label is null ? null : [], []);
        VBuffer<float> vector = default;
        float value = 0;
        while (result.Scores.Count < maximumRows && cursor.MoveNext())
        {
            score(ref value);
            result.Scores.Add(value);
            latent(ref vector);
            result.Latent.Add(vector.DenseValues().ToArray());
            result.Labels?.Add(readLabel!());
            if (result.FirstRows.Count < keptRows)
            {
                features(ref vector);
                result.FirstRows.Add(vector.DenseValues().ToArray());
            }
        }
        return result;
    }

    private static Func<string> LabelReader(DataViewRow row, DataViewSchema.Column column) => column.Type switch
    {
        NumberDataViewType t when t == NumberDataViewType.Single => Reader<float>(row, column, v => v.ToString(CultureInfo.InvariantCulture)),
        NumberDataViewType t when t == NumberDataViewType.Double => Reader<double>(row, column, v => v.ToString(CultureInfo.InvariantCulture)),
        NumberDataViewType t when t == NumberDataViewType.Int32 => Reader<int>(row, column, v => v.ToString(CultureInfo.InvariantCulture)),
        BooleanDataViewType => Reader<bool>(row, column, v => v ? "true" : "false"),
        KeyDataViewType => Reader<uint>(row, column, v => v.ToString(CultureInfo.InvariantCulture)),
        TextDataViewType => Reader<ReadOnlyMemory<char>>(row, column, v => v.ToString()),
        _ => throw new ArgumentOutOfRangeException("labelColumnName",
            $"Schema mismatch for label column '{column.Name}': expected Single, Double, Int32, Boolean, key or text, got {column.Type}"),
    };

    private static Func<string> Reader<T>(DataViewRow row, DataViewSchema.Column column, Func<T, string> format)
    {
        var getter = row.GetGetter<T>(column);
        T value = default!;
        return () => { getter(ref value); return format(value); };
    }
}
