using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae.Model;
using MLNet.Vae.Platform;
using MLNet.Vae.Tensors;
using static TorchSharp.torch;

namespace MLNet.Vae.Benchmarks;

/// <summary>
/// <c>-- roofline</c>: where batched scoring's time goes, per 1,000 rows, against what the products alone need at this
/// machine's GEMM rate. The 784-400-20 Bernoulli MLP of the speed benchmark (one epoch on 10,000 training images, the
/// default score), scoring the 10,000 Fashion-MNIST test images in the model's batches. Each part is timed on its own over
/// the same batches (median of 7 passes after 10); the parts are the steps of <c>VaeModel</c>'s batched path, and
/// Transform + cursor adds ML.NET's side (reading the input column, the output getters).
/// </summary>
internal static class ScoringRoofline
{
    public static int Run(TextWriter output)
    {
        var data = FashionMnist.Load();
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(data.TrainImages.Take(10_000).Select(p => new SpeedBenchmark.ImageRow { Pixels = p }));
        var test = ml.Data.LoadFromEnumerable(data.TestImages.Select(p => new SpeedBenchmark.ImageRow { Pixels = p }));
        using var transformer = new VaeEstimator(ml, QualityBenchmark.Options(VaeArchitecture.Mlp, epochs: 1)).Fit(train);
        var model = transformer.Model;
        int n = data.TestImages.Length, d = model.InputWidth, l = model.LatentDimension, batch = model.ScoringBatchRows;
        var rows = data.TestImages.SelectMany(p => p).ToArray();
        var kind = model.Kind;
        int hidden = QualityBenchmark.Options(VaeArchitecture.Mlp, 1).HiddenLayerSizes![0];

        double gemm = SpeedBenchmark.GemmGflops();
        output.WriteLine($"CPU: {CpuModel()} ({CpuVendor()}), {Environment.ProcessorCount} cores; libtorch threads {get_num_threads()}; MKL CPU dispatch: {MklCpuDispatch.Description}");
        output.WriteLine($"sgemm 512x784 by 784x400: {gemm:F0} GFLOP/s (median of 200)");
        output.WriteLine($"network {d}-{hidden}-{l} ({model.Likelihood}), score {kind.Kind}, batches of {batch} rows, {n:N0} rows");
        output.WriteLine();

        var decoded = new float[batch * d];
        var means = new float[batch * l];
        var modelRow = new float[d];
        var terms = new float[d];
        var network = model.Network;
        using var noGrad = no_grad();
        // Every tensor this profile makes outside the timed parts (which open their own scopes) is freed when it returns.
        using var tensors = NewDisposeScope();
        network.eval();
        // One tensor per batch, made once, for the parts that start from a tensor.
        var batches = Enumerable.Range(0, (n + batch - 1) / batch)
            .Select(b => (Start: b * batch, Count: Math.Min(batch, n - b * batch))).ToList();
        var inputs = batches.Select(b => TensorCopy.FromRows(rows.AsSpan(b.Start * d, b.Count * d), b.Count, d)).ToList();
        var encoded = inputs.Select(x => network.Encode(model.ToScoringSpace(x)).Mean).ToList();
        var outputs = encoded.Select(network.Decode).ToList();
        var (w1, w2, w3, w4) = (rand(d, hidden), rand(hidden, 2 * l), rand(l, hidden), rand(hidden, d));
        var hiddenBatches = inputs.Select(x => rand(x.shape[0], hidden)).ToList();
        var latentBatches = inputs.Select(x => rand(x.shape[0], l)).ToList();

        var parts = new List<(string Name, double Ms)>();
        void Part(string name, Action<int> perBatch) => parts.Add((name, PerThousandRows(n, () => { for (int b = 0; b < batches.Count; b++) perBatch(b); })));

        Part("products alone (4 sgemm of the network's shapes)", b =>
        {
            using var scope = NewDisposeScope();
            inputs[b].mm(w1); hiddenBatches[b].mm(w2); latentBatches[b].mm(w3); hiddenBatches[b].mm(w4);
        });
        Part("network forward (encode + decode: products, bias, ReLU)", b =>
        {
            using var scope = NewDisposeScope();
            network.Decode(network.Encode(inputs[b]).Mean);
        });
        Part("copy in (rows to a tensor, clamp to [0, 1])", b =>
        {
            using var scope = NewDisposeScope();
            model.ToScoringSpace(TensorCopy.FromRows(rows.AsSpan(batches[b].Start * d, batches[b].Count * d), batches[b].Count, d));
        });
        Part("copy out (latent means and decoder output)", b =>
        {
            TensorCopy.CopyTo(encoded[b], means.AsSpan(0, batches[b].Count * l));
            TensorCopy.CopyTo(outputs[b], decoded.AsSpan(0, batches[b].Count * d));
        });
        Part("score terms in managed code (one core)", b =>
        {
            for (int r = 0; r < batches[b].Count; r++)
            {
                var row = rows.AsSpan((batches[b].Start + r) * d, d);
                model.ToScoringSpace(row, modelRow);
                RowScoring.Score(kind, decoded.AsSpan(r * d, d), modelRow, means.AsSpan(r * l, l), 0f, terms, default);
            }
        });
        Part("out-of-domain check (NaN, infinities)", b =>
        {
            for (int r = 0; r < batches[b].Count; r++) VaeModel.FirstOutOfDomain(rows.AsSpan((batches[b].Start + r) * d, d));
        });
        double modelAlone = PerThousandRows(n, () => model.ScoreRows(rows, n));
        double readInput = PerThousandRows(n, () => ReadInput(test));
        double transform = PerThousandRows(n, () => SpeedBenchmark.ReadEveryColumn(transformer.Transform(test)));

        double flops = 2.0 * 1000 * (d * hidden + hidden * 2 * l + l * hidden + hidden * d);
        double roof = flops / (gemm * 1e9) * 1000;
        output.WriteLine("| part, per 1,000 rows | ms | share of Transform + cursor |");
        output.WriteLine("|---|---|---|");
        output.WriteLine($"| the products at the measured GEMM rate ({flops / 1e9:F2} GFLOP) | {roof:F2} | {roof / transform:P0} |");
        foreach (var (name, ms) in parts) output.WriteLine($"| {name} | {ms:F2} | {ms / transform:P0} |");
        output.WriteLine($"| the model's batched path, whole (VaeModel.ScoreRows) | {modelAlone:F2} | {modelAlone / transform:P0} |");
        output.WriteLine($"| reading the input column alone (IDataView cursor) | {readInput:F2} | {readInput / transform:P0} |");
        output.WriteLine($"| Transform + cursor reading every output column | {transform:F2} | 100% |");
        output.WriteLine();
        output.WriteLine($"Transform + cursor: {1e6 / transform:F0} rows/s; the products at the GEMM rate alone would allow {1e6 / roof:F0} rows/s.");
        return 0;
    }

    /// <summary>
    /// Milliseconds per 1,000 rows of <paramref name="pass"/> over <paramref name="rows"/> rows: the median of 7 passes after
    /// 10 (tiered compilation promotes a method to optimized code only after it has run for a while, as it has in a service).
    /// </summary>
    private static double PerThousandRows(int rows, Action pass)
    {
        var times = new List<double>();
        for (int i = 0; i < 17; i++)
        {
            var clock = Stopwatch.StartNew();
            pass();
            if (i >= 10) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2] * 1000 / rows;
    }

    private static void ReadInput(IDataView data)
    {
        using var cursor = data.GetRowCursor(data.Schema);
        var pixels = cursor.GetGetter<VBuffer<float>>(data.Schema["Pixels"]);
        VBuffer<float> value = default;
        while (cursor.MoveNext()) pixels(ref value);
    }

    /// <summary>The CPU's model name from /proc/cpuinfo (Linux), else the architecture.</summary>
    internal static string CpuModel() => CpuInfo("model name") ?? System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();

    /// <summary>The CPU's vendor (AuthenticAMD, GenuineIntel) from /proc/cpuinfo, else "unknown".</summary>
    internal static string CpuVendor() => CpuInfo("vendor_id") ?? "unknown";

    private static string? CpuInfo(string field) =>
        File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith(field, StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
}
