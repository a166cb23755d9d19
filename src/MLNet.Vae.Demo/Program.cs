using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae;
using MLNet.Vae.Demo;
using MLNet.Vae.Samples;

// One-class anomaly detection on a Fashion-MNIST slice shipped inside this program: fit the VAE on two thirds of one
// class, then score the held-out third together with every image of the other nine classes (the anomalies).
//   dotnet run --project src/MLNet.Vae.Demo -c Release [-- --class 7 --epochs 40 --report vae-report]
var clock = Stopwatch.StartNew();
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
int trainClass = Argument(args, "--class", 7);
int epochs = Argument(args, "--epochs", 40);
if (trainClass is < 0 or > 9) return Fail("--class must be a Fashion-MNIST class from 0 to 9.");
if (epochs < 1) return Fail("--epochs must be positive.");

var assembly = typeof(IdxImages).Assembly;
using var imageStream = assembly.GetManifestResourceStream("fashion-mnist-t10k-first3000-images-idx3-ubyte.gz")!;
using var labelStream = assembly.GetManifestResourceStream("fashion-mnist-t10k-first3000-labels-idx1-ubyte.gz")!;
var (images, width, height, labels) = IdxImages.Read(imageStream, labelStream);
int pixels = width * height;

var ofClass = Enumerable.Range(0, images.Length).Where(i => labels[i] == trainClass).ToList();
var trainIndexes = ofClass.Take(ofClass.Count * 2 / 3).ToHashSet();
ImageRow Row(int i) => new() { Pixels = images[i], Class = labels[i], ClassName = IdxImages.FashionClassNames[labels[i]], Label = labels[i] == trainClass ? 0f : 1f };
var train = trainIndexes.Select(Row).ToList();
var test = Enumerable.Range(0, images.Length).Where(i => !trainIndexes.Contains(i)).Select(Row).ToList();
string className = IdxImages.FashionClassNames[trainClass];
Console.WriteLine($"MLNet.Vae demo: one-class anomaly detection on {images.Length} Fashion-MNIST test images shipped with the repo.");
Console.WriteLine($"Fit on {train.Count} '{className}' images; score {test.Count} images ({test.Count(r => r.Label == 0)} held-out '{className}', {test.Count(r => r.Label == 1)} of other classes = anomalies).");

var ml = new MLContext(seed: 1);
var schema = SchemaDefinition.Create(typeof(ImageRow));
schema[nameof(ImageRow.Pixels)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, pixels);
var trainData = ml.Data.LoadFromEnumerable(train, schema);
var testData = ml.Data.LoadFromEnumerable(test, schema);

VaeOptions Options(VaeScoreKind? kind) => new()
{
    FeatureColumnName = nameof(ImageRow.Pixels),
    Likelihood = VaeLikelihood.Bernoulli,
    HiddenLayerSizes = [256],
    LatentDimension = 16,
    NumberOfEpochs = epochs,
    BatchSize = 32,
    LearningRate = 1e-3,
    Contamination = 0.05,
    ScoreKind = kind,
    Seed = 1,
};

// The score kind left to the library: for pixels, the weighted reconstruction error plus the distance to the nearest training codes.
using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(Options(kind: null)).Fit(trainData);
Console.WriteLine();
Console.WriteLine($"VAE {pixels}-{string.Join("-", model.HiddenLayerSizes)}-{model.LatentDimension}, Bernoulli likelihood, training history (per image, in nats):");
Console.WriteLine("  epoch        loss  reconstruction        KL   seconds");
foreach (var e in model.Training.History.Where(e => e.Epoch == 1 || e.Epoch % 5 == 0 || e.Epoch == epochs))
    Console.WriteLine($"  {e.Epoch,5} {e.Loss,11:F2} {e.Reconstruction,15:F2} {e.Kl,9:F2} {e.Seconds,9:F3}");

var scored = model.Transform(testData);
var metrics = ml.AnomalyDetection.Evaluate(scored);
var predicted = scored.GetColumn<bool>("PredictedLabel").ToArray();
int truePositives = predicted.Where((p, i) => p && test[i].Label == 1).Count();
int falsePositives = predicted.Where((p, i) => p && test[i].Label == 0).Count();
Console.WriteLine();
Console.WriteLine($"ROC-AUC (default score, {model.Options.ScoreKind}): {metrics.AreaUnderRocCurve:F4}");
Console.WriteLine($"Threshold {model.Threshold:F2} (95th percentile of training scores): flags {truePositives} of {test.Count(r => r.Label == 1)} anomalies and {falsePositives} of {test.Count(r => r.Label == 0)} held-out '{className}' images.");

Console.WriteLine();
Console.WriteLine("ROC-AUC of the other score kinds (same data, same seed):");
foreach (var kind in new[] { VaeScoreKind.ReconstructionError, VaeScoreKind.WeightedReconstructionAndLatentNeighbours })
{
    using var other = ml.AnomalyDetection.Trainers.VariationalAutoencoder(Options(kind)).Fit(trainData);
    Console.WriteLine($"  {kind,-20} {ml.AnomalyDetection.Evaluate(other.Transform(testData)).AreaUnderRocCurve:F4}");
}

string reportFolder = Path.GetFullPath(ArgumentText(args, "--report", "vae-report"));
var report = model.WriteTrainingReport(reportFolder, testData, new MLNet.Vae.Reporting.VaeReportOptions
{
    Title = $"MLNet.Vae demo: fitted on '{className}', scored on the other {test.Count} images",
    LabelColumnName = nameof(ImageRow.ClassName),
    ImageShape = new VaeImageShape(1, height, width),
});
Console.WriteLine();
Console.WriteLine($"Training report: {report.HtmlPath} ({report.Charts.Count} pictures: {string.Join(", ", report.Charts.Select(c => c.FileName))}).");
foreach (var warning in model.Training.Warnings) Console.WriteLine($"Warning ({warning.Kind}): {warning.Message}");

string modelPath = Path.Combine(Path.GetTempPath(), $"mlnet-vae-demo-{Environment.ProcessId}.vae");
model.Save(modelPath);
using (var reloaded = VaeTransformer.Load(ml, modelPath))
{
    bool identical = scored.GetColumn<float>("Score").SequenceEqual(reloaded.Transform(testData).GetColumn<float>("Score"));
    Console.WriteLine();
    Console.WriteLine($"Saved the model ({new FileInfo(modelPath).Length / 1024} KiB) and reloaded it: scores identical = {identical}.");
    if (!identical) return Fail("the reloaded model scores differently.");
}
File.Delete(modelPath);

Console.WriteLine();
Console.WriteLine($"A '{className}' generated from the prior (decoded z ~ N(0, I)):");
var sample = model.Generate(1, seed: 3)[0];
const string Shades = " .:-=+*#%@";
for (int y = 0; y < height; y += 2)
{
    var line = new char[width];
    for (int x = 0; x < width; x++)
    {
        float v = (sample[y * width + x] + sample[Math.Min(y + 1, height - 1) * width + x]) / 2;
        line[x] = Shades[Math.Clamp((int)(v * Shades.Length), 0, Shades.Length - 1)];
    }
    Console.WriteLine("  " + new string(line));
}

Console.WriteLine();
Console.WriteLine($"Done in {clock.Elapsed.TotalSeconds:F1} s.");
return 0;

static int Argument(string[] args, string name, int fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length && int.TryParse(args[at + 1], out int value) ? value : fallback;
}

static string ArgumentText(string[] args, string name, string fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
}

static int Fail(string message)
{
    Console.Error.WriteLine($"error: {message}");
    return 1;
}
