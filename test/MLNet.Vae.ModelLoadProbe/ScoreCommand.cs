using Microsoft.ML;

namespace MLNet.Vae.ModelLoadProbe;

/// <summary>
/// Loads a model the way serving code does: mlContext.Model.Load, then Transform. Nothing here names an MLNet.Vae type,
/// and the output says whether ML.NET itself had to load the MLNet.Vae assembly to read the model.
/// </summary>
public static class ScoreCommand
{
    public static int Run(string modelPath, string dataPath, string scoresPath)
    {
        bool loadedBefore = IsVaeAssemblyLoaded();
        var ml = new MLContext(seed: 1);
        var model = ml.Model.Load(modelPath, out var inputSchema);
        bool loadedAfter = IsVaeAssemblyLoaded();
        Console.WriteLine($"MLNet.Vae loaded before Model.Load: {loadedBefore}; after: {loadedAfter}");
        Console.WriteLine($"Input schema: {string.Join(", ", inputSchema.Select(c => c.Name))}");

        var scored = model.Transform(ProbeData.Load(ml, dataPath));
        string[] columns = ProbeData.OutputColumns.Where(c => scored.Schema.GetColumnOrNull(c) is not null).ToArray();
        ProbeData.WriteColumns(scored, scoresPath, columns);
        Console.WriteLine($"Wrote {string.Join(", ", columns)}");
        (model as IDisposable)?.Dispose();
        return 0;
    }

    private static bool IsVaeAssemblyLoaded() =>
        AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "MLNet.Vae");
}
