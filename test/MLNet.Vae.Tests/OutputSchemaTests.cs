using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae.Internal;

namespace MLNet.Vae.Tests;

[TestClass]
public sealed class OutputSchemaTests
{
    [TestMethod]
    public void EstimatorShape_DescribesTheTransformerOutputColumns_WithTheSameAnnotations()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.ToDataView(ml, TestData.Normal(50, seed: 1));
        var estimator = ml.AnomalyDetection.Trainers.VariationalAutoencoder(TestData.FastOptions(epochs: 1));
        var input = new SchemaShape(data.Schema.Select(c => MLNetInternals.NewColumn(c.Name,
            c.Type is VectorDataViewType ? SchemaShape.Column.VectorKind.Vector : SchemaShape.Column.VectorKind.Scalar, ItemType(c.Type))));
        var declared = estimator.GetOutputSchema(input);
        using var model = estimator.Fit(data);
        var produced = model.GetOutputSchema(data.Schema);

        foreach (string name in new[] { "LatentFeatures", "Score", "PredictedLabel" })
        {
            var expected = declared.Single(c => c.Name == name);
            var actual = produced[name];
            Assert.AreEqual(expected.Kind == SchemaShape.Column.VectorKind.Vector, actual.Type is VectorDataViewType, name);
            Assert.AreEqual(expected.ItemType, ItemType(actual.Type), name);
            CollectionAssert.AreEquivalent(expected.Annotations.Select(a => a.Name).ToList(), actual.Annotations.Schema.Select(a => a.Name).ToList(), name);
        }
        CollectionAssert.Contains(declared.Single(c => c.Name == "Score").Annotations.Select(a => a.Name).ToList(), "ScoreColumnKind");
    }

    private static DataViewType ItemType(DataViewType type) => type is VectorDataViewType vector ? vector.ItemType : type;
}
