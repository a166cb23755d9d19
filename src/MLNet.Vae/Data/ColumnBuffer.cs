using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Data;

/// <summary>
/// Holds one input column's values for the rows of a scoring batch, so that the batched cursor can read its input once and
/// still hand each pass-through value out beside its row's score. Vectors are deep-copied: an upstream getter may reuse
/// its buffers for the next row.
/// </summary>
internal abstract class ColumnBuffer
{
    /// <summary>Copies the input row's current value into <paramref name="slot"/>.</summary>
    public abstract void Capture(int slot);

    /// <summary>A getter of the value in slot <paramref name="slot"/>().</summary>
    public abstract Delegate GetterOf(Func<int> slot);

    /// <summary>A buffer for <paramref name="column"/> of <paramref name="row"/>, <paramref name="capacity"/> rows long.</summary>
    public static ColumnBuffer For(DataViewRow row, DataViewSchema.Column column, int capacity)
    {
        var raw = column.Type.RawType;
        var type = raw.IsGenericType && raw.GetGenericTypeDefinition() == typeof(VBuffer<>)
            ? typeof(VectorColumnBuffer<>).MakeGenericType(raw.GetGenericArguments()[0])
            : typeof(ValueColumnBuffer<>).MakeGenericType(raw);
        return (ColumnBuffer)Activator.CreateInstance(type, row, column, capacity)!;
    }

    /// <summary>Values that copy by assignment: numbers, booleans, keys, text (ML.NET's text memory is immutable).</summary>
    private sealed class ValueColumnBuffer<T>(DataViewRow row, DataViewSchema.Column column, int capacity) : ColumnBuffer
    {
        private readonly ValueGetter<T> _getter = row.GetGetter<T>(column);
        private readonly T[] _values = new T[capacity];

        public override void Capture(int slot) => _getter(ref _values[slot]);

        public override Delegate GetterOf(Func<int> slot) => (ValueGetter<T>)((ref T value) => value = _values[slot()]);
    }

    private sealed class VectorColumnBuffer<T>(DataViewRow row, DataViewSchema.Column column, int capacity) : ColumnBuffer
    {
        private readonly ValueGetter<VBuffer<T>> _getter = row.GetGetter<VBuffer<T>>(column);
        private readonly VBuffer<T>[] _values = new VBuffer<T>[capacity];
        private VBuffer<T> _current;

        public override void Capture(int slot)
        {
            _getter(ref _current);
            _current.CopyTo(ref _values[slot]);
        }

        public override Delegate GetterOf(Func<int> slot) =>
            (ValueGetter<VBuffer<T>>)((ref VBuffer<T> value) => _values[slot()].CopyTo(ref value));
    }
}
