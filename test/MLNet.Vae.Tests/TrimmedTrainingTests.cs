using Microsoft.ML;
using TorchSharp;
using MLNet.Vae.Model;
using MLNet.Vae.Network;
using MLNet.Vae.Training;
using static TorchSharp.torch;

namespace MLNet.Vae.Tests;

/// <summary>VaeOptions.TrimmedFraction: a step's loss leaves out its highest-loss rows.</summary>
[TestClass]
public sealed class TrimmedTrainingTests
{
    [TestMethod]
    [DataRow(0.0, 0.0)]
    [DataRow(0.25, 0.0)]
    [DataRow(0.25, 0.3)]
    public void Forward_Trimmed_IsTheMeanLossOfTheRowsOfLowestLoss(double trimmedFraction, double freeBits)
    {
        var spec = new VaeNetworkSpec(VaeArchitecture.Mlp, 6, 2, [8], null, [], 20);
        using var network = spec.Build();
        using (var weights = new Generator(2)) network.Initialize(weights);
        using var model = new VaeModel(network, VaeLikelihood.Gaussian, VaeScoreKind.ReconstructionError, null);
        using var scope = NewDisposeScope();
        using var data = new Generator(4);
        var x = randn([16, 6], generator: data);
        using (var ten = 10.0f.ToScalar()) x[3].mul_(ten);   // one row far off: it must be among those left out
        const double Beta = 0.7;
        // The same noise ε on both sides: each draws from its own generator with the same seed.
        using var step = new TrainingStep(model, learningRate: 1e-3, weightDecay: 0, freeBits: freeBits, new Generator(3));
        network.train();
        double loss = step.Read(step.Forward(x, Beta, trimmedFraction)).Loss;

        using var noise = new Generator(3);
        var (mean, logVariance) = network.Encode(x);
        var z = VaeObjective.Reparameterize(mean, logVariance, noise);
        var reconstruction = VaeObjective.Reconstruction(VaeLikelihood.Gaussian, network.Decode(z), x).data<float>().ToArray();
        var klRows = VaeObjective.KlPerDimension(network, z, mean, logVariance);
        var kl = klRows.sum(dim: 1L).data<float>().ToArray();
        var order = Enumerable.Range(0, 16).OrderBy(r => reconstruction[r] + Beta * kl[r]).ToArray();
        int kept = 16 - (int)Math.Floor(16 * trimmedFraction);
        var keptRows = order.Take(kept).ToArray();
        if (trimmedFraction > 0) CollectionAssert.DoesNotContain(keptRows, 3, "the far row has the highest loss");
        var klPerDimension = klRows.data<float>().ToArray();
        double penalty = freeBits > 0
            ? Enumerable.Range(0, 2).Sum(j => Math.Max(freeBits, keptRows.Average(r => (double)klPerDimension[r * 2 + j]))) * kept
            : keptRows.Sum(r => (double)kl[r]);
        double expected = (keptRows.Sum(r => (double)reconstruction[r]) + Beta * penalty) / kept;
        Assert.AreEqual(expected, loss, 1e-4 * Math.Abs(expected));
    }

    [TestMethod]
    public void TrimmedFraction_AboveOneHalf_IsRefusedByName()
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            new MLContext().AnomalyDetection.Trainers.VariationalAutoencoder(new VaeOptions { TrimmedFraction = 0.6 }));
        Assert.AreEqual(nameof(VaeOptions.TrimmedFraction), error.ParamName);
    }
}
