using MLNet.Vae.Model;
using MLNet.Vae.Network;
using MLNet.Vae.Tensors;
using MLNet.Vae.Training;
using static TorchSharp.torch;
using MLNet.Vae.Kernels;

namespace MLNet.Vae.Tests;

/// <summary>The hand-derived training step (Kernels/MlpBackpropagation.cs) against autograd on the same network, rows and noise.</summary>
[TestClass]
public sealed class MlpBackpropagationTests
{
    [TestMethod]
    [DataRow(VaeLikelihood.Bernoulli, new[] { 16 }, 20.0, 1.0, 0.0, false, DisplayName = "Bernoulli, one hidden layer")]
    [DataRow(VaeLikelihood.Gaussian, new[] { 16 }, 20.0, 1.0, 0.0, false, DisplayName = "Gaussian, one hidden layer")]
    [DataRow(VaeLikelihood.Bernoulli, new[] { 24, 12 }, 20.0, 0.5, 0.0, false, DisplayName = "Bernoulli, two hidden layers, beta 0.5")]
    [DataRow(VaeLikelihood.Gaussian, new int[0], 20.0, 2.0, 0.0, false, DisplayName = "Gaussian, no hidden layer, beta 2")]
    [DataRow(VaeLikelihood.Gaussian, new[] { 16 }, 0.05, 1.0, 0.0, false, DisplayName = "Gaussian, log-variance clamped at 0.05")]
    [DataRow(VaeLikelihood.Gaussian, new[] { 16 }, 20.0, 1.0, 0.25, false, DisplayName = "Gaussian, a quarter of the rows trimmed")]
    [DataRow(VaeLikelihood.Bernoulli, new[] { 16 }, 20.0, 1.0, 0.0, true, DisplayName = "Bernoulli, free bits at the median dimension")]
    [DataRow(VaeLikelihood.Gaussian, new[] { 24, 12 }, 20.0, 0.5, 0.25, true, DisplayName = "Gaussian, trimmed, free bits, beta 0.5")]
    public void HandDerivedStep_EqualsAutograd_LossAndEveryGradient(VaeLikelihood likelihood, int[] hidden, double logVarianceLimit, double beta,
        double trimmedFraction, bool freeBitsAtTheMedian)
    {
        const int Width = 40, Rows = 33;
        using var autogradModel = NewModel(likelihood, hidden, logVarianceLimit);
        using var byHandModel = NewModel(likelihood, hidden, logVarianceLimit);
        using var scope = NewDisposeScope();
        using var dataGenerator = new Generator(7);
        var x = likelihood == VaeLikelihood.Bernoulli
            ? rand([Rows, Width], generator: dataGenerator).mul(rand([Rows, Width], generator: dataGenerator).gt(0.4))   // zeros, as in images
            : randn([Rows, Width], generator: dataGenerator);
        // Free bits between the dimensions' mean KL terms, so that some dimensions pass their gradient and others do not.
        double freeBits = freeBitsAtTheMedian ? MedianDimensionKl(autogradModel, x) : 0;

        var (autogradLosses, autogradGradients) = Step(autogradModel, x, beta, trimmedFraction, freeBits, byHand: false);
        var (byHandLosses, byHandGradients) = Step(byHandModel, x, beta, trimmedFraction, freeBits, byHand: true);

        Assert.AreEqual(autogradLosses.Loss, byHandLosses.Loss, 1e-5 * Math.Abs(autogradLosses.Loss), "the loss");
        Assert.AreEqual(autogradLosses.Reconstruction, byHandLosses.Reconstruction, 1e-5 * Math.Abs(autogradLosses.Reconstruction), "the reconstruction term");
        Assert.AreEqual(autogradLosses.Kl, byHandLosses.Kl, 1e-5 * Math.Abs(autogradLosses.Kl) + 1e-6, "the KL term");
        var names = autogradModel.Network.named_parameters().Select(p => p.name).ToArray();
        Assert.HasCount(names.Length, byHandGradients);
        for (int i = 0; i < names.Length; i++)
        {
            float largest = autogradGradients[i].Max(Math.Abs);
            Assert.IsGreaterThan(0f, largest, $"{names[i]} has a gradient");
            for (int k = 0; k < autogradGradients[i].Length; k++)
                Assert.AreEqual(autogradGradients[i][k], byHandGradients[i][k], 1e-4f * largest, $"{names[i]}[{k}]");
        }
        if (logVarianceLimit < 1)
        {
            // The clamp is active: some log-variance outputs lie outside ±c, and their rows pass no gradient through it.
            var bias = byHandGradients[Array.IndexOf(names, "_logVariance.bias")];
            Assert.IsTrue(bias.Any(v => v != 0), "the log-variance head still learns where it is inside the clamp");
        }
    }

    [TestMethod]
    public void Fit_ThroughTheHandDerivedStep_MatchesAutogradsTraining()
    {
        // Ten steps of Adam on each path from the same start: the parameters stay together (float rounding only).
        using var autogradModel = NewModel(VaeLikelihood.Bernoulli, [16], 20);
        using var byHandModel = NewModel(VaeLikelihood.Bernoulli, [16], 20);
        using var dataGenerator = new Generator(3);
        using var x = rand([64, 40], generator: dataGenerator);
        using var autogradGenerator = new Generator(5);
        using var byHandGenerator = new Generator(5);
        using var autograd = new TrainingStep(autogradModel, 1e-2, 0, 0, autogradGenerator, byHand: false);
        using var byHand = new TrainingStep(byHandModel, 1e-2, 0, 0, byHandGenerator, byHand: true);
        double first = 0, last = 0;
        for (int s = 0; s < 10; s++)
        {
            using var scope = NewDisposeScope();
            foreach (var step in new[] { autograd, byHand })
            {
                var losses = step.Forward(x, beta: 1);
                var (loss, _, _) = step.Read(losses);
                step.Backward(losses);
                step.Update(double.PositiveInfinity);
                if (step == byHand) (first, last) = (s == 0 ? loss : first, loss);
            }
        }
        Assert.IsLessThan(first, last, "training lowers the loss");
        foreach (var ((name, a), (_, b)) in autogradModel.Network.named_parameters().Zip(byHandModel.Network.named_parameters()))
        {
            using var difference = (a - b).abs().max();
            Assert.IsLessThan(1e-4f, difference.item<float>(), $"{name} after ten steps");
        }
    }

    [TestMethod]
    public void ABatchBeyondASpan_IsLeftToAutograd()
    {
        // 784-400-20: the widest activation is the 784-value output, and a span of floats holds at most 2³¹ bytes.
        var network = new VaeNetworkSpec(VaeArchitecture.Mlp, 784, 20, [400], null, [], 20).Build();
        using var model = new VaeModel(network, VaeLikelihood.Bernoulli, VaeScoreKind.ReconstructionError, standardization: null);
        using var generator = new Generator(1);
        using var byHand = MlpBackpropagation.For(network, VaeLikelihood.Bernoulli, generator)!;
        long largest = int.MaxValue / sizeof(float) / 784;
        Assert.IsTrue(byHand.Fits(largest));
        Assert.IsFalse(byHand.Fits(largest + 1));
    }

    private static VaeModel NewModel(VaeLikelihood likelihood, int[] hidden, double logVarianceLimit)
    {
        var network = new VaeNetworkSpec(VaeArchitecture.Mlp, 40, 5, hidden, null, [], logVarianceLimit).Build();
        using var generator = new Generator(11);
        network.Initialize(generator);
        return new VaeModel(network, likelihood, VaeScoreKind.ReconstructionError, standardization: null);
    }

    private static ((double Loss, double Reconstruction, double Kl) Losses, float[][] Gradients) Step(VaeModel model, Tensor x, double beta,
        double trimmedFraction, double freeBits, bool byHand)
    {
        using var noise = new Generator(5);
        using var step = new TrainingStep(model, 1e-3, 0, freeBits, noise, byHand);
        using var scope = NewDisposeScope();
        var losses = step.Forward(x, beta, trimmedFraction);
        var values = step.Read(losses);
        step.Backward(losses);
        var gradients = byHand
            ? StepGradients(step)
            : model.Network.parameters().Select(p => TensorCopy.ToArray(p.grad!)).ToArray();
        return (values, gradients);
    }

    /// <summary>The median over the latent dimensions of each one's KL term averaged over the rows, at the encoder's μ and σ.</summary>
    private static double MedianDimensionKl(VaeModel model, Tensor x)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (mean, logVariance) = model.Network.Encode(x);
        var perDimension = TensorCopy.ToArray(VaeObjective.KlPerDimension(mean, logVariance).mean([0]));
        Array.Sort(perDimension);
        Assert.IsLessThan(perDimension[^1], perDimension[0], "the dimensions' KL terms differ");
        return 0.5 * (perDimension[perDimension.Length / 2 - 1] + perDimension[perDimension.Length / 2]);
    }

    private static float[][] StepGradients(TrainingStep step) => step.HandDerivedGradients!.Select(TensorCopy.ToArray).ToArray();
}
