using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae.Onnx;

namespace MLNet.Vae.Cli;

/// <summary>How much the tool says on standard error besides errors.</summary>
internal enum Verbosity
{
    /// <summary>Errors only.</summary>
    Quiet,
    /// <summary>Warnings, and progress: a bar on a terminal, else a line every 10 seconds and one as each model ends.</summary>
    Normal,
    /// <summary>Also one line per epoch, naming the model of an ensemble.</summary>
    Verbose,
}

/// <summary>
/// What each command does. A model file is an ML.NET model (mlContext.Model.Save): for a CSV, the VAE over a Features
/// vector whose slot names are the CSV's columns; for images, the pixel pipeline followed by the VAE. Every file the tool
/// writes is written whole or not at all (<see cref="OutputFile"/>), and never over one of the command's inputs.
/// </summary>
internal sealed class Commands
{
    private readonly TextWriter output, error;
    private readonly Verbosity verbosity;
    private readonly TextReader? standardInput;

    public Commands(TextWriter output, TextWriter error, Verbosity verbosity = Verbosity.Normal, TextReader? standardInput = null)
    {
        (this.output, this.error, this.verbosity, this.standardInput) = (output, error, verbosity, standardInput);
        // --verbose shows what the library tells MLContext.Log about a fit: its automatic choices, the network, whether the rows
        // are held or streamed, every epoch (prefixed with the model of an ensemble), the kept epoch and the threshold. Its
        // warnings are printed once, after training.
        if (verbosity == Verbosity.Verbose)
            _ml.Log += (_, e) =>
            {
                if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info && e.Source.StartsWith(nameof(VaeEstimator), StringComparison.Ordinal))
                    lock (error) error.WriteLine($"fit: {e.RawMessage}");
            };
    }

    /// <summary>Rows generated a batch when writing a CSV: rows beyond the first batch come from the seeds after --seed.</summary>
    public const int GenerateBatchRows = 10_000;
    /// <summary>The most images a PNG grid holds.</summary>
    public const int MaximumGridImages = 1024;

    private readonly MLContext _ml = new(seed: 1);

    public sealed record TrainSettings(string Data, string Model, string? LabelColumn, int? Latent, int? Epochs, string Likelihood,
        string Architecture, double Contamination, int ImageSize, bool Grayscale, int Seed, string? Report, bool PValues = false, int PriorComponents = 0,
        int? Models = null, double? TrimmedFraction = null, string Score = "auto", CsvReading? Reading = null, long? InMemoryLimitMiB = null,
        bool NoSkewedLogs = false);

    public int Train(TrainSettings settings)
    {
        OutputFile.Check(settings.Model, "--model", settings.Data);
        if (settings.Report is not null) CheckReportFolder(settings.Report, "--report");
        using var input = InputData.Load(_ml, settings.Data, (settings.Reading ?? new CsvReading()) with { LabelColumn = settings.LabelColumn }, standardInput);
        var progress = new ProgressLog(error, verbosity);
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
                _ => throw new UsageException($"--likelihood must be auto, bernoulli or gaussian, got '{settings.Likelihood}'."),
            },
            Architecture = settings.Architecture switch
            {
                "mlp" => VaeArchitecture.Mlp,
                "conv" when input.IsImages => VaeArchitecture.Convolutional,
                "conv" => throw new UsageException("--architecture conv needs a folder of images."),
                _ => throw new UsageException($"--architecture must be mlp or conv, got '{settings.Architecture}'."),
            },
            Contamination = settings.Contamination,
            Seed = settings.Seed,
            TrainingProgress = progress,
            PValueColumnName = settings.PValues ? "PValue" : null,
            PriorComponents = settings.PriorComponents,
            NumberOfModels = settings.Models,
            TrimmedFraction = settings.TrimmedFraction,
            ScoreKind = ScoreKind(settings.Score),
            // Unset: automatic (on for CSV rows, off for images).
            AppendLogOfSkewedFeatures = settings.NoSkewedLogs ? false : null,
        };
        if (settings.InMemoryLimitMiB is long limit)
        {
            if (limit < 0) throw new UsageException($"--in-memory-limit must be 0 (always stream) or a positive number of MiB, got {limit}.");
            options.MaximumInMemoryBytes = checked(limit << 20);
        }
        IEstimator<ITransformer> pipeline = new VaeEstimator(_ml, options);
        if (input.IsImages) pipeline = InputData.ImagePipeline(_ml, settings.ImageSize, settings.Grayscale).Append(pipeline);
        var model = progress.Run(() => pipeline.Fit(input.Data));
        try
        {
            var vae = FindVae(model);
            OutputFile.Write(settings.Model, stream => _ml.Model.Save(model, input.Data.Schema, stream), output);
            string trained = vae.NumberOfModels > 1 ? $"Trained an ensemble of {vae.NumberOfModels} VAEs" : "Trained";
            Summary(settings.Model, $"{trained} on {input.RowCount:N0} {(input.IsImages ? "images" : "rows")}: final loss {vae.Training.History[^1].Loss:G5}, " +
                                    $"threshold {vae.Threshold:G5}; model saved to {settings.Model}.");
            if (verbosity != Verbosity.Quiet)
                foreach (var warning in vae.Training.Warnings) error.WriteLine($"warning ({warning.Kind}): {warning.Message}");
            if (settings.Report is not null)
            {
                var report = vae.WriteTrainingReport(settings.Report, model is VaeTransformer ? input.Data : Prefix(model).Transform(input.Data),
                    new Reporting.VaeReportOptions { Title = $"MLNet.Vae: {Path.GetFileName(settings.Data)}" });
                Summary(settings.Model, $"Report written to {report.HtmlPath}.");
            }
        }
        finally
        {
            Dispose(model);
        }
        return 0;
    }

    /// <param name="modelPath">The model file.</param>
    /// <param name="dataPath">The CSV file or image folder to score ("-": standard input).</param>
    /// <param name="outPath">The CSV file to write ("-": standard output).</param>
    /// <param name="featureScores">Also write each feature's share of the reconstruction error, one column per feature.</param>
    /// <param name="reading">How to read a CSV.</param>
    /// <remarks>One pass over the data, each row written as it is scored: memory does not grow with the rows.</remarks>
    public int Score(string modelPath, string dataPath, string outPath, bool featureScores = false, CsvReading? reading = null) =>
        Apply(modelPath, dataPath, outPath, reading, (vae, scored, input) =>
    {
        var o = vae.Options;
        var header = new List<string> { "row", "score", "predicted_label" };
        if (o.PValueColumnName is not null) header.Add("p_value");
        if (featureScores)
        {
            var names = InputData.FeatureNamesOf(scored.Schema) ?? Enumerable.Range(0, vae.InputWidth).Select(i => $"f{i}").ToArray();
            header.AddRange(names.Select(n => $"{n}_score"));
        }
        int rows = 0, above = 0;
        OutputFile.WriteText(outPath, writer =>
        {
            CsvOutput.WriteRow(writer, header);
            var columns = new[] { o.ScoreColumnName, o.PredictedLabelColumnName, o.PValueColumnName, featureScores ? o.FeatureColumnName : null, input.RowColumn }
                .OfType<string>().Select(n => scored.Schema[n]);
            // Feature scores are computed for a batch of rows at a time (VaeTransformer.FeatureScores), then the batch is written.
            var batch = new List<(string[] Cells, float[] Features)>();
            void Flush()
            {
                var terms = featureScores ? vae.FeatureScores(batch.Select(b => b.Features).ToList()) : null;
                for (int i = 0; i < batch.Count; i++)
                    CsvOutput.WriteRow(writer, terms is null ? batch[i].Cells : batch[i].Cells.Concat(terms[i].Select(CsvOutput.Number)));
                batch.Clear();
            }
            EachRow(scored, input, columns, "scoring", cursor =>
            {
                var score = cursor.GetGetter<float>(scored.Schema[o.ScoreColumnName]);
                var label = cursor.GetGetter<bool>(scored.Schema[o.PredictedLabelColumnName]);
                var pValue = o.PValueColumnName is null ? null : cursor.GetGetter<float>(scored.Schema[o.PValueColumnName]);
                var features = featureScores ? cursor.GetGetter<VBuffer<float>>(scored.Schema[o.FeatureColumnName]) : null;
                var name = input.RowNames(cursor);
                return () =>
                {
                    float s = 0, p = 0;
                    bool flagged = false;
                    score(ref s);
                    label(ref flagged);
                    pValue?.Invoke(ref p);
                    var cells = new List<string> { name(), CsvOutput.Number(s), flagged ? "1" : "0" };
                    if (pValue is not null) cells.Add(CsvOutput.Number(p));
                    float[] values = [];
                    if (features is not null)
                    {
                        VBuffer<float> buffer = default;
                        features(ref buffer);
                        values = buffer.DenseValues().ToArray();
                    }
                    batch.Add((cells.ToArray(), values));
                    if (batch.Count == FeatureScoreBatchRows) Flush();
                    rows++;
                    if (flagged) above++;
                };
            });
            Flush();
        }, output);
        return $"Scored {rows} rows ({above} above the threshold {vae.Threshold:G5}) into {outPath}.";
    });

    /// <summary>Rows scored and written a batch at a time by score: their feature scores are computed together.</summary>
    private const int FeatureScoreBatchRows = 1024;

    /// <summary>
    /// One pass over <paramref name="scored"/> reading <paramref name="columns"/>: <paramref name="prepare"/> makes the
    /// per-row action from the cursor, and a bar (on a terminal) counts the rows, with the fraction when the row count is known.
    /// </summary>
    private void EachRow(IDataView scored, InputData input, IEnumerable<DataViewSchema.Column> columns, string what, Func<DataViewRowCursor, Action> prepare)
    {
        int? total = input.RowCount;
        TerminalProgress.Run(verbosity == Verbosity.Quiet ? TextWriter.Null : error, what, update =>
        {
            using var cursor = scored.GetRowCursor(columns.DistinctBy(c => c.Index));
            var each = prepare(cursor);
            int done = 0;
            while (cursor.MoveNext())
            {
                each();
                if (++done % 1000 == 0) update(total is int n ? (double)done / n : double.NaN, $"{what}: {done:N0}{(total is int t ? $"/{t:N0}" : "")} rows");
            }
            return done;
        });
    }

    /// <remarks>One pass over the data, each row written as it is encoded.</remarks>
    public int Encode(string modelPath, string dataPath, string outPath, CsvReading? reading = null) => Apply(modelPath, dataPath, outPath, reading, (vae, scored, input) =>
    {
        string latentColumn = vae.Options.LatentColumnName;
        int rows = 0;
        OutputFile.WriteText(outPath, writer =>
        {
            CsvOutput.WriteRow(writer, new[] { "row" }.Concat(Enumerable.Range(0, vae.LatentDimension).Select(j => $"z{j}")));
            EachRow(scored, input, [scored.Schema[latentColumn], scored.Schema[input.RowColumn]], "encoding", cursor =>
            {
                var latent = cursor.GetGetter<VBuffer<float>>(scored.Schema[latentColumn]);
                var name = input.RowNames(cursor);
                VBuffer<float> buffer = default;
                return () =>
                {
                    latent(ref buffer);
                    CsvOutput.WriteRow(writer, new[] { name() }.Concat(buffer.DenseValues().Select(CsvOutput.Number)));
                    rows++;
                };
            });
        }, output);
        return $"Encoded {rows} rows into {vae.LatentDimension} latent features in {outPath}.";
    });

    /// <summary>What <see cref="Evaluate"/> measures: the ranking (ROC-AUC, PR-AUC) and the model's labels against the rows' labels.</summary>
    public sealed record Evaluation(int Rows, int Anomalies, double RocAuc, double PrAuc, float Threshold, double Precision, double Recall, double F1,
        int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives);

    /// <summary>One scored row as the evaluators read it.</summary>
    private sealed class ScoredLabel
    {
        public float Label { get; set; }
        public bool IsAnomaly { get; set; }
        public float Score { get; set; }
        public bool PredictedLabel { get; set; }
    }

    /// <summary>
    /// Scores labelled rows (label &gt; 0: an anomaly) in one pass and reports ROC-AUC (ML.NET's anomaly-detection evaluator),
    /// PR-AUC (its binary-classification evaluator), and precision, recall, F1 and the confusion counts of the model's
    /// PredictedLabel: as text, or one JSON object with <paramref name="json"/>.
    /// </summary>
    public int Evaluate(string modelPath, string dataPath, string labelColumn, bool json, CsvReading? reading = null)
    {
        var (model, inputSchema) = Load(modelPath);
        try
        {
            if (inputSchema.GetColumnOrNull(InputData.ImagePath) is not null)
                throw new CliException("evaluate reads labelled rows from a CSV file; this model was trained on images.");
            var vae = FindVae(model);
            using var input = LoadMatching(inputSchema, dataPath, (reading ?? new CsvReading()) with { LabelColumn = labelColumn });
            var o = vae.Options;
            var scored = model.Transform(input.Data);
            var rows = new List<ScoredLabel>();
            EachRow(scored, input, [scored.Schema[o.ScoreColumnName], scored.Schema[o.PredictedLabelColumnName], scored.Schema["Label"]], "evaluating", cursor =>
            {
                var score = cursor.GetGetter<float>(scored.Schema[o.ScoreColumnName]);
                var predicted = cursor.GetGetter<bool>(scored.Schema[o.PredictedLabelColumnName]);
                var label = cursor.GetGetter<float>(scored.Schema["Label"]);
                return () =>
                {
                    var row = new ScoredLabel();
                    float s = 0, l = 0;
                    bool p = false;
                    score(ref s);
                    predicted(ref p);
                    label(ref l);
                    (row.Score, row.PredictedLabel, row.Label, row.IsAnomaly) = (s, p, l, l > 0);
                    rows.Add(row);
                };
            });
            int tp = rows.Count(r => r.IsAnomaly && r.PredictedLabel), fn = rows.Count(r => r.IsAnomaly && !r.PredictedLabel);
            int fp = rows.Count(r => !r.IsAnomaly && r.PredictedLabel), tn = rows.Count(r => !r.IsAnomaly && !r.PredictedLabel);
            if (tp + fn == 0 || fp + tn == 0)
                throw new CliException($"The label column '{labelColumn}' of '{dataPath}' must hold both anomalies (> 0) and normal rows (0) to measure a ranking; " +
                                       $"it holds {(tp + fn == 0 ? "no anomaly" : "no normal row")} among {rows.Count:N0} rows.");
            // The evaluators read the kept scores: the rows are not scored again.
            var view = _ml.Data.LoadFromEnumerable(rows);
            double rocAuc = _ml.AnomalyDetection.Evaluate(view, nameof(ScoredLabel.Label), nameof(ScoredLabel.Score), nameof(ScoredLabel.PredictedLabel)).AreaUnderRocCurve;
            double prAuc = _ml.BinaryClassification.EvaluateNonCalibrated(view, nameof(ScoredLabel.IsAnomaly), nameof(ScoredLabel.Score), nameof(ScoredLabel.PredictedLabel))
                .AreaUnderPrecisionRecallCurve;
            double precision = tp + fp == 0 ? 0 : (double)tp / (tp + fp), recall = (double)tp / (tp + fn);
            var result = new Evaluation(rows.Count, tp + fn, rocAuc, prAuc, vae.Threshold, precision, recall,
                precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall), tp, fp, tn, fn);
            if (json)
            {
                output.WriteLine(System.Text.Json.JsonSerializer.Serialize(result, new System.Text.Json.JsonSerializerOptions
                {
                    PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
                }));
                return 0;
            }
            string F(double value) => value.ToString("F4", CultureInfo.InvariantCulture);
            output.WriteLine($"{result.Rows:N0} rows, {result.Anomalies:N0} labelled anomalous ('{labelColumn}' > 0)");
            output.WriteLine($"ROC-AUC {F(result.RocAuc)}, PR-AUC {F(result.PrAuc)}");
            output.WriteLine($"at the threshold {result.Threshold.ToString("G5", CultureInfo.InvariantCulture)}: precision {F(result.Precision)}, recall {F(result.Recall)}, F1 {F(result.F1)}");
            output.WriteLine($"true positives {tp:N0}, false positives {fp:N0}, true negatives {tn:N0}, false negatives {fn:N0}");
        }
        finally
        {
            Dispose(model);
        }
        return 0;
    }

    /// <summary>Saves the model with the threshold that flags <paramref name="falsePositiveRate"/> of the normal rows (VaeTransformer.WithFalsePositiveRate).</summary>
    public int Calibrate(string modelPath, string normalPath, double falsePositiveRate, string outPath, CsvReading? reading = null)
    {
        OutputFile.Check(outPath, "--out", modelPath, normalPath);
        var (model, inputSchema) = Load(modelPath);
        try
        {
            var vae = FindVae(model);
            using var normal = LoadMatching(inputSchema, normalPath, reading);
            var features = model is VaeTransformer ? normal.Data : Prefix(model).Transform(normal.Data);
            using var calibrated = vae.WithFalsePositiveRate(features, falsePositiveRate);
            ITransformer result = model is VaeTransformer ? calibrated
                : new TransformerChain<ITransformer>(((IEnumerable<ITransformer>)model).SkipLast(1).Append(calibrated).ToArray());
            OutputFile.Write(outPath, stream => _ml.Model.Save(result, inputSchema, stream), output);
            Summary(outPath, $"Threshold {vae.Threshold:G5} -> {calibrated.Threshold:G5}: flags {falsePositiveRate:P1} of the {normal.RowCount:N0} normal rows; model saved to {outPath}.");
        }
        finally
        {
            Dispose(model);
        }
        return 0;
    }

    /// <summary>Writes the model's VAE alone as ONNX: input Features (the feature vector), outputs its columns (docs/onnx.md).</summary>
    public int ExportOnnx(string modelPath, string outPath)
    {
        OutputFile.Check(outPath, "--out", modelPath);
        var (model, _) = Load(modelPath);
        try
        {
            var vae = FindVae(model);
            OutputFile.Write(outPath, stream => vae.ExportToOnnx(_ml, stream), output);
            var o = vae.Options;
            var outputs = new[] { o.LatentColumnName, o.ScoreColumnName, o.PredictedLabelColumnName, o.PValueColumnName, o.FeatureScoresColumnName }.OfType<string>();
            Summary(outPath, $"Exported the VAE ({vae.NetworkDescription}) to {outPath}: input '{o.FeatureColumnName}' [n, {vae.InputWidth}], " +
                             $"outputs {string.Join(", ", outputs.Select(name => name + ".output"))}.");
        }
        finally
        {
            Dispose(model);
        }
        return 0;
    }

    /// <summary>
    /// Rows (a CSV, written <see cref="GenerateBatchRows"/> at a time so that any count runs in bounded memory; batch k after
    /// the first from seed + k) or images (a PNG grid of at most <see cref="MaximumGridImages"/>).
    /// </summary>
    public int Generate(string modelPath, int count, int seed, string outPath)
    {
        if (count < 1) throw new UsageException($"--count must be positive, got {count}.");
        OutputFile.Check(outPath, "--out", modelPath);
        var (model, inputSchema) = Load(modelPath);
        try
        {
            var vae = FindVae(model);
            if (vae.ImageShape is { } shape)
            {
                if (!outPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new UsageException("An image model generates a PNG grid: give --out a .png file.");
                if (count > MaximumGridImages) throw new UsageException($"--count {count:N0}: a PNG grid holds at most {MaximumGridImages:N0} images.");
                var images = vae.Generate(count, seed);
                OutputFile.Write(outPath, stream => VaeImageWriter.WriteGrid(stream, shape, images.Chunk(8).Select(r => (IReadOnlyList<float[]>)r).ToList(),
                    scale: Math.Max(1, 84 / shape.Height)), output);
            }
            else
            {
                var names = InputData.FeatureNamesOf(inputSchema) ?? Enumerable.Range(0, vae.InputWidth).Select(i => $"f{i}").ToArray();
                int batchRows = (int)Math.Max(1, Math.Min(GenerateBatchRows, VaeTransformer.MaximumGeneratedValues / vae.InputWidth));
                OutputFile.WriteText(outPath, writer =>
                {
                    CsvOutput.WriteRow(writer, names);
                    for (int done = 0, batch = 0; done < count; done += batchRows, batch++)
                        foreach (var row in vae.Generate(Math.Min(batchRows, count - done), seed + batch)) CsvOutput.WriteRow(writer, row.Select(CsvOutput.Number));
                }, output);
            }
            Summary(outPath, $"Generated {count} {(vae.ImageShape is null ? "rows" : "images")} from the prior into {outPath}.");
        }
        finally
        {
            Dispose(model);
        }
        return 0;
    }

    public int Report(string modelPath, string dataPath, string outFolder, CsvReading? reading = null)
    {
        CheckReportFolder(outFolder, "--out");
        var (model, inputSchema) = Load(modelPath);
        try
        {
            using var input = LoadMatching(inputSchema, dataPath, reading);
            var vae = FindVae(model);
            var data = model is VaeTransformer ? input.Data : Prefix(model).Transform(input.Data);
            var report = vae.WriteTrainingReport(outFolder, data, new Reporting.VaeReportOptions { Title = $"MLNet.Vae: {Path.GetFileName(modelPath)}" });
            output.WriteLine($"Report written to {report.HtmlPath} ({report.Charts.Count} pictures).");
        }
        finally
        {
            Dispose(model);
        }
        return 0;
    }

    private int Apply(string modelPath, string dataPath, string outPath, CsvReading? reading, Func<VaeTransformer, IDataView, InputData, string> write)
    {
        OutputFile.Check(outPath, "--out", modelPath, dataPath);
        var (model, inputSchema) = Load(modelPath);
        try
        {
            using var input = LoadMatching(inputSchema, dataPath, reading);
            Summary(outPath, write(FindVae(model), model.Transform(input.Data), input));
        }
        finally
        {
            Dispose(model);
        }
        return 0;
    }

    /// <summary>
    /// A command's closing line ("model saved to ..."): on standard output, or on standard error when standard output carries
    /// the result; none with --quiet, which prints errors only (a command whose result is text, such as evaluate, still prints it).
    /// </summary>
    private void Summary(string outPath, string line)
    {
        if (verbosity == Verbosity.Quiet) return;
        if (outPath == OutputFile.StandardStream) error.WriteLine(line);
        else output.WriteLine(line);
    }

    /// <summary>The report folder, or the folder it is to be made in, must exist and be writable: checked before any work.</summary>
    private static void CheckReportFolder(string folder, string flag)
    {
        string full = Path.GetFullPath(folder);
        if (File.Exists(full)) throw new CliException($"{flag} '{folder}' is a file, not a folder.");
        OutputFile.Check(Directory.Exists(full) ? Path.Combine(full, "index.html") : full, flag);
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
        catch (Exception e) when (Unwrapped(e) is InvalidDataException or FormatException or ArgumentException or InvalidOperationException or IOException)
        {
            throw new CliException($"'{path}' is not an MLNet.Vae model, or it is damaged: {Unwrapped(e).Message}");
        }
    }

    /// <summary>The exception that says what happened: ML.NET's loaders reach the VAE's through reflection, which wraps it.</summary>
    public static Exception Unwrapped(Exception e)
    {
        while (e is TargetInvocationException { InnerException: { } inner }) e = inner;
        if (e is AggregateException { InnerExceptions.Count: 1 } aggregate) return Unwrapped(aggregate.InnerExceptions[0]);
        return e;
    }

    /// <summary>Reads data of the kind the model was trained on: its CSV columns by name, or a folder of images.</summary>
    private InputData LoadMatching(DataViewSchema inputSchema, string dataPath, CsvReading? reading)
    {
        bool imageModel = inputSchema.GetColumnOrNull(InputData.ImagePath) is not null;
        bool folder = dataPath != OutputFile.StandardStream && Directory.Exists(dataPath);
        if (imageModel != folder)
            throw new CliException(imageModel ? $"This model was trained on images: give --data a folder of images, not '{dataPath}'." : $"This model was trained on a CSV file: give --data a CSV file, not the folder '{dataPath}'.");
        if (imageModel) return InputData.Load(_ml, dataPath, new CsvReading());
        var expected = InputData.FeatureNamesOf(inputSchema) ?? throw new CliException("The model does not record its CSV columns.");
        return InputData.LoadFor(_ml, dataPath, expected, reading ?? new CsvReading(), standardInput);
    }

    /// <summary>The score kinds a new model may take: the enum's members but the retired ones (marked obsolete).</summary>
    public static readonly VaeScoreKind[] CurrentScoreKinds = Enum.GetValues<VaeScoreKind>()
        .Where(k => typeof(VaeScoreKind).GetField(k.ToString())!.GetCustomAttribute<ObsoleteAttribute>() is null).ToArray();

    /// <summary>--score: null for auto (the options then choose by likelihood), else the current kind named, in any letter case.</summary>
    private static VaeScoreKind? ScoreKind(string name) =>
        name == "auto" ? null
        : Enum.TryParse<VaeScoreKind>(name, ignoreCase: true, out var kind) && CurrentScoreKinds.Contains(kind) && !int.TryParse(name, out _) ? kind
        : throw new UsageException($"--score must be auto or one of {string.Join(", ", CurrentScoreKinds)}, got '{name}'.");

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

    /// <summary>
    /// What training says on standard error besides --verbose's log lines: a bar on a terminal, or a line every 10 seconds and
    /// one as each model ends (none with --quiet; with --verbose the log says it, without a bar to cross its lines).
    /// </summary>
    private sealed class ProgressLog(TextWriter writer, Verbosity verbosity) : IProgress<VaeTrainingProgress>
    {
        private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
        private readonly System.Diagnostics.Stopwatch _sinceLine = System.Diagnostics.Stopwatch.StartNew();
        private Action<double, string>? _bar;

        public T Run<T>(Func<T> work) => TerminalProgress.Run(verbosity == Verbosity.Normal ? writer : TextWriter.Null, "training", update =>
        {
            _bar = verbosity == Verbosity.Normal && TerminalProgress.IsInteractive(writer) ? update : null;
            return work();
        });

        public void Report(VaeTrainingProgress value)
        {
            if (verbosity != Verbosity.Normal) return;
            if (_bar is not null)
            {
                _bar(value.FractionDone, $"training: {value}");
                return;
            }
            bool modelEnds = value.Epoch == value.NumberOfEpochs && value.RowsDone == value.RowsPerEpoch;
            if (modelEnds || _sinceLine.Elapsed >= Interval)
            {
                writer.WriteLine(modelEnds ? $"training: model {value.Model}/{value.NumberOfModels} trained ({value.NumberOfEpochs} epochs)" : $"training: {value}");
                _sinceLine.Restart();
            }
        }
    }
}
