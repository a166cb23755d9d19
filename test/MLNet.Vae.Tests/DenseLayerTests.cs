using MLNet.Vae.Model;
using MLNet.Vae.Kernels;

namespace MLNet.Vae.Tests;

/// <summary>The one-row path's layer (Kernels/DenseLayer.cs) against W x + b in float64, in both weight layouts and split ranges.</summary>
[TestClass]
public sealed class DenseLayerTests
{
    [TestMethod]
    // Row-major (fewer than 64 outputs), and input-major with whole blocks, a 16-wide rest and a scalar rest.
    [DataRow(37, 20)]
    [DataRow(784, 64)]
    [DataRow(784, 400)]
    [DataRow(400, 784)]
    [DataRow(53, 403)]
    public void Apply_EqualsFloat64Reference_WithZeroInputsAndSplitRanges(int inputs, int outputs)
    {
        var random = new Random(inputs * 1000 + outputs);
        var weight = Enumerable.Range(0, inputs * outputs).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var bias = Enumerable.Range(0, outputs).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        // About half the inputs exactly zero, as blank pixels and ReLU outputs are; the skipped inputs must not change y.
        var input = Enumerable.Range(0, inputs).Select(_ => random.NextDouble() < 0.5 ? 0f : (float)(random.NextDouble() * 2 - 1)).ToArray();
        var layer = new DenseLayer(weight, bias);

        var whole = new float[outputs];
        layer.Apply(input, whole, relu: false, 0, outputs);
        var split = new float[outputs];
        layer.Apply(input, split, relu: true, 0, layer.SplitPoint);
        layer.Apply(input, split, relu: true, layer.SplitPoint, outputs);

        Assert.IsTrue(layer.SplitPoint % 64 == 0 || layer.SplitPoint == outputs, $"split at {layer.SplitPoint}");
        for (int i = 0; i < outputs; i++)
        {
            double expected = bias[i];
            for (int k = 0; k < inputs; k++) expected += (double)weight[i * inputs + k] * input[k];
            Assert.AreEqual(expected, whole[i], 1e-5 * Math.Max(1, Math.Abs(expected)), $"output {i}");
            Assert.AreEqual(Math.Max(0, expected), split[i], 1e-5 * Math.Max(1, Math.Abs(expected)), $"output {i} with ReLU, split at {layer.SplitPoint}");
        }
    }
}
