using System.Numerics;
using System.Runtime.InteropServices;

namespace MLNet.Vae.Data;

/// <summary>
/// A fingerprint of a set of rows that does not depend on their order: the count and the wrapping sum of a hash of each row's
/// bits. Streaming Fit reads its data once per pass; two passes over the same rows, in any order, give the same fingerprint,
/// and a source whose rows changed between passes (a table written to meanwhile, a read-once enumerable) almost surely not.
/// It detects change, not tampering.
/// </summary>
internal struct RowFingerprint : IEquatable<RowFingerprint>
{
    // Odd multipliers: each lane's hash is Σⱼ bitsⱼ Kⁿ⁻ʲ, so a value moved within the row changes it.
    private const uint LaneMultiplier = 0x9E3779B1;
    private const ulong RowMultiplier = 0xC2B2AE3D27D4EB4F;

    public long Rows { get; private set; }
    public ulong Sum { get; private set; }

    /// <summary>Adds <paramref name="count"/> rows of a row-major block of rows <paramref name="width"/> wide.</summary>
    public void Add(ReadOnlySpan<float> rows, int count, int width)
    {
        for (int r = 0; r < count; r++) Sum += Hash(MemoryMarshal.Cast<float, uint>(rows.Slice(r * width, width)));
        Rows += count;
    }

    private static ulong Hash(ReadOnlySpan<uint> bits)
    {
        var lanes = Vector<uint>.Zero;
        var multiplier = new Vector<uint>(LaneMultiplier);
        int i = 0;
        for (; i <= bits.Length - Vector<uint>.Count; i += Vector<uint>.Count)
            lanes = lanes * multiplier + new Vector<uint>(bits[i..]);
        ulong hash = (ulong)bits.Length;
        for (int lane = 0; lane < Vector<uint>.Count; lane++) hash = (hash ^ lanes[lane]) * RowMultiplier;
        for (; i < bits.Length; i++) hash = (hash ^ bits[i]) * RowMultiplier;
        return hash ^ (hash >> 29);
    }

    public readonly bool Equals(RowFingerprint other) => Rows == other.Rows && Sum == other.Sum;
    public override readonly bool Equals(object? obj) => obj is RowFingerprint other && Equals(other);
    public override readonly int GetHashCode() => HashCode.Combine(Rows, Sum);
}
