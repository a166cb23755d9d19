using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using OxyPlot;
using OxyPlot.SkiaSharp;

namespace MLNet.Vae.Reporting;

/// <summary>Writes a training report: PNG charts and pictures, and one HTML page that embeds them.</summary>
internal static class ReportWriter
{
    private const int ChartWidth = 800;
    private const int ChartHeight = 450;

    public static VaeTrainingReport Write(string folder, VaeTransformer transformer, IDataView data, VaeReportOptions options)
    {
        var vaeOptions = transformer.Options;
        var featureColumn = data.Schema.GetColumnOrNull(vaeOptions.FeatureColumnName)
            ?? throw new ArgumentOutOfRangeException(nameof(data), $"Could not find input column '{vaeOptions.FeatureColumnName}'");
        var imageShape = options.ImageShape ?? transformer.ImageShape ?? VaeImageShape.FromColumnType(featureColumn.Type);
        if (imageShape is not null && imageShape.Size != transformer.InputWidth)
            throw new ArgumentOutOfRangeException(nameof(options), $"ImageShape {imageShape.Channels}x{imageShape.Height}x{imageShape.Width} holds {imageShape.Size} values, but the model's input width is {transformer.InputWidth}.");
        var scored = ScoredData.Read(transformer, data, options.LabelColumnName, options.MaximumRows, options.ReconstructionCount);
        if (scored.Scores.Count == 0) throw new ArgumentException("The data for the report has no rows.", nameof(data));

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
        if (training.Members.Count > 1) Chart("ensemble.png", TrainingCharts.EnsembleMembers(training));
        if (training.History[^1].KlPerDimension.Count > 0)
            Chart("kl-per-dimension.png", TrainingCharts.KlPerDimension(training.History[^1]));
        Chart("scores.png", TrainingCharts.ScoreHistogram(scored.Scores, transformer.Threshold, vaeOptions.ScoreKind ?? VaeScoreKind.ReconstructionError));
        Chart("latent-map.png", TrainingCharts.LatentMap(LatentProjection.FirstTwoComponents(scored.Latent), scored.Labels, options.LabelColumnName));

        if (imageShape is not null)
        {
            int scale = Math.Max(1, 84 / Math.Max(imageShape.Height, imageShape.Width));
            var inputs = scored.FirstRows;
            var reconstructed = transformer.Reconstruct(inputs);
            var (w, h) = ImageGrid.Write(Path.Combine(folder, "reconstructions.png"), imageShape, [inputs, reconstructed], scale);
            charts.Add(new VaeReportChart("reconstructions.png", "Inputs (top) and their reconstructions (bottom)", w, h,
                new Dictionary<string, int> { ["inputs"] = inputs.Count, ["reconstructions"] = inputs.Count }));

            var samples = transformer.Generate(options.SampleCount, options.Seed);
            int perRow = Math.Min(8, samples.Length);
            var grid = samples.Chunk(perRow).Select(c => (IReadOnlyList<float[]>)c).ToList();
            (w, h) = ImageGrid.Write(Path.Combine(folder, "samples.png"), imageShape, grid, scale);
            charts.Add(new VaeReportChart("samples.png", $"{samples.Length} samples from the prior (decoded z ~ N(0, I))", w, h,
                new Dictionary<string, int> { ["samples"] = samples.Length }));
        }

        string html = Path.Combine(folder, "index.html");
        File.WriteAllText(html, Html(options.Title, transformer, scored.Scores.Count, charts, folder));
        return new VaeTrainingReport(Path.GetFullPath(folder), Path.GetFullPath(html), charts);
    }

    private static string Html(string title, VaeTransformer transformer, int rowCount, List<VaeReportChart> charts, string folder)
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
            <tr><th>network</th><td class="l">{{E(transformer.NetworkDescription)}}, {{E(options.Likelihood)}} likelihood</td></tr>
            <tr><th>score</th><td class="l">{{E(options.ScoreKind)}}{{(transformer.NumberOfModels > 1 ? $", mean standardized score of {transformer.NumberOfModels} models" : "")}}, threshold {{N(transformer.Threshold)}} (contamination {{N(options.Contamination)}})</td></tr>
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
        if (training.Members.Count > 1)
        {
            // Each model's last epoch and where its training scores sit: S = (1/K) Σₖ (sₖ − cₖ) / σₖ.
            html.Append("<h2>Ensemble</h2>\n<table><tr><th>model</th><th>seed</th><th>epochs</th><th>kept epoch</th><th>loss</th><th>reconstruction</th>" +
                        "<th>KL</th><th>active units</th><th>score centre cₖ</th><th>score scale σₖ</th><th>warnings</th></tr>\n");
            for (int k = 0; k < training.Members.Count; k++)
            {
                var m = training.Members[k];
                var last = m.History[^1];
                html.Append($"<tr><td>{k + 1}</td><td>{m.Seed}</td><td>{m.History.Count}</td><td>{m.BestEpoch}</td><td>{N(last.Loss)}</td><td>{N(last.Reconstruction)}</td>" +
                            $"<td>{N(last.Kl)}</td><td>{last.ActiveUnits}</td><td>{N(m.ScoreCenter)}</td><td>{N(m.ScoreScale)}</td><td class=\"l\">{E(string.Join(", ", m.Warnings.Select(w => w.Kind)))}</td></tr>\n");
            }
            html.Append("</table>\n<p>The history below is model 1's.</p>\n");
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
