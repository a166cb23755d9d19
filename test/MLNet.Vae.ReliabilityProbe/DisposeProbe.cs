using Microsoft.ML;

namespace MLNet.Vae.ReliabilityProbe;

/// <summary>
/// Disposes a model while four threads score with it through PredictionEngine and Transform, as a server that swaps
/// models does. Before the fix this freed the weights under running calls (SIGSEGV, "free(): invalid pointer").
/// Every call must either complete or fail with ObjectDisposedException.
/// </summary>
internal static class DisposeProbe
{
    public static void Run(int rounds)
    {
        var ml = new MLContext(seed: 1);
        var rows = ProbeData.Rows(64, seed: 3);
        using var trained = ProbeData.Fit(ml);
        using var saved = new MemoryStream();
        trained.Save(saved);
        for (int round = 0; round < rounds; round++)
        {
            saved.Position = 0;
            var model = VaeTransformer.Load(ml, saved);
            var unexpected = new List<Exception>();
            int completed = 0, refused = 0;
            var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
            {
                try
                {
                    var engine = ml.Model.CreatePredictionEngine<Row, ScoredRow>(model);
                    for (int i = 0; ; i++)
                    {
                        if (t % 2 == 0) engine.Predict(rows[i % rows.Count]);
                        else ProbeData.Score(ml, model, rows);
                        Interlocked.Increment(ref completed);
                    }
                }
                catch (ObjectDisposedException)
                {
                    Interlocked.Increment(ref refused);
                }
                catch (Exception e)
                {
                    lock (unexpected) unexpected.Add(e);
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            Thread.Sleep(50 + 20 * round);
            model.Dispose();
            threads.ForEach(t => t.Join());
            ProbeFailure.Unless(unexpected.Count == 0, $"round {round}: {string.Join("; ", unexpected.Select(e => $"{e.GetType().Name}: {e.Message}"))}");
            ProbeFailure.Unless(refused == 4, $"round {round}: {refused} of 4 threads were refused with ObjectDisposedException");
            Console.WriteLine($"round {round}: {completed} calls completed, then every thread got ObjectDisposedException");
        }
    }
}
