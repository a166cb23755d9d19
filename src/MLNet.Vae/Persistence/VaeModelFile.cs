using MLNet.Vae.Tensors;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MLNet.Vae.Model;
using MLNet.Vae.Network;
using static TorchSharp.torch;
using MLNet.Vae.Scoring;

namespace MLNet.Vae.Persistence;

/// <summary>
/// The metadata of format version 1: the public options as they were, plus the fitted state. Read only, so that files of
/// the first release (test/MLNet.Vae.Tests/Fixtures/v1) keep loading; fields added during version 1 are nullable.
/// </summary>
internal sealed record VaeModelMetadataV1(
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
    VaeImageShape? ImageShape = null);

/// <summary>
/// The metadata of format version 2: the network spec itself and the fitted state, in records of this file's own, so
/// renaming a public option cannot break a saved model. <see cref="TrainingOptions"/> is the options object as written,
/// read back leniently for <see cref="VaeTransformer.Options"/>; nothing that scores depends on it.
/// </summary>
internal sealed record VaeModelMetadataV2(
    string LibraryVersion,
    VaeNetworkSpec Network,
    VaeLikelihood Likelihood,
    VaeScoreKind ScoreKind,
    VaeOutOfDomainInput OutOfDomainInput,
    SavedColumns Columns,
    float Threshold,
    float[]? FeatureMean,
    float[]? FeatureScale,
    VaeTrainingSummary Training,
    JsonElement? TrainingOptions,
    ScoreCalibration? Calibration = null,
    IReadOnlyList<SavedMember>? Members = null,
    int[]? LogFeatures = null);

/// <summary>
/// One model of an ensemble (format version 3): its calibration of <see cref="VaeScoreKind.ReconstructionAndLatent"/> and
/// where its training scores sit. Its weights are the tensors named "member{k}." + the parameter's name (none for the first).
/// </summary>
internal sealed record SavedMember(ScoreCalibration? Calibration, float ScoreCenter, float ScoreScale);

/// <summary>The input and output column names a saved model scores with.</summary>
internal sealed record SavedColumns(string Feature, string Latent, string Score, string PredictedLabel, string? PValue = null, string? FeatureScores = null);

/// <summary>What a model file holds: everything a transformer is made of.</summary>
internal sealed record SavedModel(VaeOptions Options, VaeEnsemble Models, float Threshold, VaeTrainingSummary Training);

/// <summary>A file's metadata in one form whatever its version, before the weights are read.</summary>
internal sealed record SavedState(VaeOptions Options, VaeNetworkSpec Network, float Threshold, float[]? FeatureMean, float[]? FeatureScale,
    VaeTrainingSummary Training, ScoreCalibration? Calibration = null, IReadOnlyList<SavedMember>? Members = null, int[]? LogFeatures = null)
{
    /// <summary>The logarithms the members' rows carry (<see cref="LogFeatures"/> of a version-5 file), or null.</summary>
    public Model.LogFeatures? Logs => LogFeatures is { } features ? new Model.LogFeatures(Network.InputWidth - features.Length, features) : null;

    /// <summary>Each model's score kind with its calibration, restored and checked by <c>Validate</c>.</summary>
    public IReadOnlyList<ScoreKindModel> Kinds { get; init; } = [];

    /// <summary>How many models the file holds: 1, or an ensemble's members.</summary>
    public int ModelCount => Members?.Count ?? 1;
}

/// <summary>
/// The one model format of the library. Layout (little-endian):
/// <code>
///   8 bytes   magic "MLNETVAE"
///   int32     format version: 4 (<see cref="ScaledVersion"/>): 1 to 32 models, each with its score scale; 5
///             (<see cref="CurrentVersion"/>): the same with the logarithms of skewed features appended to the rows (LogFeatures);
///             read also: 1, 2 (one model, raw scores), 3 (2 to 32 models)
///   int32     metadata length m, then m bytes of UTF-8 JSON (<see cref="VaeModelMetadataV2"/>, with Members from version 3;
///             version 1: <see cref="VaeModelMetadataV1"/>)
///   int32     tensor count t, then t times:
///               string name (BinaryWriter's 7-bit length prefix + UTF-8), int32 rank r, r × int64 dims,
///               product(dims) × float32 values
///   32 bytes  SHA-256 of every byte before it
/// </code>
/// A model file is data, never code: nothing in it is executed or names a type to create. Reading checks the header first,
/// bounds every length by the network the metadata describes, verifies the checksum before parsing any weight and refuses
/// anything malformed with an <see cref="InvalidDataException"/> naming the field. The checksum detects damage, not
/// tampering: it is not keyed, so a model's authenticity is the caller's to establish (docs/persistence.md).
/// </summary>
internal static class VaeModelFile
{
    /// <summary>
    /// Every fitted model is written in this version: its Members (1 to 32) carry the score scale, so that a release that
    /// would score raw units refuses the file by its version instead of labelling with a threshold in other units.
    /// </summary>
    public const int ScaledVersion = 4;
    /// <summary>
    /// The newest version, written for a model whose rows carry appended logarithms: a release that knows nothing of them
    /// refuses the file by its version instead of scoring rows without them. Every version up to it is read.
    /// </summary>
    public const int CurrentVersion = 5;
    /// <summary>A model read from a version-2 file (one model, raw scores) is written back in its own version.</summary>
    private const int UnscaledVersion = 2;
    /// <summary>The ensembles of the releases before the one score scale (2 to 32 models).</summary>
    private const int EnsembleVersion = 3;
    /// <summary>The prefix of member k's weight names (k ≥ 1) in an ensemble's file.</summary>
    private static string MemberPrefix(int k) => k == 0 ? "" : $"member{k}.";
    private static readonly byte[] Magic = "MLNETVAE"u8.ToArray();
    private const int HashLength = 32;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = false,
        // A model loaded from an older file has no reconstruction baseline (NaN); saving it again must still work.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>
    /// Writes a fitted model in format version 2, or an ensemble in version 3, straight from the weights' storage into
    /// <paramref name="destination"/>, hashing as it goes: no copy of the weights is made (a 300 MB model took 9 s and 1.7 GB
    /// more to save through two intermediate buffers on a machine where fresh memory costs 3.5 ms a MB).
    /// </summary>
    public static void Write(Stream destination, VaeOptions options, VaeEnsemble models, float threshold, VaeTrainingSummary training) =>
        Prepare(options, models, threshold, training).WriteTo(destination);

    /// <summary>The model file's bytes in one array of exactly its length.</summary>
    public static byte[] ToBytes(VaeOptions options, VaeEnsemble models, float threshold, VaeTrainingSummary training)
    {
        var file = Prepare(options, models, threshold, training);
        var bytes = new byte[file.Length];
        using (var stream = new MemoryStream(bytes, writable: true)) file.WriteTo(stream);
        return bytes;
    }

    private static PreparedFile Prepare(VaeOptions options, VaeEnsemble models, float threshold, VaeTrainingSummary training)
    {
        var model = models.First;
        var metadata = new VaeModelMetadataV2(
            LibraryVersion: typeof(VaeModelFile).Assembly.GetName().Version?.ToString() ?? "0",
            Network: model.Network.Spec,
            Likelihood: model.Likelihood,
            ScoreKind: model.ScoreKind,
            OutOfDomainInput: options.OutOfDomainInput,
            Columns: new SavedColumns(options.FeatureColumnName, options.LatentColumnName, options.ScoreColumnName, options.PredictedLabelColumnName,
                options.PValueColumnName, options.FeatureScoresColumnName),
            Threshold: threshold,
            FeatureMean: model.Standardization?.Mean,
            FeatureScale: model.Standardization?.Scale,
            Training: training,
            TrainingOptions: JsonSerializer.SerializeToElement(options, Json),
            // From version 4 each member holds its own calibration; one copy at the top would be a second source of truth.
            Calibration: models.IsScaled ? null : model.Kind.Saved,
            Members: models.IsScaled ? models.Members.Select((m, k) => new SavedMember(m.Kind.Saved, models.Scales[k].Center, models.Scales[k].Scale)).ToList() : null,
            LogFeatures: models.Logs?.Features);
        // The format holds parameters only: a network with buffers (batch norm statistics) would load without them.
        if (model.Network.named_buffers().Any())
            throw new NotSupportedException("This network has buffers, which the model format cannot hold.");
        var parameters = models.Members.SelectMany((m, k) => m.Network.named_parameters().Select(p => (Name: MemberPrefix(k) + p.name, Tensor: (Tensor)p.parameter))).ToList();
        int version = models.Logs is not null ? CurrentVersion : models.IsScaled ? ScaledVersion : UnscaledVersion;
        return new PreparedFile(version, JsonSerializer.SerializeToUtf8Bytes(metadata, Json), parameters);
    }

    /// <summary>A file ready to be written: its header fields, metadata and the tensors whose storage is written as it is.</summary>
    private sealed record PreparedFile(int Version, byte[] Json, IReadOnlyList<(string Name, Tensor Tensor)> Parameters)
    {
        public long Length => Magic.Length + 4 + 4 + Json.Length + 4
            + Parameters.Sum(p => SevenBitLength(Encoding.UTF8.GetByteCount(p.Name)) + Encoding.UTF8.GetByteCount(p.Name) + 4 + 8L * p.Tensor.shape.Length + 4 * p.Tensor.numel())
            + HashLength;

        public void WriteTo(Stream destination)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using (var hashed = new HashingWriteStream(destination, hash))
            using (var writer = new BinaryWriter(hashed, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(Version);
                writer.Write(Json.Length);
                writer.Write(Json);
                writer.Write(Parameters.Count);
                foreach (var (name, tensor) in Parameters)
                {
                    writer.Write(name);
                    writer.Write(tensor.shape.Length);
                    foreach (long dimension in tensor.shape) writer.Write(dimension);
                    writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(TensorCopy.Floats(tensor)));
                }
            }
            destination.Write(hash.GetHashAndReset());
        }

        private static int SevenBitLength(int value) => value < 1 << 7 ? 1 : value < 1 << 14 ? 2 : value < 1 << 21 ? 3 : value < 1 << 28 ? 4 : 5;
    }

    /// <summary>Passes every byte written on to the destination and into the hash.</summary>
    private sealed class HashingWriteStream(Stream destination, IncrementalHash hash) : Stream
    {
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            destination.Write(buffer);
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void WriteByte(byte value) => Write([value]);
        public override void Flush() => destination.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>The longest metadata a model may carry: far above any real one (a few KB plus the history).</summary>
    private const int MaximumMetadataBytes = 64 << 20;
    /// <summary>Bytes a weight may take besides its values: its name, rank and dimensions.</summary>
    private const int MaximumTensorHeaderBytes = 1024;

    /// <summary>
    /// Reads a model written by <see cref="Write"/>, safely for untrusted bytes: the header is checked before anything
    /// else is read; the metadata's objects and lists are counted (<see cref="MetadataBounds"/>) before it is deserialized;
    /// every length is checked before it is used; a stream that knows its length must hold exactly the network the metadata
    /// describes before any weight is read (so a stream that never ends or a zip bomb is refused early); names and shapes
    /// are compared with the network before each weight's values are read; and the checksum is verified before any native
    /// memory is reserved.
    /// </summary>
    /// <exception cref="InvalidDataException">Anything malformed; the message names the field.</exception>
    public static SavedModel Read(Stream source)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var reader = new HashingReader(source, hash);
        byte[] header = reader.ReadUpTo(Magic.Length + 8);
        if (header.Length < Magic.Length || !header.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw Invalid("it is not an MLNet.Vae model (the 'MLNETVAE' header is missing)");
        if (header.Length < Magic.Length + 8)
            throw Invalid("it ends right after its header (the file is truncated or damaged)");
        int version = BitConverter.ToInt32(header, Magic.Length);
        if (version > CurrentVersion)
            throw Invalid($"it declares format version {version}, and this version of MLNet.Vae reads versions 1 to {CurrentVersion}: " +
                          "it was written by a newer MLNet.Vae (upgrade MLNet.Vae to load it), or the file is damaged");
        if (version < 1)
            throw Invalid($"its format version {version} is not valid (the file is damaged)");
        int metadataLength = BitConverter.ToInt32(header, Magic.Length + 4);
        if (metadataLength < 2 || metadataLength > MaximumMetadataBytes)
            throw Invalid($"its metadata length {metadataLength} is outside 2 to {MaximumMetadataBytes} bytes (the file is damaged)");
        byte[] json = reader.ReadUpTo(metadataLength);
        if (json.Length < metadataLength) throw Invalid("its metadata ends early (the file is truncated or damaged)");
        MetadataBounds.Check(json);

        var state = Validate(version == 1 ? ParseVersion1(json) : ParseVersion2(json), version);
        var spec = state.Network;
        var expected = Enumerable.Range(0, state.ModelCount)
            .SelectMany(k => spec.ParameterShapes().Select(p => (MemberPrefix(k) + p.Name, p.Shape))).ToList();
        long weightBytes = checked(spec.ParameterCount() * sizeof(float) * state.ModelCount);
        // The rest: the tensor count, each tensor's header and values, the checksum.
        long restMinimum = 4 + weightBytes + HashLength;
        long restLimit = 4 + expected.Count * (long)MaximumTensorHeaderBytes + weightBytes + HashLength;
        if (source.CanSeek)
        {
            long rest = source.Length - source.Position;
            if (rest < restMinimum)
                throw Invalid($"its weights end early: the network its metadata describes ({spec.Describe()}, {weightBytes:N0} bytes of weights) " +
                              $"does not fit in the {rest:N0} bytes after its metadata (the file is truncated or damaged)");
            if (rest > restLimit)
                throw Invalid($"it holds more bytes than the network its metadata describes ({spec.Describe()}, {spec.ParameterCount()} weights)");
        }
        var tensors = ReadTensors(reader, expected);
        byte[] computed = hash.GetHashAndReset();
        byte[] stored = reader.ReadUpTo(HashLength, hashed: false);
        if (stored.Length < HashLength) throw Invalid("its weights end early (the file is truncated or damaged)");
        if (reader.ReadUpTo(1, hashed: false).Length > 0) throw Invalid("it has bytes after its last weight (the file is damaged)");
        if (!computed.AsSpan().SequenceEqual(stored))
            throw Invalid("its checksum does not match its content (the file is truncated or damaged)");
        foreach (var (name, values) in tensors)
            if (VaeModel.FirstOutOfDomain(values) >= 0) throw Invalid($"weight '{name}' holds a value that is not finite");
        return new SavedModel(state.Options, Restore(state, tensors), state.Threshold, state.Training);
    }

    /// <summary>
    /// Reads the file's bytes in order, adding each to the checksum's hash (unless told not to): bounded reads only, whatever
    /// lengths the file declares.
    /// </summary>
    private sealed class HashingReader(Stream source, IncrementalHash hash)
    {
        private readonly byte[] _scalar = new byte[8];

        /// <summary>
        /// Up to <paramref name="count"/> bytes (fewer only at the end of the stream): allocated at once when the stream holds
        /// them, else from 1 MiB doubling as bytes arrive.
        /// </summary>
        public byte[] ReadUpTo(int count, bool hashed = true)
        {
            bool known = source.CanSeek && source.Length - source.Position >= count;
            var bytes = new byte[known ? count : Math.Min(count, 1 << 20)];
            int read = 0;
            while (read < count)
            {
                if (read == bytes.Length) Array.Resize(ref bytes, (int)Math.Min(count, 2L * bytes.Length));
                int n = source.Read(bytes, read, bytes.Length - read);
                if (n == 0) break;
                read += n;
            }
            if (read < bytes.Length) Array.Resize(ref bytes, read);
            if (hashed) hash.AppendData(bytes);
            return bytes;
        }

        /// <summary>Fills <paramref name="destination"/>; false when the stream ends first.</summary>
        public bool TryRead(Span<byte> destination)
        {
            int read = source.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
            hash.AppendData(destination[..read]);
            return read == destination.Length;
        }

        public int ReadInt32() => BitConverter.ToInt32(Scalar(4));
        public long ReadInt64() => BitConverter.ToInt64(Scalar(8));

        /// <summary>A string as BinaryWriter writes it (a 7-bit encoded byte count, then UTF-8), of at most <paramref name="maximumBytes"/> bytes.</summary>
        public string ReadString(int maximumBytes)
        {
            int length = 0;
            for (int shift = 0; ; shift += 7)
            {
                if (shift > 28) throw Invalid("a weight's name has a length that is not valid (the file is damaged)");
                byte b = Scalar(1)[0];
                length |= (b & 0x7F) << shift;
                if ((b & 0x80) == 0) break;
            }
            if (length < 0 || length > maximumBytes) throw Invalid($"a weight's name is {length} bytes long, more than {maximumBytes} (the file is damaged)");
            var bytes = new byte[length];
            if (!TryRead(bytes)) throw Invalid("its weights end early");
            return Encoding.UTF8.GetString(bytes);
        }

        private ReadOnlySpan<byte> Scalar(int size)
        {
            if (!TryRead(_scalar.AsSpan(0, size))) throw Invalid("its weights end early");
            return _scalar.AsSpan(0, size);
        }
    }

    private static T Deserialize<T>(byte[] json) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Json) ?? throw Invalid("its metadata is empty");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or FormatException or InvalidOperationException)
        {
            // The metadata is read before the checksum (it bounds what is read after it), so damage there shows here.
            throw Invalid($"its metadata cannot be read, so the file is damaged or not from MLNet.Vae ({e.Message})");
        }
    }

    /// <summary>Version 1 stored the public options: the network comes from them and the recorded hidden sizes.</summary>
    private static SavedState ParseVersion1(byte[] json)
    {
        var metadata = Deserialize<VaeModelMetadataV1>(json);
        RequirePresent(("Options", metadata.Options), ("HiddenSizes", metadata.HiddenSizes), ("TrainingHistory", metadata.TrainingHistory));
        var options = metadata.Options!;
        RequireValid(options, "Options");
        var training = new VaeTrainingSummary(
            metadata.TrainingHistory!.Select(r => r?.KlPerDimension is null && r is not null ? r with { KlPerDimension = [] } : r!).ToList(),
            metadata.TrainingWarnings ?? [],
            metadata.BestEpoch ?? metadata.TrainingHistory!.Count,
            metadata.ReconstructionBaseline ?? double.NaN);
        return new SavedState(options, options.ToNetworkSpec(metadata.InputWidth, metadata.ImageShape, metadata.HiddenSizes),
            metadata.Threshold, metadata.FeatureMean, metadata.FeatureScale, training);
    }

    /// <summary>
    /// Version 2 stored the spec and the fitted state; the options as written are read leniently (an option renamed or
    /// removed since falls back to its default) and then made to agree with what the model is.
    /// </summary>
    private static SavedState ParseVersion2(byte[] json)
    {
        var metadata = Deserialize<VaeModelMetadataV2>(json);
        RequirePresent(("Network", metadata.Network), ("Columns", metadata.Columns), ("Training", metadata.Training));
        var network = metadata.Network!;
        RequirePresent(("Network.HiddenSizes", network.HiddenSizes), ("Network.ConvolutionChannels", network.ConvolutionChannels));
        Require(network.InputWidth >= 1, "Network.InputWidth", $"is {network.InputWidth}");
        Require(network.LatentDimension >= 1, "Network.LatentDimension", $"is {network.LatentDimension}");
        Require(network.HiddenSizes!.All(h => h >= 1), "Network.HiddenSizes", "holds a width below 1");
        Require(network.ConvolutionChannels!.All(c => c >= 1), "Network.ConvolutionChannels", "holds a count below 1");
        VaeOptions options;
        try
        {
            options = metadata.TrainingOptions is { } saved ? saved.Deserialize<VaeOptions>(Json) ?? new VaeOptions() : new VaeOptions();
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            options = new VaeOptions();
        }
        var columns = metadata.Columns!;
        options.FeatureColumnName = columns.Feature;
        options.LatentColumnName = columns.Latent;
        options.ScoreColumnName = columns.Score;
        options.PredictedLabelColumnName = columns.PredictedLabel;
        options.PValueColumnName = columns.PValue;
        options.FeatureScoresColumnName = columns.FeatureScores;
        options.Architecture = network.Architecture;
        options.LatentDimension = network.LatentDimension;
        options.ImageShape = network.ImageShape;
        options.LogVarianceLimit = network.LogVarianceLimit;
        if (network.Architecture == VaeArchitecture.Convolutional) options.ConvolutionChannels = network.ConvolutionChannels!.ToArray();
        else options.HiddenLayerSizes = network.HiddenSizes!.ToArray();
        options.Likelihood = metadata.Likelihood;
        options.ScoreKind = metadata.ScoreKind;
        options.OutOfDomainInput = metadata.OutOfDomainInput;
        RequireValid(options, "Network, Columns, Likelihood or ScoreKind");
        return new SavedState(options, network, metadata.Threshold, metadata.FeatureMean, metadata.FeatureScale, metadata.Training!, metadata.Calibration,
            metadata.Members, metadata.LogFeatures);
    }

    /// <summary>Refuses a file whose JSON left any of these fields out (null).</summary>
    private static void RequirePresent(params (string Field, object? Value)[] fields)
    {
        foreach (var (field, value) in fields) Require(value is not null, field, "is missing");
    }

    private static void RequireValid(VaeOptions options, string field)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw Invalid($"its metadata field {field} is not valid ({e.Message})");
        }
    }

    /// <summary>Checks what every version must hold, field by field, before anything is allocated for it.</summary>
    private static SavedState Validate(SavedState state, int version)
    {
        // Members belong to versions 3 (2 to 32 models) and 4 (1 to 32): an older reader would take an ensemble's file for one
        // model, and a scaled model's for raw scores.
        int fewestMembers = version == EnsembleVersion ? 2 : 1;
        Require(version >= EnsembleVersion ? state.Members is { } listed && listed.Count >= fewestMembers && listed.Count <= 32 : state.Members is null, "Members",
            version >= EnsembleVersion ? $"does not list {fewestMembers} to 32 models" : $"is not allowed in format version {version}");
        Require(version < ScaledVersion || state.Calibration is null, "Calibration", $"is not allowed in format version {version} (each of Members holds its own)");
        // Appended logarithms belong to version 5, of a table's model (Gaussian likelihood, MLP, no image shape).
        Require(version == CurrentVersion ? state.LogFeatures is not null : state.LogFeatures is null, "LogFeatures",
            version == CurrentVersion ? "is missing" : $"is not allowed in format version {version}");
        if (state.Logs is { } logs)
        {
            Require(logs.IsValidFor(state.Network.InputWidth), "LogFeatures",
                $"does not list, in ascending order, 1 to {state.Network.InputWidth - 1} features below the input width of the rows without them");
            Require(state.Options.Likelihood == VaeLikelihood.Gaussian && state.Network.Architecture == VaeArchitecture.Mlp && state.Network.ImageShape is null,
                "LogFeatures", "is set for a model that is not a table's (Gaussian likelihood, MLP, no image shape)");
        }
        if (state.Members is { } savedMembers)
            Require(savedMembers.All(m => m is not null && new MemberScale(m.ScoreCenter, m.ScoreScale).IsValid), "Members",
                "holds a model without a finite score centre and a positive finite score scale");
        var network = state.Network;
        Require(network.InputWidth >= 1, "InputWidth", $"is {network.InputWidth}");
        Require(network.HiddenSizes.All(h => h >= 1), "HiddenSizes", "holds a width below 1");
        bool convolutional = network.Architecture == VaeArchitecture.Convolutional;
        Require(convolutional || network.HiddenSizes.Length >= 1, "HiddenSizes", "is empty for an MLP");
        Require(!convolutional || network.ImageShape is not null, "ImageShape", "is missing for a convolutional network");
        if (network.ImageShape is { } shape)
        {
            Require(shape.Channels >= 1 && shape.Height >= 1 && shape.Width >= 1, "ImageShape", $"is {shape}");
            Require(shape.Size == network.InputWidth, "ImageShape", $"holds {shape.Size} values where InputWidth is {network.InputWidth}");
        }
        Require(network.PriorComponents is >= 0 and <= 64, "PriorComponents", $"is {network.PriorComponents}, not 0 to 64");
        Require(float.IsFinite(state.Threshold), "Threshold", $"is {state.Threshold}, not a finite number");
        var training = state.Training;
        Require(training.History is not null && training.History.All(r => r is not null && r.KlPerDimension is not null), "TrainingHistory", "is missing");
        Require(training.Warnings is not null && training.Warnings.All(w => w is not null), "TrainingWarnings", "is missing or holds an empty entry");
        Require(training.TrainingScores.All(s => !float.IsNaN(s)), "TrainingScores", "holds NaN");
        Require(training.TrainingScores.Zip(training.TrainingScores.Skip(1)).All(p => p.First <= p.Second), "TrainingScores", "is not sorted");
        if (state.Options.Likelihood == VaeLikelihood.Gaussian)
        {
            Require(state.FeatureMean?.Length == network.InputWidth, "FeatureMean", "does not match the input width");
            Require(state.FeatureScale?.Length == network.InputWidth, "FeatureScale", "does not match the input width");
            Require(state.FeatureMean!.All(float.IsFinite), "FeatureMean", "holds a value that is not finite");
            Require(state.FeatureScale!.All(s => float.IsFinite(s) && s > 0), "FeatureScale", "holds a value that is not positive and finite");
        }
        // Each model's kind restored from its calibration: a kind checks what it needs (an InvalidDataException names the field).
        var context = new ScoreKindContext(state.Options.Likelihood, network.InputWidth, network.LatentDimension, state.FeatureScale);
        var kinds = state.Members is { } members
            ? members.Select(m => ScoreKinds.Create(state.Options.ScoreKind!.Value, context).Restored(m.Calibration, "Members.Calibration")).ToList()
            : [ScoreKinds.Create(state.Options.ScoreKind!.Value, context).Restored(state.Calibration, "Calibration")];
        try
        {
            Require(network.ParameterCount() * state.ModelCount <= VaeNetworkSpec.MaximumParameters, "HiddenSizes",
                $"describes {state.ModelCount} network(s) of {network.ParameterCount()} weights, more than the {VaeNetworkSpec.MaximumParameters} in all the library builds");
        }
        catch (Exception e) when (e is ArgumentException or OverflowException)
        {
            throw Invalid($"its metadata describes an impossible network ({e.Message})");
        }
        return state with { Kinds = kinds };
    }

    /// <summary>
    /// Reads the tensors, checking each name and shape against the network before its values are read: at most the weights
    /// the metadata describes are allocated, each when its header matches.
    /// </summary>
    private static Dictionary<string, float[]> ReadTensors(HashingReader reader, IReadOnlyList<(string Name, long[] Shape)> expected)
    {
        int count = reader.ReadInt32();
        if (count != expected.Count)
            throw Invalid($"it holds {count} weight tensors where its metadata describes a network of {expected.Count}");
        var byName = expected.ToDictionary(p => p.Name, p => p.Shape, StringComparer.Ordinal);
        var tensors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (int t = 0; t < count; t++)
        {
            string name = reader.ReadString(MaximumTensorHeaderBytes);
            if (!byName.TryGetValue(name, out var shape) || tensors.ContainsKey(name))
                throw Invalid($"weight '{Printable(name)}' is not one of the network its metadata describes, or appears twice");
            int rank = reader.ReadInt32();
            if (rank < 1 || rank > 8) throw Invalid($"weight '{name}' has rank {rank}");
            var stored = new long[rank];
            for (int i = 0; i < rank; i++) stored[i] = reader.ReadInt64();
            if (!stored.SequenceEqual(shape))
                throw Invalid($"weight '{name}' has shape [{string.Join(", ", stored)}] where its metadata implies [{string.Join(", ", shape)}]");
            var values = new float[shape.Aggregate(1L, (product, d) => product * d)];
            if (!reader.TryRead(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())))
                throw Invalid("its weights end early");
            tensors[name] = values;
        }
        return tensors;
    }

    /// <summary>Builds every model the file holds and combines them as they were.</summary>
    private static VaeEnsemble Restore(SavedState state, Dictionary<string, float[]> tensors)
    {
        if (state.Members is not { } members) return VaeEnsemble.Unscaled(Restore(state, tensors, 0));
        var models = new List<VaeModel>();
        try
        {
            for (int k = 0; k < members.Count; k++) models.Add(Restore(state, tensors, k));
            return new VaeEnsemble(models, members.Select(m => new MemberScale(m.ScoreCenter, m.ScoreScale)).ToList(), state.Logs);
        }
        catch
        {
            foreach (var model in models) model.Dispose();
            throw;
        }
    }

    private static VaeModel Restore(SavedState state, Dictionary<string, float[]> tensors, int member)
    {
        var network = state.Network.Build();
        try
        {
            using (no_grad())
            {
                foreach (var (name, parameter) in network.named_parameters())
                {
                    var stored = tensors[MemberPrefix(member) + name];
                    using var values = TensorCopy.FromRows(stored, 1, stored.Length);
                    using var shaped = values.view(parameter.shape);
                    parameter.copy_(shaped);
                }
            }
        }
        catch
        {
            network.Dispose();
            throw;
        }
        bool gaussian = state.Options.Likelihood == VaeLikelihood.Gaussian;
        var standardization = gaussian ? new FeatureStandardization(state.FeatureMean!, state.FeatureScale!) : null;
        return new VaeModel(network, state.Options.Likelihood, state.Kinds[member], standardization);
    }

    private static void Require(bool condition, string field, string problem)
    {
        if (!condition) throw Invalid($"its metadata field {field} {problem}");
    }

    /// <summary>A name from the file as it can be shown in a message: at most 64 printable characters.</summary>
    private static string Printable(string text) =>
        new(text.Take(64).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    private static InvalidDataException Invalid(string why) => new($"Cannot load the VAE model: {why}.");
}
