using Microsoft.ML;
using MLNet.Vae.Network;
using MLNet.Vae.Reporting;

namespace MLNet.Vae.Tests;

/// <summary>Defects found by the code review of the renovation issue, each pinned by a test that failed before its fix.</summary>
[TestClass]
public sealed class RenovationRegressionTests
{
    [TestMethod]
    public void KeptWeightsLog_SaysEarlyStoppingOnlyWhenEpochsWereSkipped()
    {
        Assert.IsNull(VaeEstimator.KeptWeightsMessage(epochsRun: 10, epochsAsked: 10, bestEpoch: 10));
        StringAssert.StartsWith(VaeEstimator.KeptWeightsMessage(10, 10, bestEpoch: 7), "Every epoch ran; kept the weights of epoch 7");
        StringAssert.StartsWith(VaeEstimator.KeptWeightsMessage(8, 10, bestEpoch: 5), "Early stopping after epoch 8");
    }

    [TestMethod]
    public void ActiveUnits_AreCountedOnASampleOfAllRows_NotTheFirstOnes()
    {
        // Sorted data: 2,100 identical rows first, then 900 varied ones. The first 2,048 rows encode to one point.
        var ml = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 2100).Select(i => new FeatureRow { Features = Enumerable.Repeat(3f, TestData.Width).ToArray(), Id = i })
            .Concat(TestData.Normal(900, seed: 3).Select(r => { r.Features = r.Features.Select(v => 3 + 10 * (v - 3)).ToArray(); return r; }))
            .ToList();
        var options = TestData.FastOptions(epochs: 2);
        options.Beta = 0.01;
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(TestData.ToDataView(ml, rows));

        Assert.IsGreaterThan(0, model.Training.History[^1].ActiveUnits, "a latent dimension varies over the data; the first 2,048 rows alone show none");
    }

    [TestMethod]
    public void ReportOptions_AreValidated_NamingTheOption()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new VaeReportOptions { SampleCount = 0 }.Validate());
        Assert.AreEqual(nameof(VaeReportOptions.SampleCount), error.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new VaeReportOptions { MaximumRows = 0 }.Validate());
    }

    [TestMethod]
    public void UnknownArchitecture_IsRefused_NotBuiltAsAnMlp()
    {
        var spec = new VaeNetworkSpec((VaeArchitecture)7, 4, 2, [3], null, [], 20);
        Assert.Throws<ArgumentOutOfRangeException>(() => spec.Build());
    }

    [TestMethod]
    [DataRow(VaeArchitecture.Mlp, 0)]
    [DataRow(VaeArchitecture.Convolutional, 0)]
    [DataRow(VaeArchitecture.Mlp, 5)]
    [DataRow(VaeArchitecture.Convolutional, 2)]
    public void ParameterShapes_MatchTheBuiltNetwork(VaeArchitecture architecture, int priorComponents)
    {
        var spec = architecture == VaeArchitecture.Mlp
            ? new VaeNetworkSpec(architecture, 16, 3, [8, 6], null, [], 20, priorComponents)
            : new VaeNetworkSpec(architecture, 3 * 7 * 9, 3, [], new VaeImageShape(3, 7, 9), [4, 8], 20, priorComponents);
        using var network = spec.Build();

        var built = network.named_parameters().Select(p => $"{p.name} [{string.Join(",", p.parameter.shape)}]").ToList();
        var computed = spec.ParameterShapes().Select(p => $"{p.Name} [{string.Join(",", p.Shape)}]").ToList();
        CollectionAssert.AreEqual(built, computed);
        Assert.IsFalse(network.named_buffers().Any(), "the model format holds parameters only");
    }
}
