using System.Diagnostics;
using Microsoft.ML;

namespace MLNet.Vae.ReliabilityProbe;

/// <summary>
/// MLContext.CancelExecution and VaeOptions.CancellationToken stop a running Fit within a mini-batch, with
/// OperationCanceledException (before, Fit ran 129 more epochs in the next 20 s).
/// </summary>
internal static class CancellationProbe
{
    /// <summary>MLContext.CancelExecution is internal in ML.NET 5 (hosts such as Model Builder call it): reached by name.</summary>
    private static void CancelExecution(MLContext ml) =>
        typeof(MLContext).GetMethod("CancelExecution", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!
            .Invoke(ml, null);

    public static void Run()
    {
        var data = ProbeData.Rows(2000, seed: 6);
        foreach (bool throughToken in new[] { false, true })
        {
            var ml = new MLContext(seed: 1);
            using var cancellation = new CancellationTokenSource();
            var options = ProbeData.Options(epochs: VaeOptions.Defaults.MaximumEpochs);
            if (throughToken) options.CancellationToken = cancellation.Token;
            var estimator = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options);
            Exception? outcome = null;
            var fit = new Thread(() =>
            {
                try { estimator.Fit(ml.Data.LoadFromEnumerable(data)).Dispose(); }
                catch (Exception e) { outcome = e; }
            }) { IsBackground = true };
            fit.Start();
            Thread.Sleep(500);
            var clock = Stopwatch.StartNew();
            if (throughToken) cancellation.Cancel();
            else CancelExecution(ml);
            ProbeFailure.Unless(fit.Join(TimeSpan.FromSeconds(10)), "Fit did not stop within 10 s of cancellation");
            string how = throughToken ? "CancellationToken" : "MLContext.CancelExecution";
            ProbeFailure.Unless(outcome is OperationCanceledException, $"{how}: Fit ended with {outcome?.GetType().Name ?? "a model"}, not OperationCanceledException");
            Console.WriteLine($"{how}: Fit stopped {clock.Elapsed.TotalMilliseconds:F0} ms after cancellation");
        }
    }
}
