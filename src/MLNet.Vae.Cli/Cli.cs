using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace MLNet.Vae.Cli;

/// <summary>
/// The command line: parses arguments with System.CommandLine and runs <see cref="Commands"/>. Exit codes: 0 done, 1 bad
/// input or a refused operation, 2 a command line it cannot run (an unknown option, a value of the wrong kind), 70 an
/// unexpected failure; each failure is one "error:" line on standard error, never a stack trace.
/// </summary>
public static class Cli
{
    public const int Done = 0, InputError = 1, UsageError = 2, InternalError = 70;

    /// <summary>The options that map to a VaeOptions property, so that the library's message names the flag the user typed.</summary>
    private static readonly Dictionary<string, string> FlagOf = new(StringComparer.Ordinal)
    {
        [nameof(VaeOptions.LatentDimension)] = "--latent",
        [nameof(VaeOptions.NumberOfEpochs)] = "--epochs",
        [nameof(VaeOptions.Contamination)] = "--contamination",
        [nameof(VaeOptions.PriorComponents)] = "--prior-components",
        [nameof(VaeOptions.NumberOfModels)] = "--models",
        [nameof(VaeOptions.TrimmedFraction)] = "--trimmed-fraction",
        [nameof(VaeOptions.ImageShape)] = "--image-size",
        ["falsePositiveRate"] = "--false-positive-rate",
        ["count"] = "--count",
        [nameof(VaeOptions.MaximumInMemoryBytes)] = "--in-memory-limit",
    };

    public static int Run(string[] args, TextWriter output, TextWriter error) => Run(args, output, error, input: null);

    internal static int Run(string[] args, TextWriter output, TextWriter error, TextReader? input)
    {
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print errors only (no progress, no warnings).", Recursive = true };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Also print every training epoch.", Recursive = true };
        var data = new Option<string>("--data") { Description = "A CSV file with a header row (numeric columns; - reads standard input), or a folder of images.", Required = true };
        var model = new Option<string>("--model") { Description = "The model file (an ML.NET model zip).", Required = true };
        var output_ = new Option<string>("--out") { Description = "Where to write the result (- writes standard output).", Required = true };
        var separator = new Option<string?>("--separator") { Description = "The CSV separator: ',', ';', 'tab' or '|' (default: detected from the header row)." };
        var ignore = new Option<string?>("--ignore-columns") { Description = "CSV columns to leave out of the features, separated by commas (an id, a timestamp)." };
        var missing = new Option<string>("--missing") { Description = "What to do with an empty CSV cell: refuse (stop, naming its line and column), drop (leave the row out) or median (the column's median).", DefaultValueFactory = _ => "refuse" };

        var label = new Option<string?>("--label-column") { Description = "A CSV column to leave out of the features (e.g. a known label)." };
        var latent = Whole("--latent", $"Latent dimensions (default: automatic, half the features, at most {VaeOptions.Defaults.MaximumAutomaticLatentDimension}).");
        var epochs = Whole("--epochs", $"Passes over the data (default: automatic, about {VaeOptions.Defaults.AutomaticOptimizerSteps} optimizer steps).");
        var likelihood = new Option<string>("--likelihood") { Description = "auto (Gaussian for CSV, Bernoulli for images), bernoulli or gaussian.", DefaultValueFactory = _ => "auto" };
        var architecture = new Option<string>("--architecture") { Description = "mlp, or conv (images only).", DefaultValueFactory = _ => "mlp" };
        var contamination = Fraction("--contamination", "Expected fraction of anomalies; sets the threshold.", VaeOptions.Defaults.Contamination);
        var imageSize = new Option<int>("--image-size") { Description = "Images are resized to this many pixels square.", DefaultValueFactory = _ => 28, CustomParser = WholeValue };
        var grayscale = new Option<bool>("--grayscale") { Description = "Convert images to grey (one channel)." };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 1, CustomParser = WholeValue };
        var report = new Option<string?>("--report") { Description = "Also write the training report into this folder." };
        var prior = new Option<int>("--prior-components") { Description = "0: the standard normal prior; K: a mixture of K Gaussians learned with the network.", DefaultValueFactory = _ => 0, CustomParser = WholeValue };
        var models = Whole("--models", "How many VAEs to train (with seeds seed, seed + 1, ...); the score is the mean of their standardized scores. Each one adds a training's time. Default: automatic (3 for a table of fewer than 1,000 rows, else 1).");
        var trim = new Option<double?>("--trimmed-fraction") { Description = "After a quarter of training, leave this fraction of each batch's highest-loss rows out of the loss, so a group of anomalies among the training rows is not learned as normal (default: automatic, 2 x contamination for CSV, 0 for images; 0: none).", CustomParser = r => (double?)NumberValue(r) };
        var noSkewedLogs = new Option<bool>("--no-skewed-logs")
        {
            Description = "Do not append log(1 + x) of skewed CSV columns. By default each column that is never negative, takes more than 10 values and has skewness above 2 also enters as its logarithm, which shows anomalies hidden in the bulk of amounts and counts; turn it off when the anomalies lie only in their tails.",
        };
        var pValues = new Option<bool>("--p-values") { Description = "Give the model a p-value output: each score's upper-tail p-value among the training rows' scores (score writes it as p_value)." };
        var scoreKind = new Option<string>("--score")
        {
            Description = $"The score kind: auto (ReconstructionAndLatentNeighbours for CSV, WeightedReconstructionError for images, WeightedReconstructionAndLatentNeighbours for images with --architecture conv) or one of {string.Join(", ", Commands.CurrentScoreKinds)}.",
            DefaultValueFactory = _ => "auto",
        };
        var inMemoryLimit = new Option<long?>("--in-memory-limit")
        {
            Description = "Above this many MiB of features, training reads the file in blocks on each pass instead of holding it (default 512; 0 always streams).",
            CustomParser = r => WholeValue(r),
        };

        Commands CommandsFor(ParseResult r) => new(output, error,
            r.GetValue(quiet) ? Verbosity.Quiet : r.GetValue(verbose) ? Verbosity.Verbose : Verbosity.Normal, input);
        CsvReading Reading(ParseResult r) => new(Separator(r.GetValue(separator)),
            r.GetValue(ignore)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), null, Missing(r.GetValue(missing)!));

        var train = new Command("train", "Train a VAE on a CSV file or a folder of images and save the model.")
        {
            data, model, label, latent, epochs, likelihood, architecture, contamination, imageSize, grayscale, seed, report, pValues, prior, models, trim, scoreKind,
            separator, ignore, missing, inMemoryLimit, noSkewedLogs,
        };
        train.SetAction(r => Guard(error, () => CommandsFor(r).Train(new Commands.TrainSettings(r.GetValue(data)!, r.GetValue(model)!, r.GetValue(label),
            r.GetValue(latent), r.GetValue(epochs), r.GetValue(likelihood)!, r.GetValue(architecture)!, r.GetValue(contamination),
            r.GetValue(imageSize), r.GetValue(grayscale), r.GetValue(seed), r.GetValue(report), r.GetValue(pValues), r.GetValue(prior), r.GetValue(models),
            r.GetValue(trim), r.GetValue(scoreKind)!, Reading(r), r.GetValue(inMemoryLimit), r.GetValue(noSkewedLogs)))));

        var normal = new Option<string>("--normal") { Description = "Rows known to be normal (a CSV file or a folder of images, like the training data).", Required = true };
        var falsePositiveRate = Fraction("--false-positive-rate", "The fraction of normal rows to flag, in (0, 0.5].", null);
        falsePositiveRate.Required = true;
        var calibrate = new Command("calibrate", "Set the threshold from rows known to be normal for a target false-positive rate, and save the model to --out.")
        {
            model, normal, falsePositiveRate, output_, separator, ignore, missing,
        };
        calibrate.SetAction(r => Guard(error, () => CommandsFor(r).Calibrate(r.GetValue(model)!, r.GetValue(normal)!, r.GetValue(falsePositiveRate), r.GetValue(output_)!, Reading(r))));

        var featureScores = new Option<bool>("--feature-scores") { Description = "Also write each feature's share of the reconstruction error (which features drove the score)." };
        var score = new Command("score", "Write each row's anomaly score and predicted label (score above the threshold) to a CSV file.")
        {
            model, data, output_, featureScores, separator, ignore, missing,
        };
        score.SetAction(r => Guard(error, () => CommandsFor(r).Score(r.GetValue(model)!, r.GetValue(data)!, r.GetValue(output_)!, r.GetValue(featureScores), Reading(r))));

        var encode = new Command("encode", "Write each row's latent features (the encoder mean) to a CSV file.") { model, data, output_, separator, ignore, missing };
        encode.SetAction(r => Guard(error, () => CommandsFor(r).Encode(r.GetValue(model)!, r.GetValue(data)!, r.GetValue(output_)!, Reading(r))));

        var labelRequired = new Option<string>("--label-column") { Description = "The CSV column that says which rows are anomalies (> 0) and which are normal (0).", Required = true };
        var json = new Option<bool>("--json") { Description = "Write the metrics as one JSON object." };
        var evaluate = new Command("evaluate", "Measure a model on labelled rows: ROC-AUC, PR-AUC, and precision, recall, F1 and the confusion counts at its threshold.")
        {
            model, data, labelRequired, json, separator, ignore, missing,
        };
        evaluate.SetAction(r => Guard(error, () => CommandsFor(r).Evaluate(r.GetValue(model)!, r.GetValue(data)!, r.GetValue(labelRequired)!, r.GetValue(json), Reading(r))));

        var count = new Option<int>("--count") { Description = "How many to generate.", DefaultValueFactory = _ => 16, CustomParser = WholeValue };
        var generate = new Command("generate", "Generate new rows (CSV) or images (a PNG grid) from the prior.") { model, count, seed, output_ };
        generate.SetAction(r => Guard(error, () => CommandsFor(r).Generate(r.GetValue(model)!, r.GetValue(count), r.GetValue(seed), r.GetValue(output_)!)));

        var reportCommand = new Command("report", "Write the training report (charts and index.html) for a model and some data.") { model, data, output_, separator, ignore, missing };
        reportCommand.SetAction(r => Guard(error, () => CommandsFor(r).Report(r.GetValue(model)!, r.GetValue(data)!, r.GetValue(output_)!, Reading(r))));

        var exportOnnx = new Command("export-onnx", "Write the model's VAE as an ONNX file (input: the feature vector; outputs: latent features, score, label) for ONNX Runtime.") { model, output_ };
        exportOnnx.SetAction(r => Guard(error, () => CommandsFor(r).ExportOnnx(r.GetValue(model)!, r.GetValue(output_)!)));

        var root = new RootCommand("mlnet-vae: a variational autoencoder for CSV files and images (MLNet.Vae).")
        {
            train, score, evaluate, encode, generate, reportCommand, exportOnnx, calibrate,
        };
        root.Options.Add(quiet);
        root.Options.Add(verbose);

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var parseError in parsed.Errors.DistinctBy(e => e.Message)) error.WriteLine($"error: {parseError.Message}");
            string command = parsed.CommandResult.Command == root ? "" : parsed.CommandResult.Command.Name + " ";
            error.WriteLine($"Run '{RootCommand.ExecutableName} {command}--help' for the options.");
            return UsageError;
        }
        return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    private static Option<int?> Whole(string name, string description) =>
        new(name) { Description = description, CustomParser = r => (int?)WholeValue(r) };

    private static Option<double> Fraction(string name, string description, double? fallback)
    {
        var option = new Option<double>(name) { Description = description, CustomParser = NumberValue };
        if (fallback is double value) option.DefaultValueFactory = _ => value;
        return option;
    }

    /// <summary>An option's whole-number value, or an error naming the flag (not the .NET type).</summary>
    private static int WholeValue(ArgumentResult result)
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)) return value;
        result.AddError($"{OptionName(result)} must be a whole number, got '{text}'.");
        return 0;
    }

    private static double NumberValue(ArgumentResult result)
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value)) return value;
        result.AddError($"{OptionName(result)} must be a number, got '{text}'.");
        return 0;
    }

    private static string OptionName(ArgumentResult result) => (result.Parent as OptionResult)?.Option.Name ?? "the value";

    private static char? Separator(string? text) => text switch
    {
        null => null,
        "tab" or "\\t" or "\t" => '\t',
        { Length: 1 } => text[0],
        _ => throw new UsageException($"--separator must be one character (',', ';', '|') or 'tab', got '{text}'."),
    };

    private static MissingValues Missing(string text) => text switch
    {
        "refuse" => MissingValues.Refuse,
        "drop" => MissingValues.Drop,
        "median" => MissingValues.Median,
        _ => throw new UsageException($"--missing must be refuse, drop or median, got '{text}'."),
    };

    /// <summary>Runs a command; whatever it throws becomes one "error:" line and an exit code, never a stack trace.</summary>
    private static int Guard(TextWriter error, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception thrown)
        {
            var e = Commands.Unwrapped(thrown);
            if (e is UsageException)
            {
                error.WriteLine($"error: {e.Message}");
                return UsageError;
            }
            if (IsInputError(e))
            {
                error.WriteLine($"error: {InputMessage(e)}");
                return InputError;
            }
            error.WriteLine($"error: unexpected {e.GetType().Name}: {e.Message} (a bug in mlnet-vae: please report it)");
            return InternalError;
        }
    }

    /// <summary>
    /// The message of a library refusal in the command line's terms: an option of VaeOptions named by its flag, without the
    /// "(Parameter ...)" that .NET appends.
    /// </summary>
    private static string InputMessage(Exception e)
    {
        if (e is not ArgumentException { ParamName: { } parameter } argument) return e.Message;
        string message = argument.Message.Replace($" (Parameter '{parameter}')", "", StringComparison.Ordinal);
        return FlagOf.TryGetValue(parameter, out string? flag) ? message.Replace(parameter, flag, StringComparison.Ordinal) : message;
    }

    /// <summary>What bad input or a refused operation throws: the tool's own errors and the library's documented ones.</summary>
    private static bool IsInputError(Exception e) => e is CliException or ArgumentException or InvalidOperationException or NotSupportedException
        or InvalidDataException or FormatException or IOException or UnauthorizedAccessException or OperationCanceledException;
}
