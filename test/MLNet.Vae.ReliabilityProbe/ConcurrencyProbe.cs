using Microsoft.ML;

namespace MLNet.Vae.ReliabilityProbe;

/// <summary>
/// Determinism under concurrency: a seeded Fit gives the same training and the same scores while other threads load,
/// clone (WithThreshold), save and fit models. Before, network construction drew from libtorch's global generator, so
/// a concurrent Load or WithThreshold could change a seeded Fit's initial weights.
/// </summary>
internal static class ConcurrencyProbe
{
    public static void Run()
    {
        var ml = new MLContext(seed: 1);
        var test = ProbeData.Rows(100, seed: 2);
        using var reference = ProbeData.Fit(ml);
        var losses = reference.Training.History.Select(r => r.Loss).ToArray();
        var scores = ProbeData.Score(ml, reference, test).Select(r => r.Score).ToArray();
        using var saved = new MemoryStream();
        reference.Save(saved);
        byte[] bytes = saved.ToArray();
        string folder = Directory.CreateTempSubdirectory("mlnet-vae-probe-").FullName;

        using var stop = new CancellationTokenSource();
        var errors = new List<Exception>();
        var background = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            try
            {
                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    using var loaded = VaeTransformer.Load(ml, new MemoryStream(bytes));
                    using var clone = loaded.WithThreshold(0.5f);
                    clone.Save(Path.Combine(folder, $"{t}-{i % 3}.vae"));
                }
            }
            catch (Exception e)
            {
                lock (errors) errors.Add(e);
            }
        })).ToList();
        background.ForEach(t => t.Start());
        try
        {
            var fits = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
            {
                var results = new List<(double[] Losses, float[] Scores)>();
                for (int i = 0; i < 5; i++)
                {
                    using var model = ProbeData.Fit(ml);
                    results.Add((model.Training.History.Select(r => r.Loss).ToArray(), ProbeData.Score(ml, model, test).Select(r => r.Score).ToArray()));
                }
                return results;
            })).ToArray();
            Task.WaitAll(fits);
            int different = fits.SelectMany(f => f.Result).Count(r => !r.Losses.SequenceEqual(losses) || !r.Scores.SequenceEqual(scores));
            ProbeFailure.Unless(different == 0, $"{different} of 10 seeded fits differed from the same fit run alone");
        }
        finally
        {
            stop.Cancel();
            background.ForEach(t => t.Join());
            Directory.Delete(folder, recursive: true);
        }
        ProbeFailure.Unless(errors.Count == 0, string.Join("; ", errors.Select(e => $"{e.GetType().Name}: {e.Message}")));
        Console.WriteLine("10 seeded fits on two threads, beside threads loading, cloning and saving: all identical to the fit run alone");
    }
}
