using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae.Data;
using MLNet.Vae.Model;
using OxyPlot;
using OxyPlot.SkiaSharp;

namespace MLNet.Vae.Reporting;

/// <summary>Writes a training report: PNG charts and pictures, and one HTML page that embeds them.</summary>
internal static class ReportWriter
{
    private const int ChartWidth = 800;
    private const int ChartHeight = 450;

    public static VaeTrainingReport Write(string folder, VaeTransformer transformer, VaeModel model, IDataView data, VaeReportOptions options)
    {
        var vaeOptions = transformer.Options;
        var imageShape = options.ImageShape ?? model.Network.Spec.ImageShape
            ?? ImageShapes.FromColumn(data.Schema[FeatureColumn.Check(data.Schema, vaeOptions.FeatureColumnName, model.InputWidth).Index]);
        if (imageShape is not null && imageShape.Size != model.InputWidth)
            throw new ArgumentOutOfRangeException(nameof(options), $"ImageShape {imageShape.Channels}x{imageShape.Height}x{imageShape.Width} holds {imageShape.Size} values, but the model's input width is {model.InputWidth}.");
        float[] rows = FeatureColumn.ReadAll(data, vaeOptions.FeatureColumnName, model.InputWidth, out int rowCount, maximumRows: options.MaximumRows);
        if (rowCount == 0) throw new ArgumentException("The data for the report has no rows.", nameof(data));
        var labels = options.LabelColumnName is null ? null : ReadLabels(data, options.LabelColumnName, rowCount);
        var (latent, scores) = model.ScoreRows(rows, rowCount);

        Directory.CreateDirectory(folder);
        var charts = new List<VaeReportChart>();
        void Chart(string file, PlotModel plot)
        {
            using (var stream = File.Create(Path.Combine(folder, file)))
                new PngExporter { Width = ChartWidth, Height = ChartHeight, UseTextShaping = false }.Export(plot, stream);
            charts.Add(new VaeReportChart(file, plot.Title, ChartWidth, ChartHeight, TrainingCharts.Describe(plot)));
        }
        var training = transformer.Training;
        Chart("reconstruction.png", TrainingCharts.Reconstruction(training));
        Chart("kl.png", TrainingCharts.Kl(training));
        if (training.History[^1].KlPerDimension.Count > 0)
            Chart("kl-per-dimension.png", TrainingCharts.KlPerDimension(training.History[^1]));
        Chart("scores.png", TrainingCharts.ScoreHistogram(scores, transformer.Threshold, vaeOptions.ScoreKind));
        Chart("latent-map.png", TrainingCharts.LatentMap(LatentProjection.FirstTwoComponents(latent, rowCount, model.LatentDimension), labels, options.LabelColumnName));

        if (imageShape is not null)
        {
            int scale = Math.Max(1, 84 / Math.Max(imageShape.Height, imageShape.Width));
            int shown = Math.Min(options.ReconstructionCount, rowCount);
            var inputs = Enumerable.Range(0, shown).Select(r => rows.AsSpan(r * model.InputWidth, model.InputWidth).ToArray()).ToList();
            var reconstructed = Split(model.Reconstruct(rows.AsSpan(0, shown * model.InputWidth), shown), model.InputWidth);
            var (w, h) = ImageGrid.Write(Path.Combine(folder, "reconstructions.png"), imageShape, [inputs, reconstructed], scale);
            charts.Add(new VaeReportChart("reconstructions.png", "Inputs (top) and their reconstructions (bottom)", w, h,
                new Dictionary<string, int> { ["inputs"] = shown, ["reconstructions"] = shown }));

            var samples = Split(model.Generate(options.SampleCount, options.Seed), model.InputWidth);
            int perRow = Math.Min(8, samples.Count);
            var grid = samples.Chunk(perRow).Select(c => (IReadOnlyList<float[]>)c).ToList();
            (w, h) = ImageGrid.Write(Path.Combine(folder, "samples.png"), imageShape, grid, scale);
            charts.Add(new VaeReportChart("samples.png", $"{samples.Count} samples from the prior (decoded z ~ N(0, I))", w, h,
                new Dictionary<string, int> { ["samples"] = samples.Count }));
        }

        string html = Path.Combine(folder, "index.html");
        File.WriteAllText(html, Html(options.Title, transformer, model, rowCount, charts, folder));
        return new VaeTrainingReport(Path.GetFullPath(folder), Path.GetFullPath(html), charts);
    }

    private static List<float[]> Split(float[] matrix, int width) =>
        Enumerable.Range(0, matrix.Length / width).Select(r => matrix.AsSpan(r * width, width).ToArray()).ToList();

    /// <summary>The first <paramref name="count"/> values of a label column, as text.</summary>
    private static List<string> ReadLabels(IDataView data, string name, int count)
    {
        var column = data.Schema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException(nameof(name), $"Could not find input column '{name}'");
        var labels = new List<string>(count);
        using var cursor = data.GetRowCursor([column]);
        Func<string> read = column.Type switch
        {
            NumberDataViewType t when t == NumberDataViewType.Single => Reader<float>(cursor, column, v => v.ToString(CultureInfo.InvariantCulture)),
            NumberDataViewType t when t == NumberDataViewType.Double => Reader<double>(cursor, column, v => v.ToString(CultureInfo.InvariantCulture)),
            NumberDataViewType t when t == NumberDataViewType.Int32 => Reader<int>(cursor, column, v => v.ToString(CultureInfo.InvariantCulture)),
            BooleanDataViewType => Reader<bool>(cursor, column, v => v ? "true" : "false"),
            KeyDataViewType => Reader<uint>(cursor, column, v => v.ToString(CultureInfo.InvariantCulture)),
            TextDataViewType => Reader<ReadOnlyMemory<char>>(cursor, column, v => v.ToString()),
            _ => throw new ArgumentOutOfRangeException(nameof(name),
                $"Schema mismatch for label column '{name}': expected Single, Double, Int32, Boolean, key or text, got {column.Type}"),
        };
        while (labels.Count < count && cursor.MoveNext()) labels.Add(read());
        return labels;
    }

    private static Func<string> Reader<T>(DataViewRowCursor cursor, DataViewSchema.Column column, Func<T, string> format)
    {
        var getter = cursor.GetGetter<T>(column);
        T value = default!;
        return () => { getter(ref value); return format(value); };
    }

    private static string Html(string title, VaeTransformer transformer, VaeModel model, int rowCount, List<VaeReportChart> charts, string folder)
    {
        static string E(object? value) => WebUtility.HtmlEncode(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "");
        static string N(double? value) => value is double v ? v.ToString("G5", CultureInfo.InvariantCulture) : "";
        var options = transformer.Options;
        var training = transformer.Training;
        var html = new StringBuilder();
        html.Append($$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>{{E(title)}}</title>
            <style>body{font-family:sans-serif;margin:2em;max-width:1100px} table{border-collapse:collapse;font-size:90%}
            td,th{border:1px solid #ccc;padding:2px 8px;text-align:right} th{background:#eee} td.l{text-align:left}
            .warn{background:#fff3cd;border:1px solid #e0c060;padding:6px 10px;margin:6px 0} img{max-width:100%;border:1px solid #ddd;margin:8px 0}</style>
            </head><body>
            <h1>{{E(title)}}</h1>
            <table>
            <tr><th>network</th><td class="l">{{E(model.Network.Spec.Describe())}}, {{E(options.Likelihood)}} likelihood</td></tr>
            <tr><th>score</th><td class="l">{{E(options.ScoreKind)}}, threshold {{N(transformer.Threshold)}} (contamination {{N(options.Contamination)}})</td></tr>
            <tr><th>training</th><td class="l">{{training.History.Count}} epochs, weights of epoch {{training.BestEpoch}}, β {{N(options.Beta)}}, learning rate {{N(options.LearningRate)}}, batch {{options.BatchSize}}</td></tr>
            <tr><th>mean-prediction baseline</th><td class="l">{{N(training.ReconstructionBaseline)}} nats per row</td></tr>
            <tr><th>rows drawn</th><td class="l">{{rowCount}}</td></tr>
            </table>
            <h2>Warnings</h2>

            """);
        if (training.Warnings.Count == 0) html.Append("<p>None: no known failure mode was detected.</p>\n");
        foreach (var warning in training.Warnings) html.Append($"<div class=\"warn\"><b>{E(warning.Kind)}</b>: {E(warning.Message)}</div>\n");
        html.Append("<h2>Charts</h2>\n");
        foreach (var chart in charts)
        {
            string data = Convert.ToBase64String(File.ReadAllBytes(Path.Combine(folder, chart.FileName)));
            html.Append($"<h3>{E(chart.Title)}</h3>\n<img alt=\"{E(chart.Title)}\" src=\"data:image/png;base64,{data}\">\n");
        }
        html.Append("<h2>History</h2>\n<table><tr><th>epoch</th><th>loss</th><th>reconstruction</th><th>KL</th><th>active units</th>" +
                    "<th>gradient norm</th><th>validation loss</th><th>learning rate</th><th>β</th><th>seconds</th></tr>\n");
        foreach (var e in training.History)
        {
            html.Append($"<tr><td>{e.Epoch}</td><td>{N(e.Loss)}</td><td>{N(e.Reconstruction)}</td><td>{N(e.Kl)}</td><td>{e.ActiveUnits}</td>" +
                        $"<td>{N(e.GradientNorm)}</td><td>{N(e.ValidationLoss)}</td><td>{N(e.LearningRate)}</td><td>{N(e.Beta)}</td><td>{N(e.Seconds)}</td></tr>\n");
        }
        html.Append("</table>\n</body></html>\n");
        return html.ToString();
    }
}
