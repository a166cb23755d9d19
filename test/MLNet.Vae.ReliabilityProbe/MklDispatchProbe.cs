using MLNet.Vae.Model;
using MLNet.Vae.Network;
using MLNet.Vae.Tensors;
using MLNet.Vae.Training;
using TorchSharp;
using static TorchSharp.torch;
using MLNet.Vae.Platform;

namespace MLNet.Vae.ReliabilityProbe;

/// <summary>
/// With MKL's CPU check redirected (Platform/MklCpuDispatch.cs; the test forces it with MLNET_VAE_MKL_CPU_DISPATCH=always),
/// float32 products and one training step of the 784-400-20 network agree with float64: products within 1e-5 of the largest
/// value, the loss within 1e-5, every gradient within 1e-4 of its largest element, and the fused Adam update within 1e-6 of a
/// float64 Adam over the same gradients.
/// </summary>
internal static class MklDispatchProbe
{
    public static void Run()
    {
        MklCpuDispatch.EnsureConfigured();
        Console.WriteLine($"MKL CPU dispatch: {MklCpuDispatch.Description}");
        ProbeFailure.Unless(MklCpuDispatch.Applied, $"the redirection is not applied: {MklCpuDispatch.Description}");
        using var generator = new Generator(1);
        foreach (var (m, k, n) in new[] { (512, 784, 400), (128, 400, 20), (128, 20, 400), (128, 400, 784), (1, 784, 400), (333, 777, 55) })
        {
            using var scope = NewDisposeScope();
            var a = randn([m, k], generator: generator);
            var b = randn([k, n], generator: generator);
            double error = RelativeError(a.mm(b), a.to_type(ScalarType.Float64).mm(b.to_type(ScalarType.Float64)));
            Console.WriteLine($"product {m}x{k} by {k}x{n}: relative error {error:E2}");
            ProbeFailure.Unless(error <= 1e-5, $"the {m}x{k} by {k}x{n} product is off by {error:E2} of its largest value");
        }
        TrainingStepAgrees();
    }

    /// <summary>
    /// A product run through TorchSharp before the library's first network fixes MKL's kernels: the redirection cannot take
    /// effect, and the description must say "too late" with what to do, never "applied".
    /// </summary>
    public static void RunAfterAnEarlierProduct()
    {
        using (var a = ones(64, 64)) using (a.mm(a)) { }
        MklCpuDispatch.EnsureConfigured();
        Console.WriteLine($"MKL CPU dispatch: {MklCpuDispatch.Description}");
        ProbeFailure.Unless(!MklCpuDispatch.Applied, "reported applied although MKL had chosen its kernels before");
        ProbeFailure.Unless(MklCpuDispatch.Description.StartsWith("too late", StringComparison.Ordinal) &&
                            MklCpuDispatch.Description.Contains("fit or load a VAE before", StringComparison.Ordinal),
            $"the description does not say it came too late and what to do: {MklCpuDispatch.Description}");
    }

    private static void TrainingStepAgrees()
    {
        var spec = new VaeNetworkSpec(VaeArchitecture.Mlp, 784, 20, [400], null, [], 20);
        using var weights = new Generator(2);
        using var network = spec.Build();
        network.Initialize(weights);
        using var reference = spec.Build();
        using (no_grad())
        {
            var source = network.state_dict();
            foreach (var (name, parameter) in reference.named_parameters()) parameter.copy_(source[name]);
        }
        reference.to(ScalarType.Float64);
        using var model = new VaeModel(network, VaeLikelihood.Bernoulli, VaeScoreKind.ReconstructionError, null);
        using var referenceModel = new VaeModel(reference, VaeLikelihood.Bernoulli, VaeScoreKind.ReconstructionError, null);
        using var data = rand([128, 784], generator: weights);
        using var data64 = data.to_type(ScalarType.Float64);
        // The same noise ε on both sides: each step draws from its own generator with the same seed.
        using var step = new TrainingStep(model, learningRate: 1e-3, weightDecay: 0, freeBits: 0, new Generator(3));
        using var referenceStep = new TrainingStep(referenceModel, learningRate: 1e-3, weightDecay: 0, freeBits: 0, new Generator(3));
        network.train();
        reference.train();

        using var scope = NewDisposeScope();
        var losses = step.Forward(data, beta: 1);
        var referenceLosses = referenceStep.Forward(data64, beta: 1);
        double loss = losses.Loss.item<float>(), referenceLoss = referenceLosses.Loss.item<double>();
        Console.WriteLine($"loss {loss} against float64 {referenceLoss}");
        ProbeFailure.Unless(Math.Abs(loss - referenceLoss) <= 1e-5 * Math.Abs(referenceLoss), $"the loss {loss} differs from float64's {referenceLoss}");
        step.Backward(losses);
        referenceStep.Backward(referenceLosses);
        var parameters = network.named_parameters().ToList();
        var referenceParameters = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        // The float32 step is the training loop's: derived by hand for this MLP; the float64 reference runs on autograd.
        var gradients = step.HandDerivedGradients ?? parameters.Select(p => (Tensor)p.parameter.grad!).ToList();
        ProbeFailure.Unless(step.HandDerivedGradients is not null, "the float32 MLP step was not derived by hand");
        for (int p = 0; p < parameters.Count; p++)
        {
            double error = RelativeError(gradients[p], referenceParameters[parameters[p].name].grad!);
            ProbeFailure.Unless(error <= 1e-4, $"the gradient of {parameters[p].name} is off by {error:E2} of its largest element");
        }

        // The fused update against Adam's first step in float64 from the same float32 gradients: m = 0.1 g, v = 0.001 g²,
        // θ ← θ − η (m / 0.1) / (√(v / 0.001) + ε) = θ − η g / (|g| + ε).
        var expected = parameters.Select((p, index) =>
        {
            var theta = p.parameter.detach().to_type(ScalarType.Float64).data<double>().ToArray();
            var g = gradients[index].to_type(ScalarType.Float64).data<double>().ToArray();
            return theta.Select((t, i) => t - 1e-3 * g[i] / (Math.Abs(g[i]) + 1e-8)).ToArray();
        }).ToList();
        step.Update(clip: double.PositiveInfinity);
        for (int p = 0; p < parameters.Count; p++)
        {
            var actual = parameters[p].parameter.detach().to_type(ScalarType.Float64).data<double>().ToArray();
            double worst = actual.Select((a, i) => Math.Abs(a - expected[p][i])).Max();
            ProbeFailure.Unless(worst <= 1e-6, $"the Adam update of {parameters[p].name} is off by {worst:E2}");
        }
        Console.WriteLine("training step: loss, gradients and update agree with float64");
    }

    /// <summary>max |a − b| / max |b|, in float64.</summary>
    private static double RelativeError(Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        var exact = expected.to_type(ScalarType.Float64);
        return (actual.to_type(ScalarType.Float64) - exact).abs().max().item<double>() / exact.abs().max().item<double>();
    }
}
