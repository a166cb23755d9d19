using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Onnx;

/// <summary>
/// Writes a fitted <see cref="VaeTransformer"/> alone as an ONNX model: one input, the feature column (float32 [n, d]), and
/// one output per column the transformer adds, named <c>&lt;column&gt;.output</c> as ML.NET names exported columns:
/// LatentFeatures [n, L], Score [n, 1], PredictedLabel (bool) [n, 1], and the p-value and feature scores when the model has them.
/// </summary>
/// <remarks>
/// The graph holds the standardization, the network, the score of the model's kind (with its calibration), the rule that a
/// row the model cannot judge (NaN, ±∞) scores +∞, a Bernoulli value outside [0, 1] is clipped into it, and Score &gt; Threshold. It needs
/// opset 11 or later. A pipeline that contains the VAE exports whole with <c>mlContext.Model.ConvertToOnnx(model, data, stream)</c>.
/// </remarks>
public static class VaeOnnxExport
{
    /// <summary>Writes the model to <paramref name="stream"/> as ONNX.</summary>
    /// <param name="model">The fitted VAE.</param>
    /// <param name="mlContext">The context whose converter writes the graph.</param>
    /// <param name="stream">Where the ONNX protobuf is written.</param>
    /// <exception cref="InvalidOperationException">Something in the model cannot be exported; nothing is written.</exception>
    public static void ExportToOnnx(this VaeTransformer model, MLContext mlContext, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(stream);
        var options = model.Options;
        // No rows: the converter reads only the schema, a single feature column.
        var definition = SchemaDefinition.Create(typeof(FeatureRow));
        var column = definition[nameof(FeatureRow.Features)];
        column.ColumnName = options.FeatureColumnName;
        column.ColumnType = new VectorDataViewType(NumberDataViewType.Single, model.InputWidth);
        var input = mlContext.Data.LoadFromEnumerable(Array.Empty<FeatureRow>(), definition);
        var outputs = model.GetOutputSchema(input.Schema).Skip(1).Select(c => c.Name).ToArray();
        // The graph is built in memory first: an export that fails writes nothing.
        using var buffer = new MemoryStream();
        mlContext.Model.ConvertToOnnx(model, input, buffer, outputs);
        buffer.Position = 0;
        buffer.CopyTo(stream);
    }

    private sealed class FeatureRow
    {
        public float[] Features { get; set; } = [];
    }

    /// <summary>Writes the model to the file <paramref name="path"/> as ONNX, replacing it only once the graph is complete.</summary>
    /// <param name="model">The fitted VAE.</param>
    /// <param name="mlContext">The context whose converter writes the graph.</param>
    /// <param name="path">The .onnx file.</param>
    public static void ExportToOnnx(this VaeTransformer model, MLContext mlContext, string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string full = Path.GetFullPath(path);
        string temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = File.Create(temporary)) model.ExportToOnnx(mlContext, file);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
