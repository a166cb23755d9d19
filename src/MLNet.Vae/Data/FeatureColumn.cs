using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae.Platform;

namespace MLNet.Vae.Data;

/// <summary>
/// The input column contract: a known-size vector of <see cref="float"/>. Checks it in ML.NET's own wording and reads
/// it into a dense row-major matrix.
/// </summary>
internal static class FeatureColumn
{
    /// <summary>The column's index and width; throws <see cref="ArgumentOutOfRangeException"/> as ML.NET does when it does not fit.</summary>
    public static (int Index, int Width) Check(DataViewSchema schema, string name, int? expectedWidth = null)
    {
        var column = schema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Could not find input column '{name}'");
        string expected = expectedWidth is null ? "known-size vector of Single" : $"Vector<Single, {expectedWidth}>";
        if (column.Type is not VectorDataViewType vector || vector.ItemType != NumberDataViewType.Single || !vector.IsKnownSize)
            throw SchemaMismatch(name, expected, column.Type);
        if (vector.Dimensions.Length == 0 || vector.Size == 0)
            throw SchemaMismatch(name, expected, column.Type);
        if (expectedWidth is not null && vector.Size != expectedWidth)
            throw SchemaMismatch(name, expected, column.Type);
        return (column.Index, vector.Size);
    }

    /// <summary>The same check on an estimator's <see cref="SchemaShape"/>, where only the vector kind is known.</summary>
    public static void Check(SchemaShape shape, string name)
    {
        // The last column of a name is the visible one, as in a DataViewSchema.
        var matches = shape.Where(c => c.Name == name).ToList();
        if (matches.Count == 0)
            throw new ArgumentOutOfRangeException(nameof(shape), $"Could not find input column '{name}'");
        var column = matches[^1];
        if (column.Kind != SchemaShape.Column.VectorKind.Vector || column.ItemType != NumberDataViewType.Single)
        {
            string got = column.Kind switch
            {
                SchemaShape.Column.VectorKind.Scalar => $"{column.ItemType}",
                SchemaShape.Column.VectorKind.VariableVector => $"Vector<{column.ItemType}>",
                _ => $"Vector<{column.ItemType}, n>",
            };
            throw new ArgumentOutOfRangeException(nameof(shape),
                $"Schema mismatch for input column '{name}': expected known-size vector of Single, got {got}");
        }
    }

    private static ArgumentOutOfRangeException SchemaMismatch(string name, string expected, DataViewType got) =>
        new("inputSchema", $"Schema mismatch for input column '{name}': expected {expected}, got {got}");

    /// <summary>
    /// Reads every row of the column into one row-major array [rows × width] (the array may be longer: only its first
    /// rows × width values are the rows), or returns null as soon as there are more than <paramref name="maximumRows"/> rows,
    /// so that the caller can stream instead. A NaN or infinite value stops the read with the row and feature index, since no
    /// loss can be trained on it.
    /// </summary>
    /// <remarks>
    /// Each row is written once into the array Fit trains on. Memory the process has not touched yet costs a page fault per
    /// 4 KB on first write, and that is most of reading's time (measured on a 2-core AMD EPYC VM: 0.57 s to fill 188 MB
    /// fresh, 0.01 s to fill it again), so the array is sized from the row count when the source knows it, and otherwise
    /// grows four-fold from 4 MB into arrays left uninitialized: pages beyond the rows are never touched, and the pages
    /// written twice are at most a third of the rows' own, where gathering chunks into one array wrote every page twice.
    /// Arrays from 8 MB are advised into huge pages before the first write (<see cref="LargeArrays"/>).
    /// </remarks>
    /// <exception cref="InvalidOperationException">The rows hold more values than one array can (<see cref="Array.MaxLength"/>).</exception>
    public static float[]? ReadAll(IDataView data, string name, int width, out int rows, Action? checkCancelled = null, int maximumRows = int.MaxValue)
    {
        var (index, _) = Check(data.Schema, name, width);
        long maximumValues = Math.Min((long)maximumRows * width, Array.MaxLength);
        long? known = data.GetRowCount();
        long capacity = known is long count && count <= maximumRows
            ? Math.Max(width, Math.Min(count * width, maximumValues))
            : Math.Min(Math.Max(width, (1 << 20) / width * (long)width), maximumValues);
        var all = LargeArrays.Allocate((int)capacity);
        rows = 0;
        long used = 0;
        var values = default(VBuffer<float>);
        using (var cursor = data.GetRowCursor([data.Schema[index]]))
        {
            var getter = cursor.GetGetter<VBuffer<float>>(data.Schema[index]);
            while (cursor.MoveNext())
            {
                if (rows == maximumRows) return null;
                if (used + width > all.Length)
                {
                    if (used + width > Array.MaxLength)
                    {
                        throw new InvalidOperationException(
                            $"Input column '{name}' holds more than {Array.MaxLength:N0} values in {rows + 1:N0} rows of {width:N0}: more than the VAE holds in memory. " +
                            "Train on a sample (e.g. mlContext.Data.TakeRows or BootstrapSample) or reduce the width first.");
                    }
                    checkCancelled?.Invoke();
                    long grown = Math.Min(Math.Max(4L * all.Length, used + width), Math.Max(maximumValues, used + width));
                    var larger = LargeArrays.Allocate((int)Math.Min(grown / width * width, Array.MaxLength));
                    Array.Copy(all, larger, used);
                    all = larger;
                }
                getter(ref values);
                var row = all.AsSpan((int)used, width);
                CopyDense(values, row);
                RequireFinite(row, name, rows);
                rows++;
                used += width;
            }
        }
        return all;
    }

    /// <summary>
    /// One pass over the column in blocks of up to <paramref name="blockRows"/> rows, for training on data larger than memory:
    /// each block is the same buffer, row-major [rows × width], valid until the next block is asked for. A NaN or infinite value
    /// stops the pass as in <see cref="ReadAll"/>, and so does a value outside [0, 1] when <paramref name="unitInterval"/> (the
    /// Bernoulli likelihood), in every pass: a source may change between passes. Each enumeration is a new pass over
    /// <paramref name="data"/>.
    /// </summary>
    public static IEnumerable<(float[] Rows, int Count)> ReadBlocks(IDataView data, string name, int width, int blockRows, Action? checkCancelled = null,
        bool unitInterval = false)
    {
        var (index, _) = Check(data.Schema, name, width);
        var buffer = new float[(long)blockRows * width];
        var values = default(VBuffer<float>);
        long rows = 0;
        int inBlock = 0;
        using var cursor = data.GetRowCursor([data.Schema[index]]);
        var getter = cursor.GetGetter<VBuffer<float>>(data.Schema[index]);
        while (cursor.MoveNext())
        {
            getter(ref values);
            var row = buffer.AsSpan(inBlock * width, width);
            CopyDense(values, row);
            RequireFinite(row, name, rows);
            if (unitInterval) RequireUnitInterval(row, width, name, rows);
            rows++;
            if (++inBlock == blockRows)
            {
                checkCancelled?.Invoke();
                yield return (buffer, inBlock);
                inBlock = 0;
            }
        }
        if (inBlock > 0) yield return (buffer, inBlock);
    }

    /// <summary>Refuses a value outside [0, 1], which the Bernoulli likelihood cannot model; <paramref name="firstRow"/> numbers the rows in the message.</summary>
    /// <exception cref="InvalidOperationException">A value is outside [0, 1].</exception>
    public static void RequireUnitInterval(ReadOnlySpan<float> rows, int width, string name, long firstRow = 0)
    {
        for (int i = 0; i < rows.Length; i++)
        {
            if (rows[i] is < 0f or > 1f)
            {
                throw new InvalidOperationException(
                    $"Input column '{name}' has the value {rows[i]} at row {firstRow + i / width}, feature {i % width}, but the Bernoulli " +
                    "likelihood needs every value in [0, 1]. Scale the features first (e.g. mlContext.Transforms.NormalizeMinMax) " +
                    "or use VaeLikelihood.Gaussian for real-valued data.");
            }
        }
    }

    /// <summary>Writes a possibly sparse vector into a dense span of the same logical length.</summary>
    public static void CopyDense(in VBuffer<float> values, Span<float> destination)
    {
        if (values.Length != destination.Length)
            throw new InvalidOperationException($"A vector of length {values.Length} was read where the schema promised {destination.Length}.");
        var stored = values.GetValues();
        if (values.IsDense)
        {
            stored.CopyTo(destination);
            return;
        }
        destination.Clear();
        var indices = values.GetIndices();
        for (int i = 0; i < indices.Length; i++) destination[indices[i]] = stored[i];
    }

    private static void RequireFinite(ReadOnlySpan<float> row, string name, long rowIndex)
    {
        int bad = IndexOfNonFinite(row);
        if (bad >= 0)
        {
            throw new InvalidOperationException(
                $"Input column '{name}' has a non-finite value ({row[bad].ToString(CultureInfo.InvariantCulture)}) at row {rowIndex}, feature {bad}. " +
                "The VAE cannot train on NaN or infinity: remove or impute these rows first " +
                "(e.g. mlContext.Transforms.ReplaceMissingValues or mlContext.Data.FilterRowsByMissingValues).");
        }
    }

    private static int IndexOfNonFinite(ReadOnlySpan<float> row)
    {
        for (int i = 0; i < row.Length; i++)
            if (!float.IsFinite(row[i])) return i;
        return -1;
    }
}
