using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace MLNet.Vae.Persistence;

/// <summary>
/// The VAE's entry in an ML.NET model file (the zip written by <c>mlContext.Model.Save</c>). The entry holds ML.NET's
/// version header and one binary stream, <see cref="StreamName"/>, containing the library's own model format
/// (<see cref="VaeModelFile"/>): one format whichever way a model is saved. The loader itself is
/// <c>VaeTransformer.Create</c>, registered on the assembly: this class knows bytes, never the transformer.
/// </summary>
internal static class MLNetModelEntry
{
    public const string LoaderSignature = "MLNetVaeTransformer";
    public const string StreamName = "VaeModel.bin";

    /// <summary>ML.NET's header. Its version stays 1.1 while the format inside evolves: VaeModelFile versions itself.</summary>
    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "MLNETVAE",
        verWrittenCur: 0x00010001,
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(MLNetModelEntry).Assembly.FullName);

    /// <summary>Writes the entry: the header, then <paramref name="model"/> (a <see cref="VaeModelFile"/>) as <see cref="StreamName"/>.</summary>
    public static void Save(ModelSaveContext context, byte[] model)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.CheckAtModel();
        context.SetVersionInfo(GetVersionInfo());
        context.SaveBinaryStream(StreamName, writer =>
        {
            writer.Flush();
            writer.BaseStream.Write(model);
        });
    }

    /// <summary>
    /// Checks ML.NET's header and hands the entry's <see cref="VaeModelFile"/> stream to <paramref name="read"/>, which reads
    /// it in place (bounded by the model it describes, so a zip bomb is refused without being inflated).
    /// </summary>
    /// <exception cref="InvalidDataException">The entry has no VAE stream.</exception>
    public static T Read<T>(ModelLoadContext context, Func<Stream, T> read) where T : class
    {
        ArgumentNullException.ThrowIfNull(context);
        context.CheckAtModel(GetVersionInfo());
        T? result = null;
        if (!context.TryLoadBinaryStream(StreamName, reader => result = read(reader.BaseStream)))
            throw new InvalidDataException($"Cannot load the VAE model: the ML.NET model has no '{StreamName}' stream for it.");
        return result!;
    }
}
