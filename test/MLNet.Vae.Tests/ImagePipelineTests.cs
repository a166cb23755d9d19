using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using MLNet.Vae.Network;
using SkiaSharp;
using static TorchSharp.torch;

namespace MLNet.Vae.Tests;

/// <summary>
/// Images end to end: PNG files -> LoadImages -> ResizeImages -> ExtractPixels (CHW, [0, 1]) -> convolutional VAE, in one
/// ML.NET pipeline, on small images the test draws: circles (the normal class) and squares (the anomalies).
/// </summary>
[TestClass]
public sealed class ImagePipelineTests
{
    public sealed class ImageFile
    {
        public string ImagePath { get; set; } = "";
        public float Label { get; set; }
    }

    private const int Side = 16;
    private static string _folder = null!;
    private static List<ImageFile> _circles = null!;
    private static List<ImageFile> _squares = null!;

    [ClassInitialize]
    public static void DrawImages(TestContext _)
    {
        _folder = Directory.CreateTempSubdirectory("vae-images-").FullName;
        var random = new Random(5);
        _circles = Enumerable.Range(0, 120).Select(i => Draw($"circle{i}.png", random, circle: true)).ToList();
        _squares = Enumerable.Range(0, 20).Select(i => Draw($"square{i}.png", random, circle: false)).ToList();
    }

    [ClassCleanup]
    public static void RemoveImages() => Directory.Delete(_folder, recursive: true);

    /// <summary>A 20x20 colour PNG (resized to 16x16 by the pipeline): a filled circle or square on a dark background.</summary>
    private static ImageFile Draw(string name, Random random, bool circle)
    {
        using var bitmap = new SKBitmap(20, 20);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor(10, 10, 10));
            var colour = new SKColor((byte)random.Next(150, 256), (byte)random.Next(150, 256), (byte)random.Next(150, 256));
            using var paint = new SKPaint { Color = colour, IsAntialias = true };
            float cx = 10 + random.Next(-2, 3), cy = 10 + random.Next(-2, 3), size = random.Next(4, 7);
            if (circle) canvas.DrawCircle(cx, cy, size, paint);
            else canvas.DrawRect(cx - size, cy - size, 2 * size, 2 * size, paint);
        }
        using (var file = File.Create(Path.Combine(_folder, name)))
            bitmap.Encode(file, SKEncodedImageFormat.Png, 100);
        return new ImageFile { ImagePath = name, Label = circle ? 0 : 1 };
    }

    private static IEstimator<ITransformer> Pixels(MLContext ml, bool grayscale)
    {
        var loaded = ml.Transforms.LoadImages("Image", _folder, nameof(ImageFile.ImagePath))
            .Append(ml.Transforms.ResizeImages("Image", Side, Side, resizing: ImageResizingEstimator.ResizingKind.Fill));
        return grayscale
            ? loaded.Append(ml.Transforms.ConvertToGrayscale("Image"))
                .Append(ml.Transforms.ExtractPixels("Pixels", "Image", colorsToExtract: ImagePixelExtractingEstimator.ColorBits.Red, interleavePixelColors: false, scaleImage: 1f / 255))
            : loaded.Append(ml.Transforms.ExtractPixels("Pixels", "Image", interleavePixelColors: false, scaleImage: 1f / 255));
    }

    private static VaeOptions ConvOptions() => new()
    {
        FeatureColumnName = "Pixels",
        Architecture = VaeArchitecture.Convolutional,
        ConvolutionChannels = [8, 16],
        Likelihood = VaeLikelihood.Bernoulli,
        LatentDimension = 4,
        NumberOfEpochs = 30,
        BatchSize = 16,
        LearningRate = 3e-3,
        Seed = 3,
        Contamination = 0.05,
    };

    [TestMethod]
    public void ColourImages_FitAndScoreInOnePipeline_FindTheSquares()
    {
        var ml = new MLContext(seed: 1);
        // Colour (3), position (2) and size (1) vary among the circles: the latent space needs room for all six.
        var options = ConvOptions();
        options.LatentDimension = 8;
        options.NumberOfEpochs = 60;
        // The plain reconstruction error: the squares differ from the circles only along the outline, where the circles
        // themselves vary, which the weighted error (WeightedReconstructionError, the first term of this network's default) weighs
        // down (AUC 0.887 against 0.905, docs/choosing-options.md).
        options.ScoreKind = VaeScoreKind.ReconstructionError;
        var model = Pixels(ml, grayscale: false).Append(ml.AnomalyDetection.Trainers.VariationalAutoencoder(options))
            .Fit(ml.Data.LoadFromEnumerable(_circles.Take(100)));
        var test = ml.Data.LoadFromEnumerable(_circles.Skip(100).Concat(_squares));

        var scored = model.Transform(test);
        var metrics = ml.AnomalyDetection.Evaluate(scored);

        var vae = model.LastTransformer;
        Assert.AreEqual(new VaeImageShape(3, Side, Side), vae.ImageShape, "the shape came from ExtractPixels' dimensions");
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 3, Side, Side), scored.Schema["Pixels"].Type);
        Assert.IsGreaterThan(0.9, metrics.AreaUnderRocCurve, $"AUC {metrics.AreaUnderRocCurve:F3}");
        vae.Dispose();
    }

    [TestMethod]
    public void GreyImages_GiveAOneChannelModel_ThatSavesAndLoadsWithThePipeline()
    {
        var ml = new MLContext(seed: 1);
        var options = ConvOptions();
        options.NumberOfEpochs = 3;
        var train = ml.Data.LoadFromEnumerable(_circles.Take(60));
        var model = Pixels(ml, grayscale: true).Append(ml.AnomalyDetection.Trainers.VariationalAutoencoder(options)).Fit(train);
        string path = Path.Combine(_folder, "image-pipeline.zip");
        ml.Model.Save(model, train.Schema, path);

        var loaded = ml.Model.Load(path, out _);

        Assert.AreEqual(new VaeImageShape(1, Side, Side), model.LastTransformer.ImageShape);
        var test = ml.Data.LoadFromEnumerable(_circles.Skip(100).Concat(_squares));
        CollectionAssert.AreEqual(TestData.Scores(model.Transform(test)), TestData.Scores(loaded.Transform(test)));
        model.LastTransformer.Dispose();
        foreach (var disposable in ((IEnumerable<ITransformer>)loaded).OfType<IDisposable>()) disposable.Dispose();
    }

    [TestMethod]
    public void ImageShapeOption_ThatDisagreesWithTheColumn_ThrowsNamingBoth()
    {
        var ml = new MLContext(seed: 1);
        var options = ConvOptions();
        options.ImageShape = new VaeImageShape(1, 48, 16);
        var pipeline = Pixels(ml, grayscale: false).Append(ml.AnomalyDetection.Trainers.VariationalAutoencoder(options));

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => pipeline.Fit(ml.Data.LoadFromEnumerable(_circles.Take(10))));
        StringAssert.Contains(error.Message, "ImageShape 1x48x16 disagrees with input column 'Pixels', whose dimensions are 3x16x16.");
        Assert.AreEqual(nameof(VaeOptions.ImageShape), error.ParamName);
    }

    [TestMethod]
    public void ConvolutionalOnAFlatVectorWithoutShape_ThrowsSayingWhereTheShapeComesFrom()
    {
        var ml = new MLContext(seed: 1);
        var options = ConvOptions();
        options.FeatureColumnName = "Features";
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new VaeEstimator(ml, options).Fit(TestData.ToDataView(ml, TestData.Normal(10, seed: 1, unitInterval: true))));
        StringAssert.Contains(error.Message, "The convolutional architecture needs the image shape of input column 'Features' (a vector of 16)");

        options.ImageShape = new VaeImageShape(1, 5, 5);
        error = Assert.Throws<ArgumentOutOfRangeException>(() => new VaeEstimator(ml, options).Fit(TestData.ToDataView(ml, TestData.Normal(10, seed: 1, unitInterval: true))));
        StringAssert.Contains(error.Message, "ImageShape 1x5x5 holds 25 values, but input column 'Features' has 16.");
    }

    [TestMethod]
    public void ConvolutionalOnAFlatVectorWithTheShapeOption_Trains()
    {
        var ml = new MLContext(seed: 1);
        var options = ConvOptions();
        options.FeatureColumnName = "Features";
        options.ImageShape = new VaeImageShape(1, 4, 4);
        options.ConvolutionChannels = [4];
        options.NumberOfEpochs = 5;
        using var model = new VaeEstimator(ml, options).Fit(TestData.ToDataView(ml, TestData.Normal(100, seed: 2, unitInterval: true)));

        Assert.IsLessThan(model.Training.History[0].Loss, model.Training.History[^1].Loss);
        Assert.IsEmpty(model.HiddenLayerSizes);
    }

    [TestMethod]
    [DataRow(1, 28, 28, new[] { 32, 64 })]
    [DataRow(3, 7, 9, new[] { 4, 8 })]
    [DataRow(2, 5, 5, new[] { 4 })]
    public void ConvolutionalNetwork_RestoresAnyImageSize_OddSidesIncluded(int channels, int height, int width, int[] convolutions)
    {
        var shape = new VaeImageShape(channels, height, width);
        using var network = new VaeNetworkSpec(VaeArchitecture.Convolutional, (int)shape.Size, 3, [], shape, convolutions, 20).Build();
        using var scope = NewDisposeScope();

        var (mean, logVariance) = network.Encode(rand(6, shape.Size));
        var decoded = network.Decode(mean);

        CollectionAssert.AreEqual(new long[] { 6, 3 }, mean.shape);
        CollectionAssert.AreEqual(new long[] { 6, 3 }, logVariance.shape);
        CollectionAssert.AreEqual(new long[] { 6, shape.Size }, decoded.shape);
    }

    [TestMethod]
    public void ConvolutionalNetwork_TooManyConvolutionsForTheImage_ThrowsSaying()
    {
        var shape = new VaeImageShape(1, 4, 4);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new VaeNetworkSpec(VaeArchitecture.Convolutional, 16, 2, [], shape, [4, 4, 4, 4], 20).Build());
        StringAssert.Contains(error.Message, "4 stride-2 convolutions need image sides of at least 8 pixels, or the 4x4 image would be mostly padding");
    }
}
