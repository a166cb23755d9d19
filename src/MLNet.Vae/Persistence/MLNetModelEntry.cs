using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNet.Vae.Persistence;

// Registers the loader with ML.NET's component catalog: mlContext.Model.Load finds it by LoaderSignature, and loads this
// assembly by the name recorded in the model (VersionInfo.LoaderAssemblyName), so no registration call is needed.
[assembly: LoadableClass(typeof(MLNet.Vae.VaeTransformer), typeof(MLNetModelEntry), null, typeof(SignatureLoadModel),
    "Variational autoencoder", MLNetModelEntry.LoaderSignature)]

namespace MLNet.Vae.Persistence;

/// <summary>
/// The VAE's entry in an ML.NET model file (the zip written by <c>mlContext.Model.Save</c>). The entry holds ML.NET's
/// version header and one binary stream, <see cref="StreamName"/>, containing the library's own model format
/// (<see cref="VaeModelFile"/>): one format whichever way a model is saved.
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

    /// <summary>Writes the entry: the header, then <paramref name="write"/>'s bytes as <see cref="StreamName"/>.</summary>
    public static void Save(ModelSaveContext context, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.CheckAtModel();
        context.SetVersionInfo(GetVersionInfo());
        context.SaveBinaryStream(StreamName, writer =>
        {
            writer.Flush();
            write(writer.BaseStream);
        });
    }

    /// <summary>Called by ML.NET's component catalog (through the <see cref="LoadableClassAttribute"/> above) to load the entry.</summary>
    private static VaeTransformer Create(IHostEnvironment env, ModelLoadContext context)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(context);
        context.CheckAtModel(GetVersionInfo());
        VaeTransformer? transformer = null;
        if (!context.TryLoadBinaryStream(StreamName, reader => transformer = VaeTransformer.Load(env, reader.BaseStream)))
            throw new InvalidDataException($"Cannot load the VAE model: the ML.NET model has no '{StreamName}' stream for it.");
        return transformer!;
    }
}
