using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae.Data;

namespace MLNet.Vae.Tests;

/// <summary>
/// FeatureColumn.ReadAll writes each row once into the array Fit trains on: sized from the row count when the source knows
/// it, grown otherwise. Either way the first rows × width values are the rows in order, and a source longer than the limit
/// gives null.
/// </summary>
[TestClass]
public sealed class FeatureColumnTests
{
    private const int Width = 300;

    private sealed class Row
    {
        [VectorType(Width)] public float[] Features { get; set; } = [];
    }

    private static IEnumerable<Row> Rows(int count) =>
        Enumerable.Range(0, count).Select(r => new Row { Features = Enumerable.Range(0, Width).Select(i => r * 1000f + i).ToArray() });

    [TestMethod]
    public void ReadAll_GrowingPastItsFirstArray_OrSizedFromTheCount_KeepsEveryRowInOrder()
    {
        var ml = new MLContext(seed: 1);
        // 5,000 rows of 300 cross the first 4 MB array (3,495 rows) when the count is unknown (a lazy sequence).
        foreach (var (source, countKnown) in new[] { (ml.Data.LoadFromEnumerable(Rows(5000)), false), (ml.Data.LoadFromEnumerable(Rows(5000).ToList()), true) })
        {
            Assert.AreEqual(countKnown, source.GetRowCount() is not null);
            var all = FeatureColumn.ReadAll(source, "Features", Width, out int rows);
            Assert.AreEqual(5000, rows);
            Assert.IsNotNull(all);
            Assert.IsGreaterThanOrEqualTo(5000 * Width, all.Length);
            for (int r = 0; r < rows; r += 499)
                for (int i = 0; i < Width; i += 37)
                    Assert.AreEqual(r * 1000f + i, all[r * Width + i], $"row {r}, feature {i} (count known: {countKnown})");
            Assert.AreEqual(4999 * 1000f + Width - 1, all[5000 * Width - 1]);
        }
    }

    [TestMethod]
    public void ReadAll_MoreRowsThanTheLimit_GivesNullToStreamInstead()
    {
        var ml = new MLContext(seed: 1);
        Assert.IsNull(FeatureColumn.ReadAll(ml.Data.LoadFromEnumerable(Rows(4000)), "Features", Width, out _, maximumRows: 3999));
        Assert.IsNotNull(FeatureColumn.ReadAll(ml.Data.LoadFromEnumerable(Rows(4000)), "Features", Width, out int rows, maximumRows: 4000));
        Assert.AreEqual(4000, rows);
    }

    [TestMethod]
    public void ReadAll_OnLinux_AdvisesTheRowsIntoHugePagesBeforeWritingThem()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("madvise is Linux's.");
        var ml = new MLContext(seed: 1);
        // 12,000 rows of 300 are 14 MB, above LargeArrays.AdvisedFromBytes; known count (one array) and unknown (grown from 4 MB).
        foreach (var source in new[] { ml.Data.LoadFromEnumerable(Rows(12_000).ToList()), ml.Data.LoadFromEnumerable(Rows(12_000)) })
        {
            var all = FeatureColumn.ReadAll(source, "Features", Width, out int rows);
            Assert.IsNotNull(all);
            Assert.AreEqual(12_000f * 1000 - 1000 + Width - 1, all[rows * Width - 1]);
            // The array is pinned, so its address is its own; the kernel keeps the advice as the "hg" flag of the mapping.
            long address = Marshal.UnsafeAddrOfPinnedArrayElement(all, all.Length / 2).ToInt64();
            CollectionAssert.Contains(MappingFlags(address), "hg", $"count known: {source.GetRowCount() is not null}");
        }
    }

    /// <summary>The VmFlags of the mapping of this process that holds <paramref name="address"/> (/proc/self/smaps).</summary>
    private static string[] MappingFlags(long address)
    {
        bool inside = false;
        foreach (string line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-');
            int space = line.IndexOf(' ');
            if (dash > 0 && space > dash && long.TryParse(line[..dash], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long start)
                && long.TryParse(line[(dash + 1)..space], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long end))
                inside = start <= address && address < end;
            else if (inside && line.StartsWith("VmFlags:", StringComparison.Ordinal))
                return line["VmFlags:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }
        Assert.Fail($"No mapping holds 0x{address:x}.");
        return [];
    }
}
