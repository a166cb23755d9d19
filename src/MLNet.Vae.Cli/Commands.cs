using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae.Onnx;

namespace MLNet.Vae.Cli;

/// <summary>
/// What each command does. A model file is an ML.NET model (mlContext.Model.Save): for a CSV, the VAE over a Features
/// vector whose slot names are the CSV's columns; for images, the pixel pipeline followed by the VAE.
/// </summary>
internal sealed class Commands(TextWriter output, TextWriter error)
{
    private readonly MLContext _ml = new(seed: 1);

    public sealed record TrainSettings(string Data, string Model, string? LabelColumn, int? Latent, int? Epochs, string Likelihood,
        string Architecture, double Contamination, int ImageSize, bool Grayscale, int Seed, string? Report, bool PValues = false, int PriorComponents = 0, int? Models = null, double? TrimmedFraction = null, string Score = "auto");

    public int Train(TrainSettings settings)
    {
        var input = InputData.Load(_ml, settings.Data, settings.LabelColumn);
        int width = input.FeatureNames?.Length ?? 0;
        var options = new VaeOptions
        {
            FeatureColumnName = input.IsImages ? InputData.Pixels : InputData.Features,
            LatentDimension = settings.Latent,
            NumberOfEpochs = settings.Epochs,
            Likelihood = settings.Likelihood switch
            {
                "auto" => input.IsImages ? VaeLikelihood.Bernoulli : VaeLikelihood.Gaussian,
                "bernoulli" => VaeLikelihood.Bernoulli,
                "gaussian" => VaeLikelihood.Gaussian,
                _ => throw new CliException($"--likelihood must be auto, bernoulli or gaussian, got '{settings.Likelihood}'."),
            },
            Architecture = settings.Architecture switch
            {
                "mlp" => VaeArchitecture.Mlp,
                "conv" when input.IsImages => VaeArchitecture.Convolutional,
                "conv" => throw new CliException("--architecture conv needs a folder of images."),
                _ => throw new CliException($"--architecture must be mlp or conv, got '{settings.Architecture}'."),
            },
            Contamination = settings.Contamination,
            Seed = settings.Seed,
            Progress = new ConsoleProgress(error),
            PValueColumnName = settings.PValues ? "PValue" : null,
            PriorComponents = settings.PriorComponents,
            NumberOfModels = settings.Models,
            TrimmedFraction = settings.TrimmedFraction,
            ScoreKind = ScoreKind(settings.Score),
        };
        var bar = new ProgressRelay();
        options.TrainingProgress = bar;
        IEstimator<ITransformer> pipeline = new VaeEstimator(_ml, options);
        if (input.IsImages) pipeline = InputData.ImagePipeline(_ml, settings.ImageSize, settings.Grayscale).Append(pipeline);
        var model = TerminalProgress.Run(error, "training", update =>
        {
            bar.Target = p => update(p.FractionDone, $"training: {p}");
            return pipeline.Fit(input.Data);
        });
        var vae = FindVae(model);
        _ml.Model.Save(model, input.Data.Schema, settings.Model);
        string trained = vae.NumberOfModels > 1 ? $"Trained an ensemble of {vae.NumberOfModels} VAEs" : "Trained";
        output.WriteLine($"{trained} on {input.RowNames.Count} {(input.IsImages ? "images" : "rows")}: final loss {vae.Training.History[^1].Loss:G5}, threshold {vae.Threshold:G5}; model saved to {settings.Model}.");
        foreach (var warning in vae.Training.Warnings) error.WriteLine($"warning ({warning.Kind}): {warning.Message}");
        if (settings.Report is not null)
        {
            var report = vae.WriteTrainingReport(settings.Report, model is VaeTransformer ? input.Data : Prefix(model).Transform(input.Data),
                new Reporting.VaeReportOptions { Title = $"MLNet.Vae: {Path.GetFileName(settings.Data)}" });
            output.WriteLine($"Report written to {report.HtmlPath}.");
        }
        Dispose(model);
        return 0;
    }

    /// <param name="modelPath">The model file.</param>
    /// <param name="dataPath">The CSV file or image folder to score.</param>
    /// <param name="outPath">The CSV file to write.</param>
    /// <param name="featureScores">Also write each feature's share of the reconstruction error, one column per feature.</param>
    public int Score(string modelPath, string dataPath, string outPath, bool featureScores = false) => Apply(modelPath, dataPath, outPath, (vae, scored, rowNames) =>
    {
        var (scores, labels, pValues) = ReadScores(vae, scored, rowNames.Count);
        float[][] terms = [];
        var header = new List<string> { "row", "score", "predicted_label" };
        if (pValues is not null) header.Add("p_value");
        if (featureScores)
        {
            terms = vae.FeatureScores(scored.GetColumn<float[]>(vae.Options.FeatureColumnName).ToList());
            var names = InputData.FeatureNamesOf(scored.Schema) ?? Enumerable.Range(0, vae.InputWidth).Select(i => $"f{i}").ToArray();
            header.AddRange(names.Select(n => $"{n}_score"));
        }
        CsvTable.Write(outPath, header,
            rowNames.Select((name, i) => new[] { name, CsvTable.Number(scores[i]), labels[i] ? "1" : "0" }
                .Concat(pValues is null ? [] : [CsvTable.Number(pValues[i])])
                .Concat(featureScores ? terms[i].Select(CsvTable.Number) : [])));
        return $"Scored {scores.Length} rows ({labels.Count(l => l)} above the threshold {vae.Threshold:G5}) into {outPath}.";
    });

    /// <summary>
    /// Score, label and (when the model has it) p-value of every row in one pass over the scored view, with a progress bar
    /// on a terminal (reading each column with its own GetColumn would score the rows once per column).
    /// </summary>
    private (float[] Scores, bool[] Labels, float[]? PValues) ReadScores(VaeTransformer vae, IDataView scored, int rows)
    {
        var o = vae.Options;
        var columns = new[] { o.ScoreColumnName, o.PredictedLabelColumnName, o.PValueColumnName }.OfType<string>().Select(n => scored.Schema[n]).ToArray();
        var scores = new float[rows];
        var labels = new bool[rows];
        var pValues = o.PValueColumnName is null ? null : new float[rows];
        return TerminalProgress.Run(error, "scoring", update =>
        {
            using var cursor = scored.GetRowCursor(columns);
            var score = cursor.GetGetter<float>(columns[0]);
            var label = cursor.GetGetter<bool>(columns[1]);
            var pValue = pValues is null ? null : cursor.GetGetter<float>(columns[2]);
            for (int i = 0; cursor.MoveNext() && i < rows; i++)
            {
                score(ref scores[i]);
                label(ref labels[i]);
                pValue?.Invoke(ref pValues![i]);
                if (i % 1000 == 999) update((i + 1.0) / rows, $"scoring: {i + 1:N0}/{rows:N0} rows");
            }
            return (scores, labels, pValues);
        });
    }

    public int Encode(string modelPath, string dataPath, string outPath) => Apply(modelPath, dataPath, outPath, (vae, scored, rowNames) =>
    {
        var latent = scored.GetColumn<float[]>(vae.Options.LatentColumnName).ToArray();
        CsvTable.Write(outPath, new[] { "row" }.Concat(Enumerable.Range(0, vae.LatentDimension).Select(j => $"z{j}")),
            rowNames.Select((name, i) => new[] { name }.Concat(latent[i].Select(CsvTable.Number))));
        return $"Encoded {latent.Length} rows into {vae.LatentDimension} latent features in {outPath}.";
    });

    /// <summary>Saves the model with the threshold that flags <paramref name="falsePositiveRate"/> of the normal rows (VaeTransformer.WithFalsePositiveRate).</summary>
    public int Calibrate(string modelPath, string normalPath, double falsePositiveRate, string outPath)
    {
        var (model, inputSchema) = Load(modelPath);
        var vae = FindVae(model);
        var normal = LoadMatching(inputSchema, normalPath);
        var features = model is VaeTransformer ? normal.Data : Prefix(model).Transform(normal.Data);
        var calibrated = vae.WithFalsePositiveRate(features, falsePositiveRate);
        ITransformer result = model is VaeTransformer ? calibrated
            : new TransformerChain<ITransformer>(((IEnumerable<ITransformer>)model).SkipLast(1).Append(calibrated).ToArray());
        _ml.Model.Save(result, inputSchema, outPath);
        output.WriteLine($"Threshold {vae.Threshold:G5} -> {calibrated.Threshold:G5}: flags {falsePositiveRate:P1} of the {normal.RowNames.Count} normal rows; model saved to {outPath}.");
        calibrated.Dispose();
        Dispose(model);
        return 0;
    }

    /// <summary>Writes the model's VAE alone as ONNX: input Features (the feature vector), outputs its columns (docs/onnx.md).</summary>
    public int ExportOnnx(string modelPath, string outPath)
    {
        var (model, _) = Load(modelPath);
        var vae = FindVae(model);
        vae.ExportToOnnx(_ml, outPath);
        var o = vae.Options;
        var outputs = new[] { o.LatentColumnName, o.ScoreColumnName, o.PredictedLabelColumnName, o.PValueColumnName, o.FeatureScoresColumnName }.OfType<string>();
        output.WriteLine($"Exported the VAE ({vae.NetworkDescription}) to {outPath}: input '{o.FeatureColumnName}' [n, {vae.InputWidth}], " +
                         $"outputs {string.Join(", ", outputs.Select(name => name + ".output"))}.");
        Dispose(model);
        return 0;
    }

    public int Generate(string modelPath, int count, int seed, string outPath)
    {
        if (count < 1) throw new CliException($"--count must be positive, got {count}.");
        var (model, inputSchema) = Load(modelPath);
        var vae = FindVae(model);
        var rows = vae.Generate(count, seed);
        if (vae.ImageShape is { } shape)
        {
            if (!outPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new CliException("An image model generates a PNG grid: give --out a .png file.");
            VaeImageWriter.WriteGrid(outPath, shape, rows.Chunk(8).Select(r => (IReadOnlyList<float[]>)r).ToList(), scale: Math.Max(1, 84 / shape.Height));
        }
        else
        {
            var names = InputData.FeatureNamesOf(inputSchema) ?? Enumerable.Range(0, vae.InputWidth).Select(i => $"f{i}").ToArray();
            CsvTable.Write(outPath, names, rows.Select(r => r.Select(CsvTable.Number)));
        }
        output.WriteLine($"Generated {count} {(vae.ImageShape is null ? "rows" : "images")} from the prior into {outPath}.");
        Dispose(model);
        return 0;
    }

    public int Report(string modelPath, string dataPath, string outFolder)
    {
        var (model, inputSchema) = Load(modelPath);
        var input = LoadMatching(inputSchema, dataPath);
        var vae = FindVae(model);
        var data = model is VaeTransformer ? input.Data : Prefix(model).Transform(input.Data);
        var report = vae.WriteTrainingReport(outFolder, data, new Reporting.VaeReportOptions { Title = $"MLNet.Vae: {Path.GetFileName(modelPath)}" });
        output.WriteLine($"Report written to {report.HtmlPath} ({report.Charts.Count} pictures).");
        Dispose(model);
        return 0;
    }

    private int Apply(string modelPath, string dataPath, string outPath, Func<VaeTransformer, IDataView, IReadOnlyList<string>, string> write)
    {
        var (model, inputSchema) = Load(modelPath);
        var input = LoadMatching(inputSchema, dataPath);
        output.WriteLine(write(FindVae(model), model.Transform(input.Data), input.RowNames));
        Dispose(model);
        return 0;
    }

    private (ITransformer Model, DataViewSchema InputSchema) Load(string path)
    {
        if (!File.Exists(path)) throw new CliException($"The model file '{path}' does not exist.");
        try
        {
            var model = _ml.Model.Load(path, out var schema);
            FindVae(model);
            return (model, schema);
        }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new CliException($"'{path}' is not an MLNet.Vae model: {e.Message}");
        }
    }

    /// <summary>Reads data of the kind the model was trained on, with the same CSV columns in the same order.</summary>
    private InputData LoadMatching(DataViewSchema inputSchema, string dataPath)
    {
        bool imageModel = inputSchema.GetColumnOrNull(InputData.ImagePath) is not null;
        if (imageModel != Directory.Exists(dataPath))
            throw new CliException(imageModel ? $"This model was trained on images: give --data a folder of images, not '{dataPath}'." : $"This model was trained on a CSV file: give --data a CSV file, not the folder '{dataPath}'.");
        if (imageModel) return InputData.Load(_ml, dataPath, null);
        var expected = InputData.FeatureNamesOf(inputSchema) ?? throw new CliException("The model does not record its CSV columns.");
        var header = CsvTable.Read(dataPath).Header;
        var missing = expected.Where(n => !header.Contains(n)).ToList();
        if (missing.Count > 0) throw new CliException($"'{dataPath}' lacks the model's columns: {string.Join(", ", missing)}.");
        var extra = header.Where(h => !expected.Contains(h)).ToList();
        if (extra.Count > 1) throw new CliException($"'{dataPath}' has columns the model does not know: {string.Join(", ", extra)} (one label column may remain).");
        var input = InputData.Load(_ml, dataPath, extra.SingleOrDefault());
        if (!input.FeatureNames!.SequenceEqual(expected))
            throw new CliException($"The columns of '{dataPath}' are in another order than the model's: {string.Join(", ", expected)}.");
        return input;
    }

    /// <summary>--score: null for auto (the options then choose by likelihood), else the kind named, in any letter case.</summary>
    private static VaeScoreKind? ScoreKind(string name) =>
        name == "auto" ? null
        : Enum.TryParse<VaeScoreKind>(name, ignoreCase: true, out var kind) && Enum.IsDefined(kind) && !int.TryParse(name, out _) ? kind
        : throw new CliException($"--score must be auto or one of {string.Join(", ", Enum.GetNames<VaeScoreKind>())}, got '{name}'.");

    private static VaeTransformer FindVae(ITransformer model) => model switch
    {
        VaeTransformer vae => vae,
        IEnumerable<ITransformer> chain when chain.LastOrDefault() is VaeTransformer vae => vae,
        _ => throw new CliException("The model holds no MLNet.Vae transformer."),
    };

    /// <summary>The transformers in front of the VAE (the image pipeline), to give the report the pixels.</summary>
    private ITransformer Prefix(ITransformer model) =>
        new TransformerChain<ITransformer>(((IEnumerable<ITransformer>)model).SkipLast(1).ToArray());

    private static void Dispose(ITransformer model)
    {
        if (model is IDisposable disposable) disposable.Dispose();
        if (model is IEnumerable<ITransformer> chain) foreach (var part in chain.OfType<IDisposable>()) part.Dispose();
    }

    /// <summary>Passes Fit's progress to whatever draws it, once that exists.</summary>
    private sealed class ProgressRelay : IProgress<VaeTrainingProgress>
    {
        public Action<VaeTrainingProgress>? Target { get; set; }
        public void Report(VaeTrainingProgress value) => Target?.Invoke(value);
    }

    /// <summary>One line per epoch on standard error, so standard output stays the result.</summary>
    private sealed class ConsoleProgress(TextWriter writer) : IProgress<VaeEpochRecord>
    {
        public void Report(VaeEpochRecord e) => writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"epoch {e.Epoch}: loss {e.Loss:G5} (reconstruction {e.Reconstruction:G5}, KL {e.Kl:G4}), {e.ActiveUnits} active units, {e.Seconds:F1} s"));
    }
}
