using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MLNet.Vae.Model;
using MLNet.Vae.Network;
using static TorchSharp.torch;

namespace MLNet.Vae.Persistence;

/// <summary>
/// Everything a fitted transformer holds besides the weights. Fields added after the first release are nullable, so
/// files written before them (test/MLNet.Vae.Tests/Fixtures/v1) still read.
/// </summary>
internal sealed record VaeModelMetadata(
    string LibraryVersion,
    VaeOptions Options,
    int InputWidth,
    int[] HiddenSizes,
    float Threshold,
    float[]? FeatureMean,
    float[]? FeatureScale,
    IReadOnlyList<VaeEpochRecord> TrainingHistory,
    IReadOnlyList<VaeTrainingWarning>? TrainingWarnings = null,
    int? BestEpoch = null,
    double? ReconstructionBaseline = null,
    VaeImageShape? ImageShape = null)
{
    /// <summary>The network this metadata describes (the convolutional channels come from the options).</summary>
    public VaeNetworkSpec ToNetworkSpec() => new(Options.Architecture, InputWidth, Options.LatentDimension, HiddenSizes, ImageShape,
        Options.Architecture == VaeArchitecture.Convolutional ? Options.ConvolutionChannels : [], Options.LogVarianceLimit);

    public VaeTrainingSummary ToTrainingSummary() => new(
        TrainingHistory.Select(r => r.KlPerDimension is null ? r with { KlPerDimension = [] } : r).ToList(),
        TrainingWarnings ?? [],
        BestEpoch ?? TrainingHistory.Count,
        ReconstructionBaseline ?? double.NaN);
}

/// <summary>
/// The one model format of the library. Layout (little-endian):
/// <code>
///   8 bytes   magic "MLNETVAE"
///   int32     format version (<see cref="CurrentVersion"/>)
///   int32     metadata length m, then m bytes of UTF-8 JSON (<see cref="VaeModelMetadata"/>)
///   int32     tensor count t, then t times:
///               string name (BinaryWriter's 7-bit length prefix + UTF-8), int32 rank r, r × int64 dims,
///               product(dims) × float32 values
///   32 bytes  SHA-256 of every byte before it
/// </code>
/// The checksum is verified before anything is parsed, so a truncated or damaged file is refused as a whole; nothing in
/// the file is ever executed. A file of a newer format version is refused with the version numbers.
/// </summary>
internal static class VaeModelFile
{
    public const int CurrentVersion = 1;
    private static readonly byte[] Magic = "MLNETVAE"u8.ToArray();
    private const int HashLength = 32;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = false,
        // A model loaded from an older file has no reconstruction baseline (NaN); saving it again must still work.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public static void Write(Stream destination, VaeModelMetadata metadata, VaeModel model)
    {
        using var content = new MemoryStream();
        using (var writer = new BinaryWriter(content, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(CurrentVersion);
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(metadata, Json);
            writer.Write(json.Length);
            writer.Write(json);
            var parameters = model.Network.named_parameters().ToList();
            writer.Write(parameters.Count);
            foreach (var (name, parameter) in parameters)
            {
                writer.Write(name);
                writer.Write(parameter.shape.Length);
                foreach (long dimension in parameter.shape) writer.Write(dimension);
                float[] values = TensorCopy.ToArray(parameter);
                writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
            }
        }
        byte[] body = content.ToArray();
        destination.Write(body);
        destination.Write(SHA256.HashData(body));
    }

    public static (VaeModelMetadata Metadata, VaeModel Model) Read(Stream source)
    {
        byte[] bytes = ReadToEnd(source);
        if (bytes.Length < Magic.Length || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw Invalid("it is not an MLNet.Vae model (the 'MLNETVAE' header is missing)");
        if (bytes.Length < Magic.Length + 8 + HashLength)
            throw Invalid("it ends right after its header (the file is truncated or damaged)");
        int version = BitConverter.ToInt32(bytes, Magic.Length);
        if (version > CurrentVersion)
            throw Invalid($"it was written in format version {version}, and this version of MLNet.Vae reads versions up to {CurrentVersion}; upgrade MLNet.Vae to load it");
        if (version < 1)
            throw Invalid($"its format version {version} is not valid");
        var body = bytes.AsSpan(0, bytes.Length - HashLength);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - HashLength)))
            throw Invalid("its checksum does not match its content (the file is truncated or damaged)");

        using var reader = new BinaryReader(new MemoryStream(bytes, 0, body.Length, writable: false), Encoding.UTF8);
        reader.ReadBytes(Magic.Length + 4);
        VaeModelMetadata metadata;
        try
        {
            metadata = JsonSerializer.Deserialize<VaeModelMetadata>(reader.ReadBytes(reader.ReadInt32()), Json)
                ?? throw Invalid("its metadata is empty");
            metadata.Options.Validate();
        }
        catch (Exception e) when (e is JsonException or ArgumentOutOfRangeException or NotSupportedException)
        {
            throw Invalid($"its metadata cannot be read ({e.Message})");
        }
        var tensors = ReadTensors(reader);
        return (metadata, Restore(metadata, tensors));
    }

    private static Dictionary<string, (long[] Shape, float[] Values)> ReadTensors(BinaryReader reader)
    {
        try
        {
            int count = reader.ReadInt32();
            if (count < 0 || count > 10_000) throw Invalid($"it declares {count} weight tensors");
            var tensors = new Dictionary<string, (long[], float[])>(StringComparer.Ordinal);
            for (int t = 0; t < count; t++)
            {
                string name = reader.ReadString();
                int rank = reader.ReadInt32();
                if (rank < 1 || rank > 8) throw Invalid($"weight '{name}' has rank {rank}");
                var shape = new long[rank];
                long elements = 1;
                for (int i = 0; i < rank; i++)
                {
                    shape[i] = reader.ReadInt64();
                    if (shape[i] < 1 || shape[i] > int.MaxValue) throw Invalid($"weight '{name}' has dimension {shape[i]}");
                    elements *= shape[i];
                }
                long remaining = reader.BaseStream.Length - reader.BaseStream.Position;
                if (elements * sizeof(float) > remaining) throw Invalid($"weight '{name}' is larger than the rest of the file");
                var values = new float[elements];
                reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
                tensors[name] = (shape, values);
            }
            if (reader.BaseStream.Position != reader.BaseStream.Length) throw Invalid("it has bytes after its last weight");
            return tensors;
        }
        catch (EndOfStreamException)
        {
            throw Invalid("its weights end early");
        }
    }

    private static VaeModel Restore(VaeModelMetadata metadata, Dictionary<string, (long[] Shape, float[] Values)> tensors)
    {
        bool convolutional = metadata.Options.Architecture == VaeArchitecture.Convolutional;
        if (metadata.InputWidth < 1 || metadata.HiddenSizes.Any(h => h < 1) || (!convolutional && metadata.HiddenSizes.Length == 0)
            || (metadata.ImageShape is { } shape && shape.Size != metadata.InputWidth) || (convolutional && metadata.ImageShape is null))
            throw Invalid("its metadata describes an impossible network");
        bool gaussian = metadata.Options.Likelihood == VaeLikelihood.Gaussian;
        if (gaussian && (metadata.FeatureMean?.Length != metadata.InputWidth || metadata.FeatureScale?.Length != metadata.InputWidth))
            throw Invalid("its standardization does not match its input width");
        VaeNetwork network;
        try
        {
            network = metadata.ToNetworkSpec().Build();
        }
        catch (ArgumentException e)
        {
            throw Invalid($"its metadata describes an impossible network ({e.Message})");
        }
        try
        {
            var parameters = network.named_parameters().ToList();
            if (parameters.Count != tensors.Count)
                throw Invalid($"it holds {tensors.Count} weight tensors where its metadata describes a network of {parameters.Count}");
            using (no_grad())
            {
                foreach (var (name, parameter) in parameters)
                {
                    if (!tensors.TryGetValue(name, out var stored))
                        throw Invalid($"weight '{name}' of the network its metadata describes is missing");
                    if (!stored.Shape.SequenceEqual(parameter.shape))
                        throw Invalid($"weight '{name}' has shape [{string.Join(", ", stored.Shape)}] where its metadata implies [{string.Join(", ", parameter.shape)}]");
                    using var values = TensorCopy.FromRows(stored.Values, 1, stored.Values.Length);
                    using var shaped = values.view(stored.Shape);
                    parameter.copy_(shaped);
                }
            }
        }
        catch
        {
            network.Dispose();
            throw;
        }
        var standardization = gaussian ? new FeatureStandardization(metadata.FeatureMean!, metadata.FeatureScale!) : null;
        return new VaeModel(network, metadata.Options.Likelihood, metadata.Options.ScoreKind, standardization);
    }

    private static byte[] ReadToEnd(Stream source)
    {
        using var copy = new MemoryStream();
        source.CopyTo(copy);
        return copy.ToArray();
    }

    private static InvalidDataException Invalid(string why) => new($"Cannot load the VAE model: {why}.");
}
