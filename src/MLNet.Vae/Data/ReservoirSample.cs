namespace MLNet.Vae.Data;

/// <summary>
/// A uniform random sample of at most <see cref="Capacity"/> items of a stream of unknown length (Vitter's algorithm R):
/// after n items each of them is in the sample with probability min(1, capacity / n). Holds every item while there are
/// fewer than the capacity, so small data gets exact statistics.
/// </summary>
internal sealed class ReservoirSample<T>(int capacity, int seed)
{
    private readonly List<T> _items = new(Math.Min(capacity, 1 << 16));
    private readonly Random _random = new(seed);

    public int Capacity { get; } = capacity;

    /// <summary>Items seen so far.</summary>
    public long Seen { get; private set; }

    public IReadOnlyList<T> Items => _items;

    public void Add(T item)
    {
        int slot = NextSlot();
        if (slot >= 0) _items[slot] = item;
    }

    /// <summary>
    /// Counts one more item and returns the slot it takes in the sample, or −1 when it is not kept; the caller then stores it
    /// with <see cref="Set"/>. Lets a caller copy only the items that are kept (a row out of a reused block, say).
    /// </summary>
    public int NextSlot()
    {
        Seen++;
        if (_items.Count < Capacity)
        {
            _items.Add(default!);
            return _items.Count - 1;
        }
        long slot = _random.NextInt64(Seen);
        return slot < Capacity ? (int)slot : -1;
    }

    public void Set(int slot, T item) => _items[slot] = item;
}
