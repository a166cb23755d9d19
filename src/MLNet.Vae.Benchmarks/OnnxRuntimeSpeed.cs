using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.Vae.Onnx;

namespace MLNet.Vae.Benchmarks;

/// <summary>
/// The exported model (VaeTransformer.ExportToOnnx) under ONNX Runtime with 2 intra-op threads: batched rows/s (batches of
/// 512 tensors already in memory, median of passes 6 to 10 over the rows) and one row's p50 and p99 µs (after 3 000 warm-up rows).
/// </summary>
internal static class OnnxRuntimeSpeed
{
    public sealed record Result(double BatchedRowsPerSecond, double SingleRowP50, double SingleRowP99);

    public static Result Measure(MLContext ml, VaeTransformer model, float[][] rows)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mlnet-vae-speed-{Guid.NewGuid():N}.onnx");
        try
        {
            model.ExportToOnnx(ml, path);
            using var options = new SessionOptions { IntraOpNumThreads = 2, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            using var session = new InferenceSession(path, options);
            string input = session.InputMetadata.Keys.Single();
            int width = model.InputWidth;

            var batches = rows.Chunk(512).Select(chunk => new DenseTensor<float>(chunk.SelectMany(r => r).ToArray(), [chunk.Length, width])).ToArray();
            var rates = new List<double>();
            for (int pass = 0; pass < 10; pass++)
            {
                var clock = Stopwatch.StartNew();
                foreach (var batch in batches)
                    using (session.Run([NamedOnnxValue.CreateFromTensor(input, batch)])) { }
                if (pass >= 5) rates.Add(rows.Length / clock.Elapsed.TotalSeconds);
            }

            var latencies = new List<double>();
            for (int i = 0; i < 8000; i++)
            {
                var row = new DenseTensor<float>(rows[i % rows.Length], [1, width]);
                long start = Stopwatch.GetTimestamp();
                using (session.Run([NamedOnnxValue.CreateFromTensor(input, row)])) { }
                if (i >= 3000) latencies.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            }
            latencies.Sort();
            rates.Sort();
            return new Result(rates[rates.Count / 2], latencies[latencies.Count / 2], latencies[(int)(latencies.Count * 0.99)]);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
