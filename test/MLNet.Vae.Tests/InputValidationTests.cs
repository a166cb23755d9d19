using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Tests;

[TestClass]
public sealed class InputValidationTests
{
    private sealed class ScalarRow { public float Features { get; set; } }
    private sealed class DoubleRow { [VectorType(4)] public double[] Features { get; set; } = new double[4]; }
    private sealed class VariableRow { public float[] Features { get; set; } = []; }

    private static readonly MLContext Ml = new(seed: 1);

    [TestMethod]
    public void Fit_WithoutTheFeatureColumn_ThrowsCouldNotFindInputColumn()
    {
        var data = TestData.ToDataView(Ml, TestData.Normal(10, seed: 1));
        var options = TestData.FastOptions();
        options.FeatureColumnName = "Pixels";

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new VaeEstimator(Ml, options).Fit(data));
        StringAssert.Contains(error.Message, "Could not find input column 'Pixels'");
    }

    [TestMethod]
    public void Fit_WithAScalarColumn_ThrowsSchemaMismatch()
    {
        var data = Ml.Data.LoadFromEnumerable([new ScalarRow { Features = 1 }]);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new VaeEstimator(Ml, TestData.FastOptions()).Fit(data));
        StringAssert.Contains(error.Message, "Schema mismatch for input column 'Features': expected known-size vector of Single, got Single");
    }

    [TestMethod]
    public void Fit_WithAVectorOfDouble_ThrowsSchemaMismatch()
    {
        var data = Ml.Data.LoadFromEnumerable([new DoubleRow()]);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new VaeEstimator(Ml, TestData.FastOptions()).Fit(data));
        StringAssert.Contains(error.Message, "Schema mismatch for input column 'Features': expected known-size vector of Single, got Vector<Double, 4>");
    }

    [TestMethod]
    public void Fit_WithAVariableSizeVector_ThrowsSchemaMismatch()
    {
        var data = Ml.Data.LoadFromEnumerable([new VariableRow { Features = [1, 2] }]);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new VaeEstimator(Ml, TestData.FastOptions()).Fit(data));
        StringAssert.Contains(error.Message, "Schema mismatch for input column 'Features': expected known-size vector of Single, got Vector<Single>");
    }

    [TestMethod]
    public void GetOutputSchema_OfTheEstimator_ChecksTheColumnWithoutData()
    {
        var estimator = new VaeEstimator(Ml, TestData.FastOptions());
        var variable = Ml.Data.LoadFromEnumerable([new VariableRow { Features = [1, 2] }]);
        var scalar = Ml.Data.LoadFromEnumerable([new ScalarRow()]);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(TestData.ShapeOf(variable.Schema)));
        StringAssert.Contains(error.Message, "expected known-size vector of Single, got Vector<Single>");
        error = Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(TestData.ShapeOf(scalar.Schema)));
        StringAssert.Contains(error.Message, "got Single");
        var options = TestData.FastOptions();
        options.FeatureColumnName = "Missing";
        error = Assert.Throws<ArgumentOutOfRangeException>(() => new VaeEstimator(Ml, options).GetOutputSchema(TestData.ShapeOf(scalar.Schema)));
        StringAssert.Contains(error.Message, "Could not find input column 'Missing'");
    }

    [TestMethod]
    public void Transform_WithAnotherWidthThanFit_ThrowsSchemaMismatchNamingBothWidths()
    {
        using var model = new VaeEstimator(Ml, TestData.FastOptions(epochs: 1)).Fit(TestData.ToDataView(Ml, TestData.Normal(20, seed: 2)));
        var narrow = TestData.ToDataView(Ml, TestData.Normal(5, seed: 3, width: 10), width: 10);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.Transform(narrow));
        StringAssert.Contains(error.Message, "Schema mismatch for input column 'Features': expected Vector<Single, 16>, got Vector<Single, 10>");
        Assert.Throws<ArgumentOutOfRangeException>(() => model.GetRowToRowMapper(narrow.Schema));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.GetOutputSchema(narrow.Schema));
    }

    [TestMethod]
    public void Fit_OnEmptyData_ThrowsInMLNetWording()
    {
        var empty = TestData.ToDataView(Ml, []);
        var error = Assert.Throws<InvalidOperationException>(() => new VaeEstimator(Ml, TestData.FastOptions()).Fit(empty));
        Assert.AreEqual("Training set has 0 instances, aborting training.", error.Message);
    }

    [TestMethod]
    [DataRow(float.NaN, "NaN")]
    [DataRow(float.PositiveInfinity, "Infinity")]
    [DataRow(float.NegativeInfinity, "-Infinity")]
    public void Fit_WithNonFiniteFeature_ThrowsWithRowAndFeatureIndex(float bad, string shown)
    {
        var rows = TestData.Normal(30, seed: 4);
        rows[17].Features[5] = bad;

        var error = Assert.Throws<InvalidOperationException>(() => new VaeEstimator(Ml, TestData.FastOptions()).Fit(TestData.ToDataView(Ml, rows)));
        StringAssert.Contains(error.Message, $"Input column 'Features' has a non-finite value ({shown}) at row 17, feature 5");
        StringAssert.Contains(error.Message, "ReplaceMissingValues");
    }

    [TestMethod]
    public void Fit_BernoulliOnDataOutsideTheUnitInterval_ThrowsSuggestingNormalizationOrGaussian()
    {
        var rows = TestData.Normal(10, seed: 5, unitInterval: true);
        rows[3].Features[2] = 1.5f;

        var error = Assert.Throws<InvalidOperationException>(() =>
            new VaeEstimator(Ml, TestData.FastOptions(VaeLikelihood.Bernoulli)).Fit(TestData.ToDataView(Ml, rows)));
        StringAssert.Contains(error.Message, "value 1.5 at row 3, feature 2");
        StringAssert.Contains(error.Message, "NormalizeMinMax");
        StringAssert.Contains(error.Message, "VaeLikelihood.Gaussian");
    }

    [TestMethod]
    public void Reconstruct_RowOfTheWrongWidth_ThrowsNamingTheRow()
    {
        using var model = new VaeEstimator(Ml, TestData.FastOptions(epochs: 1)).Fit(TestData.ToDataView(Ml, TestData.Normal(20, seed: 7)));

        var error = Assert.Throws<ArgumentException>(() => model.Reconstruct([new float[16], new float[3]]));
        StringAssert.Contains(error.Message, "Row 1 has 3 values; the model was fitted on 16.");
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Generate(0));
    }

    [TestMethod]
    public void DisposedTransformer_RefusesToScore()
    {
        var model = new VaeEstimator(Ml, TestData.FastOptions(epochs: 1)).Fit(TestData.ToDataView(Ml, TestData.Normal(20, seed: 8)));
        model.Dispose();
        model.Dispose();

        Assert.Throws<ObjectDisposedException>(() => model.Transform(TestData.ToDataView(Ml, TestData.Normal(2, seed: 9))));
        Assert.Throws<ObjectDisposedException>(() => model.Generate(1));
    }
}
