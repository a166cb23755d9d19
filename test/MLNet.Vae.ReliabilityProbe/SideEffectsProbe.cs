using Microsoft.ML;
using static TorchSharp.torch;

namespace MLNet.Vae.ReliabilityProbe;

/// <summary>
/// No global side effects, no lost files: Fit restores libtorch's thread count and leaves its global generator alone;
/// saves are atomic per writer and leave no stray file; mlContext.Model.Save of a disposed VAE does not destroy the
/// file it replaces; messages about a flipped version byte and a directory say what is wrong.
/// </summary>
internal static class SideEffectsProbe
{
    public static void Run()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(ProbeData.Rows(200, seed: 1));

        set_num_threads(2);
        var options = ProbeData.Options();
        options.NumberOfThreads = 1;
        random.manual_seed(123);
        using var hostDraw = rand(4);
        random.manual_seed(123);
        using var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options).Fit(data);
        using var clone = model.WithThreshold(1f);
        using var saved = new MemoryStream();
        model.Save(saved);
        saved.Position = 0;
        using (VaeTransformer.Load(ml, saved)) { }
        using var hostDrawAfter = rand(4);
        ProbeFailure.Unless(get_num_threads() == 2, $"Fit left libtorch with {get_num_threads()} threads; the host had set 2");
        ProbeFailure.Unless(hostDraw.allclose(hostDrawAfter, rtol: 0, atol: 0), "Fit, WithThreshold or Load changed what libtorch's global generator draws next");

        string folder = Directory.CreateTempSubdirectory("mlnet-vae-probe-").FullName;
        try
        {
            string path = Path.Combine(folder, "model.vae");
            var savers = Enumerable.Range(0, 8).Select(_ => new Thread(() => { for (int i = 0; i < 10; i++) model.Save(path); })).ToList();
            savers.ForEach(t => t.Start());
            savers.ForEach(t => t.Join());
            using (var loaded = VaeTransformer.Load(ml, path))
                ProbeFailure.Unless(loaded.Threshold == model.Threshold, "after concurrent saves the file holds another model");

            string directory = Path.Combine(folder, "a-directory");
            Directory.CreateDirectory(directory);
            try
            {
                model.Save(directory);
                throw new ProbeFailure("saving over a directory succeeded");
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            var stray = Directory.GetFiles(folder).Select(Path.GetFileName).Where(f => f != "model.vae").ToList();
            ProbeFailure.Unless(stray.Count == 0, $"saves left stray files: {string.Join(", ", stray)}");

            try
            {
                VaeTransformer.Load(ml, directory);
                throw new ProbeFailure("loading a directory succeeded");
            }
            catch (ArgumentException e) when (e.Message.Contains("is a directory", StringComparison.Ordinal)) { }

            byte[] bytes = File.ReadAllBytes(path);
            bytes[8] ^= 0x40;
            try
            {
                VaeTransformer.Load(ml, new MemoryStream(bytes));
                throw new ProbeFailure("a flipped version byte loaded");
            }
            catch (InvalidDataException e) when (e.Message.Contains("or the file is damaged", StringComparison.Ordinal)) { }

            string pipelinePath = Path.Combine(folder, "pipeline.zip");
            var disposable = ml.AnomalyDetection.Trainers.VariationalAutoencoder(ProbeData.Options()).Fit(data);
            ml.Model.Save(disposable, data.Schema, pipelinePath);
            var expected = ProbeData.Score(ml, disposable, ProbeData.Rows(20, seed: 9)).Select(r => r.Score).ToArray();
            disposable.Dispose();
            ml.Model.Save(disposable, data.Schema, pipelinePath);
            var reloaded = ml.Model.Load(pipelinePath, out _);
            var actual = ProbeData.Score(ml, reloaded, ProbeData.Rows(20, seed: 9)).Select(r => r.Score).ToArray();
            (reloaded as IDisposable)?.Dispose();
            ProbeFailure.Unless(expected.SequenceEqual(actual), "mlContext.Model.Save of a disposed VAE changed the saved model");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
        Console.WriteLine("threads and global generator restored; 80 concurrent saves, failed saves: no stray file; disposed VAE saves whole");
    }
}
