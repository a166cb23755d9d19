using System.Runtime.CompilerServices;
using System.Diagnostics;

namespace MLNet.Vae.Kernels;

/// <summary>
/// Runs the second half of a large layer's outputs on a helper thread while the caller runs the first, so that each core reads
/// only its half of the weights and keeps it in its own L2 cache between calls. Measured on this project's 2-core Xeon (2 MB L2
/// per core): the 784-400 and 400-784 products of one row take 94 µs on one core (2.5 MB of weights, read from L3 at every
/// call) and 29 µs split over two (the benchmark's <c>profile</c> command measures both).
/// </summary>
/// <remarks>
/// <para>The helper is a background thread that spins for 200 µs after each piece of work, so that back-to-back rows (a
/// PredictionEngine loop) hand over in well under a microsecond, then sleeps until the next. It never delays a caller: a caller
/// that finishes its half before the helper has started the other takes that half back and runs it itself. One caller at a
/// time uses the helper; concurrent callers run their layers whole on their own threads.</para>
/// <para>Every <see cref="Model.SingleRowScorer"/> in the process uses <see cref="Shared"/>: one helper per scorer would leave an
/// ensemble's helpers spinning beside each other on two cores, where each steals the core the next one needs. The shared
/// helper sleeps when idle and holds no reference to a layer between calls. <see cref="Dispose"/> ends a helper made for
/// measuring.</para>
/// </remarks>
internal sealed class LayerSplitter : IDisposable
{
    private const int Idle = 0, Posted = 1, Claimed = 2, Done = 3;
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000;

    private readonly ManualResetEventSlim _wake = new(false);
    private readonly Lock _caller = new();
    // The posted half: the helper reads these after it sees Posted and before it writes Done.
    private DenseLayer? _layer;
    private float[] _input = [];
    private int _inputWidth;
    private float[] _output = [];
    private bool _relu;
    private OutputEpilogue? _epilogue;
    private Exception? _failure;
    private int _state = Idle;
    private volatile bool _stopped;

    private static readonly Lazy<LayerSplitter> SharedHelper = new(() => new LayerSplitter());

    public LayerSplitter() => new Thread(Serve) { IsBackground = true, Name = "MLNet.Vae one-row helper" }.Start();

    /// <summary>The process's helper, started on first use; never disposed (a background thread, asleep when idle).</summary>
    public static LayerSplitter Shared => SharedHelper.Value;

    /// <summary>
    /// Writes all outputs of <paramref name="layer"/> for the first <paramref name="inputWidth"/> values of
    /// <paramref name="input"/> into <paramref name="output"/>: the first half here, the second on the helper. Each side then
    /// runs <paramref name="epilogue"/> on the outputs it computed, while they are in its cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(DenseLayer layer, float[] input, int inputWidth, float[] output, bool relu, OutputEpilogue? epilogue = null)
    {
        int half = layer.SplitPoint;
        if (_stopped || !_caller.TryEnter())
        {
            layer.Apply(input.AsSpan(0, inputWidth), output, relu, 0, layer.Outputs);
            epilogue?.Run(0, layer.Outputs);
            return;
        }
        try
        {
            (_layer, _input, _inputWidth, _output, _relu, _epilogue, _failure) = (layer, input, inputWidth, output, relu, epilogue, null);
            Volatile.Write(ref _state, Posted);
            _wake.Set();
            layer.Apply(input.AsSpan(0, inputWidth), output, relu, 0, half);
            epilogue?.Run(0, half);
            if (Interlocked.CompareExchange(ref _state, Idle, Posted) == Posted)
            {
                layer.Apply(input.AsSpan(0, inputWidth), output, relu, half, layer.Outputs);
                epilogue?.Run(half, layer.Outputs);
                return;
            }
            var spinner = new SpinWait();
            while (Volatile.Read(ref _state) != Done) spinner.SpinOnce(sleep1Threshold: -1);
            var failure = _failure;
            Volatile.Write(ref _state, Idle);
            if (failure is not null) throw new InvalidOperationException("The one-row helper thread failed.", failure);
        }
        finally
        {
            // The helper outlives any model: it must not keep the layer's weights or the caller's buffers reachable.
            (_layer, _input, _output, _epilogue, _failure) = (null, [], [], null, null);
            _caller.Exit();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Serve()
    {
        while (!_stopped)
        {
            long until = Stopwatch.GetTimestamp() + SpinTicks;
            while (Volatile.Read(ref _state) != Posted && !_stopped && Stopwatch.GetTimestamp() < until) Thread.SpinWait(20);
            if (Volatile.Read(ref _state) != Posted)
            {
                _wake.Reset();
                // A post after the reset sets the event again, so this wait cannot miss it.
                if (Volatile.Read(ref _state) != Posted && !_stopped) _wake.Wait();
                continue;
            }
            if (Interlocked.CompareExchange(ref _state, Claimed, Posted) != Posted) continue;
            try
            {
                var layer = _layer!;
                layer.Apply(_input.AsSpan(0, _inputWidth), _output, _relu, layer.SplitPoint, layer.Outputs);
                _epilogue?.Run(layer.SplitPoint, layer.Outputs);
            }
            catch (Exception e)
            {
                _failure = e;
            }
            Volatile.Write(ref _state, Done);
        }
    }

    /// <summary>Ends the helper thread. The event is left to the garbage collector: the thread may still be between Reset and Wait on it.</summary>
    public void Dispose()
    {
        _stopped = true;
        _wake.Set();
    }
}
