using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae.Internal;

namespace MLNet.Vae.Tests;

/// <summary>
/// The ML.NET internals the library reaches by reflection. If an ML.NET upgrade moves them, these fail first and say so.
/// </summary>
[TestClass]
public sealed class MLNetInternalsTests
{
    [TestMethod]
    public void SchemaShapeColumn_IsBuiltWithEveryField()
    {
        var column = MLNetInternals.NewColumn("Latent", SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single);
        Assert.AreEqual("Latent", column.Name);
        Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, column.Kind);
        Assert.AreEqual(NumberDataViewType.Single, column.ItemType);
        Assert.IsFalse(column.IsKey);
    }

    [TestMethod]
    public void CatalogEstimators_LogToTheirMLContext()
    {
        var ml = new MLContext(seed: 1);
        var messages = new List<string>();
        ml.Log += (_, e) => { lock (messages) messages.Add(e.Message); };
        var data = TestData.ToDataView(ml, TestData.Normal(20, seed: 1));
        var options = TestData.FastOptions(epochs: 1);

        using (ml.Transforms.VariationalAutoencoder(options).Fit(data)) { }
        int fromTransforms = messages.Count(m => m.Contains("Epoch 1:"));
        using (ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(data)) { }

        Assert.AreEqual(1, fromTransforms);
        Assert.AreEqual(2, messages.Count(m => m.Contains("Epoch 1:")));
    }

    [TestMethod]
    public void MicrosoftML_IsTheVersionTheInternalsWereVerifiedWith()
    {
        string version = typeof(MLContext).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        StringAssert.StartsWith(version, "5.0.1",
            "MLNet.Vae reaches ML.NET internals verified on Microsoft.ML 5.0.1: re-verify MLNetInternals before moving the pin.");
    }
}
