using Microsoft.ML;
using MLNet.Vae.Model;
using MLNet.Vae.Network;
using MLNet.Vae.Onnx;
using static TorchSharp.torch;

namespace MLNet.Vae.Tests;

/// <summary>The learned mixture prior (VaeOptions.PriorComponents): its Monte Carlo KL, training, persistence and export.</summary>
[TestClass]
public sealed class MixturePriorTests
{
    [TestMethod]
    public void MonteCarloKl_WithOneStandardNormalComponent_AveragesToTheClosedForm()
    {
        var spec = new VaeNetworkSpec(VaeArchitecture.Mlp, 6, 3, [8], null, [], 20, PriorComponents: 1);
        using var network = spec.Build();
        using var generator = new Generator(1);
        network.Initialize(generator);
        using var scope = NewDisposeScope();
        using (no_grad())
            foreach (var (name, parameter) in network.named_parameters().Where(p => p.name.StartsWith("prior_", StringComparison.Ordinal)))
                parameter.zero_();   // one component at N(0, I): the prior is the standard normal

        var mean = randn([1, 3], generator: generator).expand(200_000, 3);
        var logVariance = randn([1, 3], generator: generator).mul(0.5).expand(200_000, 3);
        var z = VaeObjective.Reparameterize(mean, logVariance, generator);
        double closedForm = VaeObjective.KlDivergence(mean, logVariance)[0].item<float>();
        double monteCarlo = VaeObjective.Kl(network, z, mean, logVariance).mean().item<float>();
        Assert.AreEqual(closedForm, monteCarlo, 0.02 * closedForm + 0.01, "the Monte Carlo KL estimates the closed form");
        var perDimension = network.LogPriorPerDimension(z).sum(1);
        Assert.AreEqual(0, (perDimension - network.LogPrior(z)).abs().max().item<float>(), 1e-4, "one component factorizes: its marginals sum to the joint");
    }

    [TestMethod]
    public void Fit_WithAMixturePrior_FindsOutliers_RecordsAFiniteKl_AndRoundTripsThroughAFile()
    {
        var ml = new MLContext(seed: 1);
        var options = TestData.FastOptions(epochs: 30);
        options.PriorComponents = 4;
        var rows = TestData.Normal(300, seed: 1).Concat(TestData.Outliers(15, seed: 2)).ToList();
        var data = TestData.ToDataView(ml, rows);
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(data);

        Assert.IsTrue(model.Training.History.All(e => double.IsFinite(e.Kl) && e.KlPerDimension.All(double.IsFinite)), "finite KL terms in every epoch");
        Assert.IsGreaterThan(0.9, ml.AnomalyDetection.Evaluate(model.Transform(data)).AreaUnderRocCurve);
        using var file = new MemoryStream();
        model.Save(file);
        file.Position = 0;
        using var loaded = VaeTransformer.Load(ml, file);
        CollectionAssert.AreEqual(TestData.Scores(model.Transform(data)), TestData.Scores(loaded.Transform(data)), "the prior's parameters are saved with the model");
        var error = Assert.ThrowsExactly<NotSupportedException>(() => model.ExportToOnnx(ml, new MemoryStream()));
        StringAssert.Contains(error.Message, "mixture prior");
    }
}
