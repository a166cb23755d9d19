using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.ReliabilityProbe;

/// <summary>
/// Limits are checked at the door with clear messages: rows of 524,288 values (a 3x448x448 image) are refused by the MLP
/// before anything is reserved and train with the convolutional network; wide rows no longer reserve gigabytes of read
/// buffer; an image shape whose size overflows an int is refused; early stopping with no validation row is refused.
/// </summary>
internal static class LimitsProbe
{
    public static void Run()
    {
        var ml = new MLContext(seed: 1);

        const int WideMlp = 131_072;
        long before = Process.GetCurrentProcess().PeakWorkingSet64;
        using (ml.AnomalyDetection.Trainers.VariationalAutoencoder(new VaeOptions { HiddenLayerSizes = [4], LatentDimension = 2, NumberOfEpochs = 1, Seed = 1 })
                   .Fit(Wide(ml, WideMlp, rows: 3)))
        {
        }
        long grown = Process.GetCurrentProcess().PeakWorkingSet64 - before;
        ProbeFailure.Unless(grown < 512L << 20, $"fitting 3 rows of {WideMlp} values grew the peak working set by {grown >> 20} MiB");
        Console.WriteLine($"3 rows of {WideMlp} values: peak working set grew {grown >> 20} MiB");

        const int ImageWidth = 3 * 448 * 448;
        var clock = Stopwatch.StartNew();
        try
        {
            ml.AnomalyDetection.Trainers.VariationalAutoencoder(new VaeOptions { NumberOfEpochs = 1, HiddenLayerSizes = [400] }).Fit(Wide(ml, ImageWidth, rows: 2));
            throw new ProbeFailure($"an MLP on rows of {ImageWidth} values was built");
        }
        catch (InvalidOperationException e) when (e.Message.Contains("weights", StringComparison.Ordinal) && e.Message.Contains("Convolutional", StringComparison.Ordinal))
        {
            Console.WriteLine($"MLP on {ImageWidth}-value rows refused in {clock.ElapsedMilliseconds} ms: {e.Message}");
        }

        var convolutional = new VaeOptions
        {
            Architecture = VaeArchitecture.Convolutional, ImageShape = new VaeImageShape(3, 448, 448), ConvolutionChannels = [4, 8, 8, 8],
            LatentDimension = 4, NumberOfEpochs = 1, BatchSize = 2, Seed = 1,
        };
        using (var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(convolutional).Fit(Wide(ml, ImageWidth, rows: 3)))
        {
            var scores = model.Transform(Wide(ml, ImageWidth, rows: 2)).GetColumn<float>("Score").ToArray();
            ProbeFailure.Unless(scores.All(float.IsFinite), "the convolutional network scored a wide row non-finite");
            Console.WriteLine($"convolutional VAE on 3x448x448 rows: trained and scored ({scores[0]:G4})");
        }

        using (var small = ProbeData.Fit(ml, rows: 50, epochs: 1))
        {
            // Generate(int.MaxValue) asked libtorch for 68 GB.
            before = Process.GetCurrentProcess().PeakWorkingSet64;
            try
            {
                small.Generate(int.MaxValue);
                throw new ProbeFailure("Generate(int.MaxValue) returned");
            }
            catch (ArgumentOutOfRangeException e) when (e.ParamName == "count" && e.Message.Contains("rows a call", StringComparison.Ordinal))
            {
            }
            grown = Process.GetCurrentProcess().PeakWorkingSet64 - before;
            ProbeFailure.Unless(grown < 64L << 20, $"Generate(int.MaxValue) grew the peak working set by {grown >> 20} MiB before refusing");
        }

        try
        {
            ml.AnomalyDetection.Trainers.VariationalAutoencoder(new VaeOptions { ImageShape = new VaeImageShape(65_536, 65_536, 3) });
            throw new ProbeFailure("an image shape of 65536x65536x3 values was accepted");
        }
        catch (ArgumentOutOfRangeException e) when (e.ParamName == nameof(VaeOptions.ImageShape))
        {
        }

        try
        {
            var options = ProbeData.Options();
            options.ValidationFraction = 0.1;
            options.EarlyStoppingPatience = 2;
            ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(ml.Data.LoadFromEnumerable(ProbeData.Rows(4, seed: 1)));
            throw new ProbeFailure("early stopping trained with a validation split of 0 rows");
        }
        catch (InvalidOperationException e) when (e.Message.Contains("holds out no row", StringComparison.Ordinal))
        {
        }
        Console.WriteLine("Generate(int.MaxValue), an overflowing image shape and an empty validation split are refused");
    }

    /// <summary>
    /// Run with DOTNET_GCHeapHardLimit below what the Fit needs: refused before training with what to change, instead of an
    /// out-of-memory kill part way.
    /// </summary>
    public static void RunMemoryLimit()
    {
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        ProbeFailure.Unless(available < 1L << 30, $"run this probe with DOTNET_GCHeapHardLimit below 1 GiB (the process may use {available >> 20} MiB)");
        var ml = new MLContext(seed: 1);
        try
        {
            // 2 x 4,000 x 4,000 weights, 128 MB a copy: five copies are more than the limit.
            using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(new VaeOptions { HiddenLayerSizes = [4000], NumberOfEpochs = 1, Seed = 1 })
                .Fit(Wide(ml, 4000, rows: 50));
            throw new ProbeFailure($"a Fit needing more than the {available >> 20} MiB the process may use trained");
        }
        catch (InvalidOperationException e) when (e.Message.Contains("more than the", StringComparison.Ordinal) && e.Message.Contains("GiB this process can use", StringComparison.Ordinal))
        {
            Console.WriteLine($"refused under a {available >> 20} MiB limit: {e.Message}");
        }
    }

    private sealed class WideRow
    {
        public float[] Features { get; set; } = [];
    }

    private static IDataView Wide(MLContext ml, int width, int rows)
    {
        var schema = SchemaDefinition.Create(typeof(WideRow));
        schema[nameof(WideRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        var random = new Random(width + rows);
        var data = Enumerable.Range(0, rows).Select(_ => new WideRow { Features = Enumerable.Range(0, width).Select(_ => (float)random.NextDouble()).ToArray() });
        return ml.Data.LoadFromEnumerable(data.ToList(), schema);
    }
}
