using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.Vae.Benchmarks;

/// <summary>Training and scoring speed against PyTorch in the same run (filled in with issue 6).</summary>
public static class SpeedBenchmark
{
    public static int Run(string[] args, TextWriter output)
    {
        set_num_threads(2);
        var x = rand(512, 784);
        var w1 = randn(400, 784) * 0.05f; var w2 = randn(784, 400) * 0.05f;
        void Time(string name, Func<Tensor> op)
        {
            for (int i = 0; i < 3; i++) { using var s = NewDisposeScope(); op(); }
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < 100; i++) { using var s = NewDisposeScope(); op(); }
            output.WriteLine($"{name,-30} {clock.Elapsed.TotalMilliseconds / 100:F3} ms");
        }
        using (no_grad())
        {
            Time("mm 512x784 @ 784x400", () => x.mm(w1.t()));
            Time("linear (nn.functional)", () => nn.functional.linear(x, w1));
            Time("mm 512x400 @ 400x784", () => x.mm(w1.t()).mm(w2.t()));
            Time("sigmoid 512x784", () => x.sigmoid());
            Time("bce_with_logits none", () => nn.functional.binary_cross_entropy_with_logits(x, x, reduction: nn.Reduction.None));
            Time("log 512x784", () => x.log());
            Time("clamp_min+log", () => x.clamp_min(1e-12).log());
            Time("x*log(x) sum(1)", () => (x * x.clamp_min(1e-12).log()).sum(1));
            Time("empty+CopyFrom", () => { var t = empty(512, 784); t.data<float>().CopyFrom(new float[512 * 784].AsSpan(), 0, 0); return t; });
            var managed = new float[512 * 784];
            Time("tensor(float[], dims)", () => tensor(managed, new long[] { 512, 784 }));
            Time("tensor(float[]) reshape", () => tensor(managed).reshape(512, 784));
            Time("accessor ToArray 512x784", () => { x.data<float>().ToArray(); return x; });
            Time("bytes getter 512x784", () => { var b = x.bytes; return x; });
            Time("accessor CopyTo span", () => { x.data<float>().CopyTo(managed.AsSpan(), 0, 0); return x; });
            Time("empty + bytes span copy in", () => { var t = empty(512, 784); managed.AsSpan().CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.bytes)); return t; });
            Time("bytes span copy out", () => { System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(x.bytes).CopyTo(managed); return x; });
            var check = empty(2, 3); new float[] { 1, 2, 3, 4, 5, 6 }.AsSpan().CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(check.bytes));
            output.WriteLine($"round trip through bytes: {string.Join(",", check.data<float>().ToArray())}, sum {check.sum().item<float>()}");
            Time("relu", () => x.relu());
            Time("exp", () => x.exp());
        }
        return 0;
    }
}
