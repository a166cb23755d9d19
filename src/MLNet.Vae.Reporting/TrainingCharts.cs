using OxyPlot;
using OxyPlot.Annotations;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace MLNet.Vae.Reporting;

/// <summary>The report's charts as OxyPlot models: pure functions of the history, the scores and the latent means.</summary>
internal static class TrainingCharts
{
    private static readonly OxyColor Train = OxyColor.FromRgb(0x1f, 0x77, 0xb4);
    private static readonly OxyColor Validation = OxyColor.FromRgb(0xff, 0x7f, 0x0e);
    private static readonly OxyColor Marker = OxyColor.FromRgb(0xd6, 0x27, 0x28);
    private static readonly OxyColor[] Palette =
    [
        OxyColor.FromRgb(0x1f, 0x77, 0xb4), OxyColor.FromRgb(0xff, 0x7f, 0x0e), OxyColor.FromRgb(0x2c, 0xa0, 0x2c),
        OxyColor.FromRgb(0xd6, 0x27, 0x28), OxyColor.FromRgb(0x94, 0x67, 0xbd), OxyColor.FromRgb(0x8c, 0x56, 0x4b),
        OxyColor.FromRgb(0xe3, 0x77, 0xc2), OxyColor.FromRgb(0x7f, 0x7f, 0x7f), OxyColor.FromRgb(0xbc, 0xbd, 0x22),
        OxyColor.FromRgb(0x17, 0xbe, 0xcf),
    ];

    /// <summary>Reconstruction term per row, train and validation, with the mean-prediction baseline and the kept epoch.</summary>
    public static PlotModel Reconstruction(VaeTrainingSummary training) =>
        Curves("Reconstruction term per row (lower is better)", "nats", training,
            e => e.Reconstruction, e => e.ValidationReconstruction,
            double.IsFinite(training.ReconstructionBaseline) ? ("mean-prediction baseline", training.ReconstructionBaseline) : null);

    /// <summary>KL per row, train and validation.</summary>
    public static PlotModel Kl(VaeTrainingSummary training) =>
        Curves("KL(q(z|x) || N(0, I)) per row", "nats", training, e => e.Kl, e => e.ValidationKl, null);

    /// <summary>An ensemble's reconstruction term per row, one line per model: a member that trained worse stands out.</summary>
    public static PlotModel EnsembleMembers(VaeTrainingSummary training)
    {
        var model = NewModel($"Reconstruction term per row of each of the {training.Members.Count} models (lower is better)", "epoch", "nats");
        for (int k = 0; k < training.Members.Count; k++)
        {
            var member = training.Members[k];
            model.Series.Add(Line($"model {k + 1} (seed {member.Seed})", Palette[k % Palette.Length],
                member.History.Select(e => new DataPoint(e.Epoch, e.Reconstruction))));
        }
        return model;
    }

    private static PlotModel Curves(string title, string unit, VaeTrainingSummary training,
        Func<VaeEpochRecord, double> trainValue, Func<VaeEpochRecord, double?> validationValue, (string Name, double Value)? reference)
    {
        var model = NewModel(title, "epoch", unit);
        model.Series.Add(Line("train", Train, training.History.Select(e => new DataPoint(e.Epoch, trainValue(e)))));
        if (training.History.Any(e => validationValue(e) is not null))
        {
            model.Series.Add(Line("validation", Validation, training.History
                .Where(e => validationValue(e) is not null).Select(e => new DataPoint(e.Epoch, validationValue(e)!.Value))));
        }
        if (reference is { } line)
        {
            model.Annotations.Add(new LineAnnotation
            {
                Type = LineAnnotationType.Horizontal, Y = line.Value, Text = line.Name, Color = OxyColors.Gray, LineStyle = LineStyle.Dash,
            });
        }
        if (training.BestEpoch < training.History.Count)
        {
            model.Annotations.Add(new LineAnnotation
            {
                Type = LineAnnotationType.Vertical, X = training.BestEpoch, Text = "kept epoch", Color = Marker, LineStyle = LineStyle.Dot,
            });
        }
        return model;
    }

    /// <summary>The final epoch's KL of each latent dimension: dimensions near 0 carry no information (inactive).</summary>
    public static PlotModel KlPerDimension(VaeEpochRecord last)
    {
        var model = NewModel($"KL per latent dimension after epoch {last.Epoch} ({last.ActiveUnits} active)", "latent dimension", "nats per row");
        var bars = new LinearBarSeries { Title = "KL", FillColor = Train, BarWidth = 0.8 * 800 / Math.Max(1, last.KlPerDimension.Count) / 1.5 };
        bars.Points.AddRange(last.KlPerDimension.Select((kl, j) => new DataPoint(j, kl)));
        model.Series.Add(bars);
        return model;
    }

    /// <summary>Histogram of the scores with the threshold marked.</summary>
    public static PlotModel ScoreHistogram(IReadOnlyList<float> scores, float threshold, VaeScoreKind kind)
    {
        var model = NewModel($"Anomaly scores ({kind}) of {scores.Count} rows", "score", "rows per bin");
        var finite = scores.Where(float.IsFinite).Select(s => (double)s).ToList();
        double low = Math.Min(finite.DefaultIfEmpty(0).Min(), threshold), high = Math.Max(finite.DefaultIfEmpty(1).Max(), threshold);
        if (high <= low) high = low + 1;
        const int BinCount = 50;
        double width = (high - low) / BinCount;
        var counts = new int[BinCount];
        foreach (double s in finite) counts[Math.Min(BinCount - 1, (int)((s - low) / width))]++;
        var histogram = new HistogramSeries { Title = "rows", FillColor = Train, StrokeThickness = 0 };
        for (int b = 0; b < BinCount; b++)
            histogram.Items.Add(new HistogramItem(low + b * width, low + (b + 1) * width, counts[b] * width, counts[b])); // height = area / width = count
        model.Series.Add(histogram);
        model.Annotations.Add(new LineAnnotation
        {
            Type = LineAnnotationType.Vertical, X = threshold, Text = $"threshold {threshold:G4}", Color = Marker, StrokeThickness = 2,
        });
        return model;
    }

    /// <summary>The latent means projected on their first two principal components, one colour per label value.</summary>
    public static PlotModel LatentMap(float[,] projected, IReadOnlyList<string>? labels, string? labelName)
    {
        string title = labels is null ? "Latent means (first two principal components)" : $"Latent means (first two principal components), by {labelName}";
        var model = NewModel(title, "component 1", "component 2");
        int rows = projected.GetLength(0);
        var groups = Enumerable.Range(0, rows).GroupBy(r => labels?[r] ?? "rows").OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        for (int g = 0; g < groups.Count; g++)
        {
            var series = new ScatterSeries
            {
                Title = groups[g].Key, MarkerType = MarkerType.Circle, MarkerSize = 2.5, MarkerFill = Palette[g % Palette.Length],
            };
            series.Points.AddRange(groups[g].Select(r => new ScatterPoint(projected[r, 0], projected[r, 1])));
            model.Series.Add(series);
        }
        return model;
    }

    private static PlotModel NewModel(string title, string xTitle, string yTitle)
    {
        var model = new PlotModel { Title = title, TitleFontSize = 14, Background = OxyColors.White };
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = xTitle, MajorGridlineStyle = LineStyle.Dot });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = yTitle, MajorGridlineStyle = LineStyle.Dot });
        model.Legends.Add(new Legend { LegendPosition = LegendPosition.TopRight, LegendBackground = OxyColor.FromAColor(200, OxyColors.White) });
        return model;
    }

    private static LineSeries Line(string title, OxyColor color, IEnumerable<DataPoint> points)
    {
        var series = new LineSeries { Title = title, Color = color, StrokeThickness = 2, MarkerType = MarkerType.Circle, MarkerSize = 2 };
        series.Points.AddRange(points);
        return series;
    }

    /// <summary>Each series' title and number of points, for the report's manifest.</summary>
    public static IReadOnlyDictionary<string, int> Describe(PlotModel model) => model.Series.ToDictionary(
        s => s.Title ?? "",
        s => s switch
        {
            LineSeries line => line.Points.Count,
            LinearBarSeries bars => bars.Points.Count,
            ScatterSeries scatter => scatter.Points.Count,
            HistogramSeries histogram => histogram.Items.Count,
            _ => 0,
        });
}
