using System.Globalization;

namespace MLNet.Vae.Benchmarks;

/// <summary>A named change to the benchmark's options, so that one run compares several ("default,latent=8,steps=5000").</summary>
internal static class BenchmarkVariant
{
    /// <summary>
    /// The options under test: "default" leaves <paramref name="options"/> as they are; every other part of a "+"-joined name
    /// changes one thing (latent=8, steps=5000, hidden=512x256, channels=32x64x128, seed=2, logs=false ...). Width and rows turn relative parts (latent=w/4, steps)
    /// into options.
    /// </summary>
    public static VaeOptions Options(string name, VaeOptions options, int width, int rows)
    {
        foreach (string part in name.Split('+'))
        {
            var (key, value) = part.Split('=') is [var k, var v] ? (k, v) : (part, "");
            switch (key)
            {
                case "default": break;
                case "score": options.ScoreKind = Enum.Parse<VaeScoreKind>(value); break;
                case "latent" when value.StartsWith("w/", StringComparison.Ordinal):
                    options.LatentDimension = Math.Clamp((int)Math.Ceiling(width / double.Parse(value[2..], CultureInfo.InvariantCulture)), 1, 20); break;
                case "latent": options.LatentDimension = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "epochs": options.NumberOfEpochs = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "steps":
                    int batch = Math.Min(options.BatchSize ?? VaeOptions.Defaults.BatchSize, rows);
                    options.NumberOfEpochs = Math.Clamp((int)Math.Ceiling(double.Parse(value, CultureInfo.InvariantCulture) / Math.Ceiling(rows / (double)batch)), 3, 2000); break;
                case "hiddenx": options.HiddenLayerSizes = [Math.Clamp((int)(width * double.Parse(value, CultureInfo.InvariantCulture)), 8, 400)]; break;
                case "beta": options.Beta = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "es":
                    // Early stopping on a held-out fraction, patience a tenth of the automatic epochs (at least 5).
                    options.ValidationFraction = double.Parse(value, CultureInfo.InvariantCulture);
                    int trainRows = rows - (int)Math.Round(rows * options.ValidationFraction);
                    int stepsPerEpoch = (int)Math.Ceiling(trainRows / (double)Math.Min(VaeOptions.Defaults.BatchSize, trainRows));
                    options.EarlyStoppingPatience = Math.Max(5, (VaeOptions.Defaults.AutomaticOptimizerSteps + stepsPerEpoch - 1) / stepsPerEpoch / 10); break;
                case "trim": options.TrimmedFraction = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "wd": options.WeightDecay = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "lr": options.LearningRate = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "batch": options.BatchSize = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "prior": options.PriorComponents = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "models": options.NumberOfModels = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "hidden": options.HiddenLayerSizes = value.Split('x').Select(int.Parse).ToArray(); break;
                case "channels": options.ConvolutionChannels = value.Split('x').Select(int.Parse).ToArray(); break;
                // Another seed of the same options: how far a mean moves by chance, the yardstick for every other variant.
                case "seed": options.Seed = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "logs": options.AppendLogOfSkewedFeatures = bool.Parse(value); break;
                default: throw new ArgumentException($"Unknown variant part '{part}'.");
            }
        }
        return options;
    }
}
