using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Benchmarks;

/// <summary>
/// <c>-- latent-features</c>: are <c>LatentFeatures</c> worth their column? A linear ML.NET classifier (SDCA) is trained on
/// them, on PCA at the same dimension and on the raw features, each mean-variance normalized, and measured on held-out rows:
/// Fashion-MNIST (fit on the 60,000 training images, accuracy over the 10 classes on the 10,000 test images) and the
/// whole-class tables of the real suite (cells, dhfr, german: their class is the label; 70/30 split, ROC-AUC and accuracy).
/// The VAE is an unsupervised step of the same pipeline and never sees a label.
/// </summary>
internal static class LatentFeaturesBenchmark
{
    public static readonly string[] Tables = ["cells", "dhfr", "german"];

    private sealed class Row
    {
        public float[] Features { get; set; } = [];
        public float Label { get; set; }
    }

    /// <param name="variants">The VAE's options beside the latent size: "default", "bernoulli", "epochs=N", "beta=B" (comma-free each).</param>
    public static int Run(int latentDimension, IReadOnlyList<string> variants, bool images, bool tables, TextWriter output)
    {
        if (images) Images(latentDimension, variants, output);
        if (tables) RealTables(variants, output);
        return 0;
    }

    private static void Images(int latentDimension, IReadOnlyList<string> variants, TextWriter output)
    {
        output.WriteLine($"Fashion-MNIST, {latentDimension} features from each, SDCA maximum entropy, test accuracy:");
        output.WriteLine();
        output.WriteLine("| features | accuracy | seconds |");
        output.WriteLine("|---|---|---|");
        var images = FashionMnist.Load();
        var ml = new MLContext(seed: 1);
        var train = View(ml, images.TrainImages, images.TrainLabels.Select(l => (float)l).ToArray());
        var test = View(ml, images.TestImages, images.TestLabels.Select(l => (float)l).ToArray());
        void Image(string name, IEstimator<ITransformer> features)
        {
            var clock = Stopwatch.StartNew();
            var model = ml.Transforms.Conversion.MapValueToKey("Label")
                .Append(features)
                .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy("Label", "Classified"))
                .Fit(train);
            var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
            output.WriteLine($"| {name} | {metrics.MicroAccuracy:F4} | {clock.Elapsed.TotalSeconds:F0} |");
            Dispose(model);
        }
        Image($"raw pixels ({FashionMnist.Pixels})", Normalized(ml, "Features"));
        Image($"PCA, {latentDimension} components", Pca(ml, latentDimension, standardizeFirst: false));
        foreach (string variant in variants)
            Image($"VAE latent ({variant})", Latent(ml, VaeOptionsFor(variant, latentDimension, VaeLikelihood.Gaussian), scaleToUnit: false));
    }

    private static void RealTables(IReadOnlyList<string> variants, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine("Real tables, their class as the label, 70/30 split (seed 1), SDCA logistic regression: test ROC-AUC / accuracy.");
        output.WriteLine("The VAE's latent size is the automatic one (⌈d/2⌉, at most 20) and PCA takes as many components.");
        output.WriteLine();
        output.WriteLine($"| table | rows x d | latent | raw | PCA | {string.Join(" | ", variants.Select(v => $"VAE {v}"))} |");
        output.WriteLine($"|---|---|---|---|---|{string.Concat(variants.Select(_ => "---|"))}");
        foreach (var set in TabularSuite.Real(Tables))
        {
            var tableMl = new MLContext(seed: 1);
            int width = set.Rows[0].Length, latent = Math.Clamp((width + 1) / 2, 1, VaeOptions.Defaults.MaximumAutomaticLatentDimension);
            var split = tableMl.Data.TrainTestSplit(View(tableMl, set.Rows, set.Anomalous.Select(a => a ? 1f : 0f).ToArray()), testFraction: 0.3, seed: 1);
            string Table(IEstimator<ITransformer> features)
            {
                var model = tableMl.Transforms.Conversion.ConvertType("Label", outputKind: DataKind.Boolean)
                    .Append(features)
                    .Append(tableMl.BinaryClassification.Trainers.SdcaLogisticRegression("Label", "Classified"))
                    .Fit(split.TrainSet);
                var metrics = tableMl.BinaryClassification.Evaluate(model.Transform(split.TestSet));
                Dispose(model);
                return $"{metrics.AreaUnderRocCurve:F3} / {metrics.Accuracy:F3}";
            }
            var cells = new List<string> { Table(Normalized(tableMl, "Features")), Table(Pca(tableMl, latent, standardizeFirst: true)) };
            cells.AddRange(variants.Select(v => Table(Latent(tableMl, VaeOptionsFor(v, latent, VaeLikelihood.Gaussian), scaleToUnit: true))));
            output.WriteLine($"| {set.Name} | {set.Rows.Length} x {width} | {latent} | {string.Join(" | ", cells)} |");
        }
    }

    private static VaeOptions VaeOptionsFor(string variant, int latentDimension, VaeLikelihood likelihood)
    {
        var options = new VaeOptions { LatentDimension = latentDimension, Likelihood = likelihood, Seed = 1 };
        foreach (string part in variant.Split('+'))
        {
            var (key, value) = part.Split('=') is [var k, var v] ? (k, v) : (part, "");
            switch (key)
            {
                case "default": break;
                case "bernoulli": options.Likelihood = VaeLikelihood.Bernoulli; break;
                case "epochs": options.NumberOfEpochs = int.Parse(value); break;
                case "beta": options.Beta = double.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"Unknown latent-features variant '{part}': use default, bernoulli, epochs=N or beta=B, joined by '+'.");
            }
        }
        return options;
    }

    private static IEstimator<ITransformer> Normalized(MLContext ml, string column) =>
        ml.Transforms.NormalizeMeanVariance("Classified", column);

    /// <summary>
    /// The first <paramref name="rank"/> principal components (centred), normalized: of the pixels as they are (one unit), or
    /// of a table's columns standardized first (<paramref name="standardizeFirst"/>: their units differ).
    /// </summary>
    private static IEstimator<ITransformer> Pca(MLContext ml, int rank, bool standardizeFirst)
    {
        var project = ml.Transforms.ProjectToPrincipalComponents("Projected", standardizeFirst ? "Standardized" : "Features", rank: rank, seed: 1)
            .Append(ml.Transforms.NormalizeMeanVariance("Classified", "Projected"));
        return standardizeFirst ? ml.Transforms.NormalizeMeanVariance("Standardized", "Features").Append(project) : project;
    }

    /// <summary>
    /// The VAE as an unsupervised step: its latent means, normalized. Bernoulli reads pixels in [0, 1] as they are, and a
    /// table's columns min-max scaled into [0, 1] (<paramref name="scaleToUnit"/>).
    /// </summary>
    private static IEstimator<ITransformer> Latent(MLContext ml, VaeOptions options, bool scaleToUnit)
    {
        var vae = ml.Transforms.VariationalAutoencoder(options).Append(ml.Transforms.NormalizeMeanVariance("Classified", options.LatentColumnName));
        return scaleToUnit && options.Likelihood == VaeLikelihood.Bernoulli ? ml.Transforms.NormalizeMinMax("Features", fixZero: false).Append(vae) : vae;
    }

    private static IDataView View(MLContext ml, float[][] rows, float[] labels)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Length);
        return ml.Data.LoadFromEnumerable(rows.Select((r, i) => new Row { Features = r, Label = labels[i] }), schema);
    }

    private static void Dispose(ITransformer model)
    {
        if (model is IEnumerable<ITransformer> chain)
            foreach (var step in chain) Dispose(step);
        (model as IDisposable)?.Dispose();
    }
}
