using System.Diagnostics;
using MLNet.Vae.Network;
using MLNet.Vae.Training;
using static TorchSharp.torch;

namespace MLNet.Vae.Benchmarks;

/// <summary>
/// Where a training step's time goes (784-400-20 MLP, batch 128, Bernoulli): each variant adds one part of the step and
/// the differences are its cost. Run with: dotnet run -c Release --project src/MLNet.Vae.Benchmarks -- profile
/// </summary>
public static class StepProfile
{
    public static int Run(TextWriter output)
    {
        set_num_threads(2);
        random.manual_seed(1);
        using var network = new VaeNetworkSpec(VaeArchitecture.Mlp, 784, 20, [400], null, [], 20).Build();
        var parameters = network.parameters().ToList();
        using var data = rand(60000, 784);
        using var optimizer = optim.Adam(parameters, lr: 1e-3);
        using var generator = new Generator(1);
        double Time(string name, bool clip, bool adam, bool items, int steps = 300)
        {
            var clock = new Stopwatch();
            for (int s = 0; s < steps + 20; s++)
            {
                if (s == 20) clock.Start();
                using var scope = NewDisposeScope();
                var x = data.narrow(0, (s * 128) % 59872, 128);
                var (mean, logVariance) = network.Encode(x);
                var z = mean + (logVariance * 0.5).exp() * randn(mean.shape, generator: generator);
                var reconstruction = VaeObjective.Reconstruction(VaeLikelihood.Bernoulli, network.Decode(z), x).sum();
                var kl = VaeObjective.KlPerDimension(mean, logVariance).sum(dim: 0L).sum();
                var loss = (reconstruction + kl) / 128;
                if (items) { reconstruction.item<float>(); kl.item<float>(); loss.item<float>(); }
                optimizer.zero_grad();
                loss.backward();
                if (clip) nn.utils.clip_grad_norm_(parameters, double.PositiveInfinity);
                if (adam) optimizer.step();
            }
            return clock.Elapsed.TotalMilliseconds / steps;
        }
        var variants = new (string Name, bool Clip, bool Adam, bool Items)[]
        {
            ("forward + backward", false, false, false),
            ("+ 3 item() reads", false, false, true),
            ("+ gradient norm (clip_grad_norm_)", true, false, true),
            ("+ Adam step (the whole training step)", true, true, true),
            ("whole step without the gradient norm", false, true, true),
        };
        Time("warm-up", true, true, true, steps: 200);
        var times = variants.Select(_ => new List<double>()).ToList();
        for (int round = 0; round < 5; round++)
            for (int v = 0; v < variants.Length; v++)
                times[v].Add(Time(variants[v].Name, variants[v].Clip, variants[v].Adam, variants[v].Items));
        for (int v = 0; v < variants.Length; v++)
        {
            double ms = times[v].OrderBy(t => t).ElementAt(times[v].Count / 2);
            output.WriteLine($"{variants[v].Name,-48} {ms:F3} ms/step, median of 5 rounds of 300 steps ({128 / ms * 1000:F0} samples/s)");
        }
        return 0;
    }
}
