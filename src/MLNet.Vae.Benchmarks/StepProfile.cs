using MLNet.Vae.Tensors;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae.Model;
using MLNet.Vae.Network;
using MLNet.Vae.Training;
using static TorchSharp.torch;
using MLNet.Vae.Scoring;
using MLNet.Vae.Platform;
using MLNet.Vae.Kernels;

namespace MLNet.Vae.Benchmarks;

/// <summary>
/// Where the time goes: copies between arrays and tensors, a matrix product, each part of a training step, and the scoring
/// path. Where a training step's time goes (784-400-20 MLP, batch 128, Bernoulli): each variant adds one part of the step and
/// the differences are its cost. Run with: dotnet run -c Release --project src/MLNet.Vae.Benchmarks -- profile
/// </summary>
public static class StepProfile
{
    /// <param name="output">Where the lines go.</param>
    /// <param name="latentOnly">Only the latent terms' sections (<see cref="LatentDensity"/>, <see cref="LatentNeighbourDistance"/>): seconds instead of minutes.</param>
    public static int Run(TextWriter output, bool latentOnly = false)
    {
        if (latentOnly)
        {
            LatentDensity(output);
            LatentNeighbourDistance(output);
            return 0;
        }
        set_num_threads(2);
        random.manual_seed(1);
        var network = new VaeNetworkSpec(VaeArchitecture.Mlp, 784, 20, [400], null, [], 20).Build();
        output.WriteLine($"MKL CPU dispatch ({MklCpuDispatch.SwitchVariable}): {MklCpuDispatch.Description}");
        using var model = new VaeModel(network, VaeLikelihood.Bernoulli, VaeScoreKind.ReconstructionError, standardization: null);
        using var data = rand(60000, 784);
        using var generator = new Generator(1);
        // The training loop's own step (Training/TrainingStep.cs), its parts switched on one by one; on autograd and derived by hand.
        using var autogradStep = new TrainingStep(model, learningRate: 1e-3, weightDecay: 0, freeBits: 0, generator, byHand: false);
        using var byHandStep = new TrainingStep(model, learningRate: 1e-3, weightDecay: 0, freeBits: 0, generator, byHand: true);
        network.train();
        double Time(TrainingStep step, bool adam, bool items, int steps = 300)
        {
            var clock = new Stopwatch();
            for (int s = 0; s < steps + 20; s++)
            {
                if (s == 20) clock.Start();
                using var scope = NewDisposeScope();
                var losses = step.Forward(data.narrow(0, (s * 128) % 59872, 128), beta: 1);
                if (items) step.Read(losses);
                step.Backward(losses);
                if (adam) step.Update(clip: double.PositiveInfinity);
            }
            return clock.Elapsed.TotalMilliseconds / steps;
        }
        var variants = new (string Name, TrainingStep Step, bool Adam, bool Items)[]
        {
            ("autograd: forward + backward", autogradStep, false, false),
            ("autograd: + the loss read (TrainingStep.Read)", autogradStep, false, true),
            ("autograd: + fused Adam and gradient norm", autogradStep, true, true),
            ("by hand: forward + backward (+ loss values)", byHandStep, false, true),
            ("by hand: + fused Adam (the training loop's step)", byHandStep, true, true),
        };
        Time(autogradStep, true, true, steps: 100);
        Time(byHandStep, true, true, steps: 100);
        var times = variants.Select(_ => new List<double>()).ToList();
        for (int round = 0; round < 5; round++)
            for (int v = 0; v < variants.Length; v++)
                times[v].Add(Time(variants[v].Step, variants[v].Adam, variants[v].Items));
        for (int v = 0; v < variants.Length; v++)
        {
            double ms = times[v].OrderBy(t => t).ElementAt(times[v].Count / 2);
            output.WriteLine($"{variants[v].Name,-50} {ms:F3} ms/step, median of 5 rounds of 300 steps ({128 / ms * 1000:F0} samples/s)");
        }
        Products(output);
        Copies(output);
        BatchParts(output, model);
        Scoring(output);
        LatentDensity(output);
        LatentNeighbourDistance(output);
        return 0;
    }

    /// <summary>
    /// The neighbour term of the convolutional network's default score (<see cref="LatentNeighbours"/>): N per row against M stored codes of
    /// L dimensions, the best of 30 passes over 2,000 rows, on the calling thread.
    /// </summary>
    private static void LatentNeighbourDistance(TextWriter output)
    {
        output.WriteLine();
        foreach (var (count, dimension) in new[] { (200, 4), (2048, 20) })
        {
            var random = new Random(1);
            var codes = Enumerable.Range(0, count * dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            var rows = Enumerable.Range(0, 2000 * dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            var neighbours = LatentNeighbours.Fit(codes, count, dimension);
            double best = double.MaxValue, sink = 0;
            var clock = new Stopwatch();
            for (int pass = 0; pass < 30; pass++)
            {
                clock.Restart();
                for (int r = 0; r < 2000; r++) sink += neighbours.MeanDistance(rows.AsSpan(r * dimension, dimension));
                best = Math.Min(best, clock.Elapsed.TotalMicroseconds / 2000);
            }
            output.WriteLine($"latent neighbours, {count} codes of {dimension}, k = {neighbours.Neighbours}: N {best:F2} µs a row (best of 30 passes over 2,000 rows; {sink:E1})");
        }
    }

    /// <summary>
    /// The latent mixture of the table default's score (<see cref="LatentCodeDensity"/>): its fit on n codes of L dimensions in
    /// three clusters, and D per row, the best of 30 passes over the codes.
    /// </summary>
    private static void LatentDensity(TextWriter output)
    {
        output.WriteLine();
        foreach (var (rows, dimension) in new[] { (200, 4), (2000, 16), (10_000, 20) })
        {
            var random = new Random(1);
            var codes = Enumerable.Range(0, rows * dimension).Select(i => (float)(random.NextDouble() * 2 - 1 + i / dimension % 3 * 2)).ToArray();
            var clock = Stopwatch.StartNew();
            var mixture = LatentCodeDensity.Fit(codes, rows, dimension, seed: 1);
            double fitMilliseconds = clock.Elapsed.TotalMilliseconds;
            var normalizers = mixture.LogNormalizers();
            double best = double.MaxValue, sink = 0;
            for (int pass = 0; pass < 30; pass++)
            {
                clock.Restart();
                for (int r = 0; r < rows; r++) sink += mixture.NegativeLogDensity(codes.AsSpan(r * dimension, dimension), normalizers);
                best = Math.Min(best, clock.Elapsed.TotalMicroseconds / rows);
            }
            output.WriteLine($"latent mixture, {rows} codes of {dimension}, {mixture.Components} components: fit {fitMilliseconds:F0} ms, D {best:F2} µs a row (best of 30 passes; {sink:E1})");
        }
    }

    /// <summary>The five large products of a training step at batch 128 (two forward, three backward), alone.</summary>
    private static void Products(TextWriter output)
    {
        using var x = rand(128, 784);
        using var encoderWeight = rand(400, 784);
        using var hidden = rand(128, 400);
        using var decoderWeight = rand(784, 400);
        using var outputGradient = rand(128, 784);
        using var hiddenGradient = rand(128, 400);
        double ms = Milliseconds(() =>
        {
            x.mm(encoderWeight.t());
            hidden.mm(decoderWeight.t());
            outputGradient.t().mm(hidden);
            outputGradient.mm(decoderWeight);
            hiddenGradient.t().mm(x);
        });
        output.WriteLine($"the step's five 128x784x400 products alone       {ms:F3} ms ({5 * 2.0 * 128 * 784 * 400 / (ms / 1000) / 1e9:F0} GFLOP/s)");
    }

    /// <summary>The microseconds of 5 000 calls of <paramref name="call"/> (given the call's index) after 500 of warm-up, sorted.</summary>
    private static List<double> SortedMicroseconds(Action<int> call)
    {
        var times = new List<double>();
        for (int i = 0; i < 5500; i++)
        {
            long start = Stopwatch.GetTimestamp();
            call(i);
            if (i >= 500) times.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }
        times.Sort();
        return times;
    }

    /// <summary>Median milliseconds of <paramref name="action"/> over 100 runs after 5 warm-up runs, each in a dispose scope.</summary>
    private static double Milliseconds(Action action)
    {
        var times = new List<double>();
        for (int i = 0; i < 105; i++)
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            action();
            if (i >= 5) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return times.OrderBy(t => t).ElementAt(times.Count / 2);
    }

    /// <summary>A 512×784 batch into and out of a tensor: TorchSharp's element accessor against one copy through the tensor's bytes.</summary>
    private static void Copies(TextWriter output)
    {
        var managed = new float[512 * 784];
        using var source = rand(512, 784);
        using var weights = rand(400, 784);
        output.WriteLine();
        output.WriteLine($"copy 512x784 in, accessor (empty + CopyFrom)  {Milliseconds(() => empty(512, 784).data<float>().CopyFrom(managed.AsSpan(), 0, 0)):F3} ms");
        output.WriteLine($"copy 512x784 in, bytes (TensorCopy.FromRows)  {Milliseconds(() => TensorCopy.FromRows(managed, 512, 784)):F3} ms");
        output.WriteLine($"copy 512x784 out, accessor (CopyTo)            {Milliseconds(() => source.data<float>().CopyTo(managed.AsSpan(), 0, 0)):F3} ms");
        output.WriteLine($"copy 512x784 out, bytes (TensorCopy.CopyTo)    {Milliseconds(() => TensorCopy.CopyTo(source, managed)):F3} ms");
        double mm = Milliseconds(() => source.mm(weights.t()));
        output.WriteLine($"product 512x784 by 784x400                     {mm:F3} ms ({2.0 * 512 * 784 * 400 / (mm / 1000) / 1e9:F0} GFLOP/s)");
        using var sourceHalf = source.to(ScalarType.BFloat16);
        using var weightsHalf = weights.to(ScalarType.BFloat16);
        double mmHalf = Milliseconds(() => sourceHalf.mm(weightsHalf.t()));
        double error;
        using (NewDisposeScope())
        {
            var exact = source.to(ScalarType.Float64).mm(weights.to(ScalarType.Float64).t());
            var approximate = sourceHalf.mm(weightsHalf.t()).to(ScalarType.Float64);
            error = approximate.sub(exact).abs().max().item<double>() / exact.abs().max().item<double>();
        }
        output.WriteLine($"product 512x784 by 784x400 in bfloat16          {mmHalf:F3} ms ({2.0 * 512 * 784 * 400 / (mmHalf / 1000) / 1e9:F0} GFLOP/s, largest error {error:E1} of the largest value)");
    }

    /// <summary>
    /// The batched scoring path's parts for 512 rows (the network above, untrained): encoding, decoding, the Bernoulli terms on
    /// libtorch, the same terms in the one-row path's managed code on both cores, and the two parts of the Bernoulli error the
    /// batched path computes instead of the terms.
    /// </summary>
    private static void BatchParts(TextWriter output, VaeModel model)
    {
        var network = model.Network;
        network.eval();
        using var noGrad = no_grad();
        using var x = rand(512, 784);
        using var scope = NewDisposeScope();
        var (mean, _) = network.Encode(x);
        var decoded = network.Decode(mean);
        var logits = TensorCopy.ToArray(decoded);
        var pixels = TensorCopy.ToArray(x);
        var terms = new float[logits.Length];
        output.WriteLine($"batch of 512, encode                            {Milliseconds(() => network.Encode(x)):F3} ms");
        output.WriteLine($"batch of 512, decode                            {Milliseconds(() => network.Decode(mean)):F3} ms");
        output.WriteLine($"batch of 512, Bernoulli terms (RowMath, 2 cores) {Milliseconds(() => Parallel.For(0, 2, half =>
        {
            for (int r = half * 256; r < half * 256 + 256; r++)
                RowMath.BernoulliTerms(logits.AsSpan(r * 784, 784), pixels.AsSpan(r * 784, 784), terms.AsSpan(r * 784, 784), minusEntropy: true);
        })):F3} ms");
        // What the batched path runs for the Bernoulli reconstruction error (VaeModel.BernoulliErrors): the logits copied out, then
        // each row's terms and their sum in managed code on the calling thread (these random pixels are never 0 or 1, so no
        // vector's entropy is skipped).
        var row = new float[784];
        output.WriteLine($"batch of 512, Bernoulli error: logits copied out            {Milliseconds(() => TensorCopy.CopyTo(decoded, logits)):F3} ms");
        output.WriteLine($"batch of 512, Bernoulli error: terms and sums (RowMath, 1 core) {Milliseconds(() =>
        {
            for (int r = 0; r < 512; r++)
            {
                RowMath.Clamp(pixels.AsSpan(r * 784, 784), 0f, 1f, row);
                RowMath.BernoulliTerms(logits.AsSpan(r * 784, 784), row, terms.AsSpan(0, 784), minusEntropy: true);
                RowMath.Sum(terms.AsSpan(0, 784));
            }
        }):F3} ms");
        OneRowTerms(output, logits.AsSpan(0, 784).ToArray(), pixels.AsSpan(0, 784).ToArray());
    }

    /// <summary>
    /// One row's Bernoulli terms (784 pixels, minus the entropy): RowMath's own log and exp against the same formula with
    /// .NET's Vector.Log and Vector.Exp; p50 of 5 000 calls after 500.
    /// </summary>
    private static void OneRowTerms(TextWriter output, float[] logits, float[] pixels)
    {
        var terms = new float[784];
        void WithDotNetMath()
        {
            var one = System.Numerics.Vector<float>.One;
            for (int i = 0; i + System.Numerics.Vector<float>.Count <= 784; i += System.Numerics.Vector<float>.Count)
            {
                var l = new System.Numerics.Vector<float>(logits, i);
                var v = new System.Numerics.Vector<float>(pixels, i);
                var t = System.Numerics.Vector.Max(l, System.Numerics.Vector<float>.Zero) - l * v
                    + System.Numerics.Vector.Log(one + System.Numerics.Vector.Exp(System.Numerics.Vector.Max(-System.Numerics.Vector.Abs(l), new(-80f))));
                var c = one - v;
                t += v * System.Numerics.Vector.Log(System.Numerics.Vector.Max(v, new(1e-12f))) + c * System.Numerics.Vector.Log(System.Numerics.Vector.Max(c, new(1e-12f)));
                t.CopyTo(terms, i);
            }
        }
        foreach (var (name, call) in new (string, Action)[]
        {
            ("RowMath (own log and exp)", () => RowMath.BernoulliTerms(logits, pixels, terms, minusEntropy: true)),
            ("Vector.Log and Vector.Exp", WithDotNetMath),
        })
        {
            var times = SortedMicroseconds(_ => call());
            output.WriteLine($"one row, Bernoulli terms of 784 pixels, {name,-26} p50 {times[times.Count / 2]:F1} µs");
        }
    }

    public sealed class Row
    {
        [VectorType(784)] public float[] Pixels { get; set; } = [];
    }

    /// <summary>
    /// One row: the model's one-row call alone against PredictionEngine.Predict, and PredictionEngine.Predict on an ensemble
    /// of three such models; p50 and p99 of 5 000 calls.
    /// </summary>
    private static void OneRow(TextWriter output, MLContext ml, VaeTransformer model, VaeTransformer ensemble, List<float[]> rows)
    {
        var latent = new float[model.LatentDimension];
        var score = new float[1];
        var engine = ml.Model.CreatePredictionEngine<Row, SpeedBenchmark.Scored>(model);
        var ensembleEngine = ml.Model.CreatePredictionEngine<Row, SpeedBenchmark.Scored>(ensemble);
        var input = new Row();
        foreach (var (name, call) in new (string, Action<int>)[]
        {
            ("model alone (VaeModel.Score, 1 row)", i => model.Model.Score(rows[i % rows.Count], 1, latent, score)),
            ("PredictionEngine.Predict", i => { input.Pixels = rows[i % rows.Count]; engine.Predict(input); }),
            ($"PredictionEngine.Predict, {ensemble.NumberOfModels} models", i => { input.Pixels = rows[i % rows.Count]; ensembleEngine.Predict(input); }),
        })
        {
            var times = SortedMicroseconds(call);
            output.WriteLine($"one row, {name,-38} p50 {times[times.Count / 2]:F1} µs, p99 {times[(int)(times.Count * 0.99)]:F1} µs");
        }
        LargeLayers(output);
    }

    /// <summary>
    /// The one-row path's two large products alone (784→400 and 400→784 of random weights, as <c>SingleRowScorer</c> runs them),
    /// in both of <c>DenseLayer</c>'s layouts, on an input without zeros and on one with half its values zero (as Fashion-MNIST's
    /// blank pixels): on the calling core, then split over two by <c>LayerSplitter</c>; p50 of 5 000 calls after 500 of warm-up.
    /// </summary>
    private static void LargeLayers(TextWriter output)
    {
        var random = new Random(3);
        float[] Values(int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() - 0.5) * 0.1f).ToArray();
        var (encoderWeight, encoderBias, decoderWeight, decoderBias) = (Values(400 * 784), Values(400), Values(784 * 400), Values(784));
        var dense = Values(784);
        var halfZero = dense.Select((v, i) => i % 4 < 2 ? 0f : v).ToArray();
        var hidden = new float[400];
        var reconstructed = new float[784];
        using var splitter = new LayerSplitter();
        foreach (bool inputMajor in new[] { false, true })
        {
            var encoder = new DenseLayer(encoderWeight, encoderBias, inputMajor);
            var decoder = new DenseLayer(decoderWeight, decoderBias, inputMajor);
            foreach (var (inputName, input) in new[] { ("no zeros", dense), ("half zeros", halfZero) })
                foreach (var (name, call) in new (string, Action)[]
                {
                    ("one core", () =>
                    {
                        encoder.Apply(input, hidden, relu: true, 0, encoder.Outputs);
                        decoder.Apply(hidden, reconstructed, relu: false, 0, decoder.Outputs);
                    }),
                    ("split over two cores", () =>
                    {
                        splitter.Apply(encoder, input, input.Length, hidden, relu: true);
                        splitter.Apply(decoder, hidden, hidden.Length, reconstructed, relu: false);
                    }),
                })
                {
                    var times = SortedMicroseconds(_ => call());
                    string layout = inputMajor ? "input-major" : "row-major";
                    output.WriteLine($"one row, 784-400 and 400-784 products, {layout,-11}, input {inputName,-10}, {name,-20} p50 {times[times.Count / 2]:F1} µs");
                }
        }
    }

    /// <summary>10 000 random rows: reading the input alone, Transform + cursor pass by pass, and the model alone.</summary>
    private static void Scoring(TextWriter output)
    {
        var random = new Random(1);
        var rows = Enumerable.Range(0, 10_000).Select(_ => Enumerable.Range(0, 784).Select(_ => (float)random.NextDouble()).ToArray()).ToList();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(rows.Select(r => new Row { Pixels = r }));
        var options = QualityBenchmark.Options(VaeArchitecture.Mlp, epochs: 1);
        var training = ml.Data.LoadFromEnumerable(rows.Take(2000).Select(r => new Row { Pixels = r }));
        using var model = new VaeEstimator(ml, options).Fit(training);
        options.NumberOfModels = 3;
        using var ensemble = new VaeEstimator(ml, options).Fit(training);
        output.WriteLine();
        for (int pass = 1; pass <= 3; pass++)
        {
            var clock = Stopwatch.StartNew();
            using (var cursor = data.GetRowCursor(data.Schema))
            {
                var pixels = cursor.GetGetter<VBuffer<float>>(data.Schema["Pixels"]);
                VBuffer<float> value = default;
                while (cursor.MoveNext()) pixels(ref value);
            }
            double read = 10_000 / clock.Elapsed.TotalSeconds;
            clock.Restart();
            var scored = model.Transform(data);
            using (var cursor = scored.GetRowCursor([scored.Schema["Score"]]))
            {
                var score = cursor.GetGetter<float>(scored.Schema["Score"]);
                float value = 0;
                while (cursor.MoveNext()) score(ref value);
            }
            double transform = 10_000 / clock.Elapsed.TotalSeconds;
            var flat = rows.SelectMany(r => r).ToArray();
            clock.Restart();
            model.Model.ScoreRows(flat, 10_000);
            double alone = 10_000 / clock.Elapsed.TotalSeconds;
            output.WriteLine($"scoring pass {pass}: input read alone {read:F0} rows/s, Transform + cursor (Score) {transform:F0} rows/s, model alone {alone:F0} rows/s");
        }
        OneRow(output, ml, model, ensemble, rows);
    }
}
