using System.CommandLine;

namespace MLNet.Vae.Cli;

/// <summary>
/// The command line: parses arguments with System.CommandLine and runs <see cref="Commands"/>. Exit codes: 0 done, 1 bad
/// input or a refused operation (one "error:" line), 2 usage, 70 an unexpected failure (one "error:" line, a bug to report).
/// </summary>
public static class Cli
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var commands = new Commands(output, error);
        var data = new Option<string>("--data") { Description = "A CSV file with a header row (numeric columns), or a folder of images.", Required = true };
        var model = new Option<string>("--model") { Description = "The model file (an ML.NET model zip).", Required = true };
        var output_ = new Option<string>("--out") { Description = "Where to write the result.", Required = true };

        var label = new Option<string?>("--label-column") { Description = "A CSV column to leave out of the features (e.g. a known label)." };
        var latent = new Option<int?>("--latent") { Description = $"Latent dimensions (default: automatic, half the features, at most {VaeOptions.Defaults.MaximumAutomaticLatentDimension})." };
        var epochs = new Option<int?>("--epochs") { Description = $"Passes over the data (default: automatic, about {VaeOptions.Defaults.AutomaticOptimizerSteps} optimizer steps)." };
        var likelihood = new Option<string>("--likelihood") { Description = "auto (Gaussian for CSV, Bernoulli for images), bernoulli or gaussian.", DefaultValueFactory = _ => "auto" };
        var architecture = new Option<string>("--architecture") { Description = "mlp, or conv (images only).", DefaultValueFactory = _ => "mlp" };
        var contamination = new Option<double>("--contamination") { Description = "Expected fraction of anomalies; sets the threshold.", DefaultValueFactory = _ => VaeOptions.Defaults.Contamination };
        var imageSize = new Option<int>("--image-size") { Description = "Images are resized to this many pixels square.", DefaultValueFactory = _ => 28 };
        var grayscale = new Option<bool>("--grayscale") { Description = "Convert images to grey (one channel)." };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 1 };
        var report = new Option<string?>("--report") { Description = "Also write the training report into this folder." };
        var prior = new Option<int>("--prior-components") { Description = "0: the standard normal prior; K: a mixture of K Gaussians learned with the network.", DefaultValueFactory = _ => 0 };
        var models = new Option<int?>("--models") { Description = "How many VAEs to train (with seeds seed, seed + 1, ...); the score is the mean of their standardized scores. Each one adds a training's time. Default: automatic (3 for a table of fewer than 1,000 rows, else 1)." };
        var trim = new Option<double?>("--trimmed-fraction") { Description = "After a quarter of training, leave this fraction of each batch's highest-loss rows out of the loss, so a group of anomalies among the training rows is not learned as normal (default: automatic, 2 x contamination for CSV, 0 for images; 0: none)." };
        var pValues = new Option<bool>("--p-values") { Description = "Give the model a p-value output: each score's upper-tail p-value among the training rows' scores (score writes it as p_value)." };
        var scoreKind = new Option<string>("--score")
        {
            Description = $"The score kind: auto (ReconstructionAndLatentDensity for CSV, WeightedReconstructionError for images, WeightedReconstructionAndLatentNeighbours for images with --architecture conv) or one of {string.Join(", ", Enum.GetNames<VaeScoreKind>())}.",
            DefaultValueFactory = _ => "auto",
        };
        var train = new Command("train", "Train a VAE on a CSV file or a folder of images and save the model.")
        {
            data, model, label, latent, epochs, likelihood, architecture, contamination, imageSize, grayscale, seed, report, pValues, prior, models, trim, scoreKind,
        };
        train.SetAction(r => Guard(error, () => commands.Train(new Commands.TrainSettings(r.GetValue(data)!, r.GetValue(model)!, r.GetValue(label),
            r.GetValue(latent), r.GetValue(epochs), r.GetValue(likelihood)!, r.GetValue(architecture)!, r.GetValue(contamination),
            r.GetValue(imageSize), r.GetValue(grayscale), r.GetValue(seed), r.GetValue(report), r.GetValue(pValues), r.GetValue(prior), r.GetValue(models), r.GetValue(trim), r.GetValue(scoreKind)!))));

        var normal = new Option<string>("--normal") { Description = "Rows known to be normal (a CSV file or a folder of images, like the training data).", Required = true };
        var falsePositiveRate = new Option<double>("--false-positive-rate") { Description = "The fraction of normal rows to flag, in (0, 0.5].", Required = true };
        var calibrate = new Command("calibrate", "Set the threshold from rows known to be normal for a target false-positive rate, and save the model to --out.")
        {
            model, normal, falsePositiveRate, output_,
        };
        calibrate.SetAction(r => Guard(error, () => commands.Calibrate(r.GetValue(model)!, r.GetValue(normal)!, r.GetValue(falsePositiveRate), r.GetValue(output_)!)));

        var featureScores = new Option<bool>("--feature-scores") { Description = "Also write each feature's share of the reconstruction error (which features drove the score)." };
        var score = new Command("score", "Write each row's anomaly score and predicted label (score above the threshold) to a CSV file.") { model, data, output_, featureScores };
        score.SetAction(r => Guard(error, () => commands.Score(r.GetValue(model)!, r.GetValue(data)!, r.GetValue(output_)!, r.GetValue(featureScores))));

        var encode = new Command("encode", "Write each row's latent features (the encoder mean) to a CSV file.") { model, data, output_ };
        encode.SetAction(r => Guard(error, () => commands.Encode(r.GetValue(model)!, r.GetValue(data)!, r.GetValue(output_)!)));

        var count = new Option<int>("--count") { Description = "How many to generate.", DefaultValueFactory = _ => 16 };
        var generate = new Command("generate", "Generate new rows (CSV) or images (a PNG grid) from the prior.") { model, count, seed, output_ };
        generate.SetAction(r => Guard(error, () => commands.Generate(r.GetValue(model)!, r.GetValue(count), r.GetValue(seed), r.GetValue(output_)!)));

        var reportCommand = new Command("report", "Write the training report (charts and index.html) for a model and some data.") { model, data, output_ };
        reportCommand.SetAction(r => Guard(error, () => commands.Report(r.GetValue(model)!, r.GetValue(data)!, r.GetValue(output_)!)));

        var exportOnnx = new Command("export-onnx", "Write the model's VAE as an ONNX file (input: the feature vector; outputs: latent features, score, label) for ONNX Runtime.") { model, output_ };
        exportOnnx.SetAction(r => Guard(error, () => commands.ExportOnnx(r.GetValue(model)!, r.GetValue(output_)!)));

        var root = new RootCommand("mlnet-vae: a variational autoencoder for CSV files and images (MLNet.Vae).")
        {
            train, score, encode, generate, reportCommand, exportOnnx, calibrate,
        };
        return root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    /// <summary>Runs a command; whatever it throws becomes one "error:" line and an exit code, never a stack trace.</summary>
    private static int Guard(TextWriter error, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (IsInputError(e))
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (Exception e)
        {
            error.WriteLine($"error: unexpected {e.GetType().Name}: {e.Message} (a bug in mlnet-vae: please report it)");
            return 70;
        }
    }

    /// <summary>What bad input or a refused operation throws: the tool's own errors and the library's documented ones.</summary>
    private static bool IsInputError(Exception e) => e is CliException or ArgumentException or InvalidOperationException
        or InvalidDataException or FormatException or IOException or UnauthorizedAccessException or OperationCanceledException;
}
