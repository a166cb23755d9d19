using System.Diagnostics;
using Microsoft.ML;

namespace MLNet.Vae.ReliabilityProbe;

/// <summary>
/// Fits and scores while another thread forces garbage collections and finalizers without pause: a temporary TorchSharp
/// Scalar freed during its native call shows as "Unknown scalar type", another exception, or a number that differs from
/// the same computation done before the collector was let loose.
/// </summary>
internal static class GarbageCollectionProbe
{
    public static void Run(double seconds)
    {
        var ml = new MLContext(seed: 1);
        var test = ProbeData.Rows(300, seed: 2);
        using var reference = ProbeData.Fit(ml);
        var referenceLosses = reference.Training.History.Select(r => r.Loss).ToArray();
        var referenceScores = ProbeData.Score(ml, reference, test).Select(r => r.Score).ToArray();

        using var stop = new CancellationTokenSource();
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }) { IsBackground = true };
        collector.Start();

        int fits = 0, scorings = 0;
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds && failures.Count < 5)
        {
            try
            {
                using var model = ProbeData.Fit(ml);
                fits++;
                if (!model.Training.History.Select(r => r.Loss).SequenceEqual(referenceLosses))
                    failures.Add($"fit {fits}: the training losses differ from the same seeded fit without collections");
                for (int pass = 0; pass < 5; pass++, scorings++)
                {
                    var scores = ProbeData.Score(ml, model, test).Select(r => r.Score).ToArray();
                    if (!scores.SequenceEqual(referenceScores))
                        failures.Add($"scoring pass {scorings}: scores differ from the same model's scores without collections");
                }
            }
            catch (Exception e)
            {
                failures.Add($"{e.GetType().Name}: {e.Message}");
            }
        }
        stop.Cancel();
        collector.Join();
        Console.WriteLine($"{fits} fits and {scorings} scoring passes in {clock.Elapsed.TotalSeconds:F0} s under forced collections, {failures.Count} failures");
        ProbeFailure.Unless(fits > 0, "no fit finished");
        ProbeFailure.Unless(failures.Count == 0, string.Join("; ", failures));
    }
}
