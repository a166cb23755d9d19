using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML;

namespace MLNet.Vae.ReliabilityProbe;

/// <summary>
/// Damaged, hand-crafted and hostile model files. Every one must either load into a model whose scores are never NaN,
/// or be refused with InvalidDataException; nothing else may escape, and no file may make the loader reserve more than
/// a bounded amount of memory. Crafted files carry a valid checksum (it is not keyed), so they reach the parser.
/// </summary>
internal static class ModelFileProbe
{
    private const int HashLength = 32;

    public static void Run(int count, int seed)
    {
        var ml = new MLContext(seed: 1);
        var bases = BaseFiles(ml);
        var crafted = Crafted(bases[0]).Concat(CraftedNeighbours(bases[2])).Concat(CraftedEnsemble(bases[3])).ToList();
        foreach (var (name, bytes, expected) in crafted)
        {
            var outcome = Load(ml, bytes);
            ProbeFailure.Unless(outcome is InvalidDataException e && e.Message.Contains(expected, StringComparison.Ordinal),
                $"crafted file '{name}': expected InvalidDataException mentioning '{expected}', got {Describe(outcome)}");
        }

        var random = new Random(seed);
        int refused = 0, loaded = 0;
        long before = Process.GetCurrentProcess().PeakWorkingSet64;
        for (int i = 0; i < count; i++)
        {
            byte[] original = bases[i % bases.Count];
            var (mutation, bytes) = Mutate(original, random);
            var outcome = Load(ml, bytes);
            if (outcome is InvalidDataException) { refused++; continue; }
            if (outcome is VaeTransformer model)
            {
                using (model) CheckScores(ml, model, mutation);
                loaded++;
                continue;
            }
            throw new ProbeFailure($"case {i} ({mutation}): {Describe(outcome)}");
        }
        long grown = Process.GetCurrentProcess().PeakWorkingSet64 - before;
        ProbeFailure.Unless(grown < MemoryBound, $"{count} fuzzed files grew the peak working set by {grown >> 20} MiB");
        Console.WriteLine($"{crafted.Count} crafted files refused by name; {count} fuzzed files (seed {seed}, {bases.Count} models, one an ensemble): " +
                          $"{refused} refused with InvalidDataException, {loaded} loaded and scored without NaN; peak working set grew {grown >> 20} MiB");
    }

    /// <summary>How much the peak working set may grow while the probes load hostile or damaged files.</summary>
    private const long MemoryBound = 256L << 20;

    /// <summary>Streams no model file should make the loader read without end or allocate for.</summary>
    public static void RunStreams()
    {
        var ml = new MLContext(seed: 1);
        byte[] model = BaseFiles(ml)[0];
        var (json, tensors) = Split(model);
        byte[] prefix = Build(json, [])[..^HashLength];
        string zip = Path.Combine(Path.GetTempPath(), $"mlnet-vae-bomb-{Environment.ProcessId}.zip");
        WriteZipBomb(ml, zip, prefix, zeros: 1L << 30);
        // Metadata bombs within the 64 MiB limit: objects cost two bytes in the file and hundreds in memory.
        var bombs = new (string Name, byte[] Bytes, string Expected)[]
        {
            ("20,000,000 empty warnings", Bomb(json, tensors, "\"Warnings\":[", "{},", 20_000_000), "holds more than 100,000 entries"),
            ("20,000,000 empty epochs", Bomb(json, tensors, "\"History\":[", "{},", 20_000_000), "holds more than 100,000 entries"),
            ("12,000,000 null members", Bomb(json, tensors, "\"Members\":[", "null,", 12_000_000), "holds more than 100,000 entries"),
            ("3,000,000 nested lists", Bomb(json, tensors, "\"Warnings\":[", "[[[[[[[[[[]]]]]]]]]],", 3_000_000), "objects and lists"),
        };
        long before = Process.GetCurrentProcess().PeakWorkingSet64, mostAllocated = 0;
        var clock = Stopwatch.StartNew();
        foreach (var (name, bytes, expected) in bombs)
        {
            // The peak working set cannot see a load below the high-water mark of building the bombs; what the load
            // allocates can: at most twice the file (its metadata read once, and what the bounds check parses).
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            Expect(Load(ml, bytes), expected, name);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            ProbeFailure.Unless(allocated < 2L * bytes.Length + (16L << 20), $"{name}: loading {bytes.Length >> 20} MiB allocated {allocated >> 20} MiB");
            mostAllocated = Math.Max(mostAllocated, allocated);
        }

        using (var zero = File.OpenRead("/dev/zero"))
            Expect(Load(ml, zero), "not an MLNet.Vae model", "/dev/zero");

        Expect(Load(ml, new EndlessStream(prefix)), "weight tensors where its metadata describes", "a valid header followed by endless zeros");

        string hugeJson = Regex.Replace(json, "\"HiddenSizes\":\\[[0-9,]*\\]", "\"HiddenSizes\":[10000000]");
        Expect(Load(ml, Build(hugeJson, [])), "weights end early", "3 KB declaring a hidden layer of 10,000,000");

        try
        {
            Exception? outcome = null;
            try { (ml.Model.Load(zip, out _) as IDisposable)?.Dispose(); }
            catch (Exception e) { outcome = e; }
            var inner = outcome;
            while (inner is not null and not InvalidDataException) inner = inner.InnerException;
            ProbeFailure.Unless(inner is InvalidDataException, $"zip bomb ({new FileInfo(zip).Length >> 10} KB, 1 GB inside): {Describe(outcome)}");
        }
        finally
        {
            File.Delete(zip);
        }
        long grown = Process.GetCurrentProcess().PeakWorkingSet64 - before;
        ProbeFailure.Unless(grown < MemoryBound, $"the hostile streams grew the peak working set by {grown >> 20} MiB");
        Console.WriteLine($"{bombs.Length} metadata bombs, /dev/zero, an endless stream, a 10,000,000-wide layer and a 1 GB zip bomb refused in " +
                          $"{clock.Elapsed.TotalSeconds:F1} s; peak working set grew {grown >> 20} MiB, a bomb's load allocated at most {mostAllocated >> 20} MiB");
    }

    private static List<byte[]> BaseFiles(MLContext ml)
    {
        var files = new List<byte[]>();
        // The Gaussian model with the retired density kind, whose calibration holds the most fields to damage; files of it still load.
        var gaussian = ProbeData.Options(epochs: 2);
#pragma warning disable CS0618
        gaussian.ScoreKind = VaeScoreKind.ReconstructionAndLatentDensity;
#pragma warning restore CS0618
        using (var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(gaussian).Fit(ml.Data.LoadFromEnumerable(ProbeData.Rows(64, seed: 1))))
            files.Add(Saved(model));
        using (var model = ProbeData.Fit(ml, VaeLikelihood.Bernoulli, rows: 64, epochs: 2))
            files.Add(Saved(model));
        var convolutional = ProbeData.Options(VaeLikelihood.Bernoulli, epochs: 1);
        convolutional.Architecture = VaeArchitecture.Convolutional;
        convolutional.ImageShape = new VaeImageShape(1, 2, 4);
        convolutional.ConvolutionChannels = [2];
        using (var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(convolutional)
                   .Fit(ml.Data.LoadFromEnumerable(ProbeData.Rows(32, seed: 1, unitInterval: true))))
            files.Add(Saved(model));
        var ensemble = ProbeData.Options(epochs: 1);
        ensemble.NumberOfModels = 2;
        using (var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(ensemble).Fit(ml.Data.LoadFromEnumerable(ProbeData.Rows(64, seed: 1))))
            files.Add(Saved(model));
        return files;
    }

    /// <summary>A file whose metadata has <paramref name="pattern"/> replaced, and the words its refusal must hold.</summary>
    private static (string, byte[], string) Edited(string json, byte[] tensors, string name, string pattern, string replacement, string expected, int version = 4)
    {
        string edited = Regex.Replace(json, pattern, replacement);
        if (edited == json) throw new ProbeFailure($"crafted file '{name}': the pattern {pattern} is not in the metadata");
        return (name, Build(edited, tensors, version), expected);
    }

    /// <summary>The convolutional default's calibration damaged: the stored training codes and the centres and scales of its two terms.</summary>
    private static IEnumerable<(string Name, byte[] Bytes, string Expected)> CraftedNeighbours(byte[] bernoulli)
    {
        var (json, tensors) = Split(bernoulli);
        (string, byte[], string) Json(string name, string pattern, string replacement, string expected) =>
            Edited(json, tensors, name, pattern, replacement, expected);
        yield return Json("neighbour score without its codes", "\"Neighbours\":\\{", "\"Neighbours\":null,\"x\":{", "Calibration.Neighbours");
        yield return Json("codes with a value too many", "\"Codes\":\\[", "\"Codes\":[1,", "Calibration.Neighbours");
        yield return Json("a NaN code", "\"Codes\":\\[", "\"Codes\":[\"NaN\",", "Calibration.Neighbours");
        yield return Json("k as many as the codes", "\"Neighbours\":[0-9]+", "\"Neighbours\":100000", "Calibration.Neighbours");
        yield return Json("negative k", "\"Neighbours\":[0-9]+", "\"Neighbours\":-1", "Calibration.Neighbours");
        yield return Json("zero neighbour scale", "\"NeighbourScale\":[^,}]*", "\"NeighbourScale\":0", "Calibration.Neighbours");
        yield return Json("infinite weighted centre", "\"WeightedCenter\":[^,}]*", "\"WeightedCenter\":\"Infinity\"", "Calibration.Neighbours");
    }

    /// <summary>The tables' default kind in an ensemble's file, each member's calibration damaged.</summary>
    private static IEnumerable<(string Name, byte[] Bytes, string Expected)> CraftedEnsemble(byte[] ensemble)
    {
        var (json, tensors) = Split(ensemble);
        yield return Edited(json, tensors, "ensemble member without its codes", "\"Neighbours\":\\{", "\"Neighbours\":null,\"x\":{", "Members.Calibration.Neighbours");
        yield return Edited(json, tensors, "ensemble member with a zero reconstruction scale", "\"ReconstructionScale\":[^,}]*", "\"ReconstructionScale\":0", "Members.Calibration");
    }

    private static IEnumerable<(string Name, byte[] Bytes, string Expected)> Crafted(byte[] gaussian)
    {
        var (json, tensors) = Split(gaussian);
        (string, byte[], string) Json(string name, string pattern, string replacement, string expected) =>
            Edited(json, tensors, name, pattern, replacement, expected);
        yield return Json("NaN threshold", "\"Threshold\":[^,]*", "\"Threshold\":\"NaN\"", "Threshold");
        yield return Json("infinite threshold", "\"Threshold\":[^,]*", "\"Threshold\":\"Infinity\"", "Threshold");
        yield return Json("zero scale", "\"FeatureScale\":\\[[^,\\]]*", "\"FeatureScale\":[0", "FeatureScale");
        yield return Json("NaN scale", "\"FeatureScale\":\\[[^,\\]]*", "\"FeatureScale\":[\"NaN\"", "FeatureScale");
        yield return Json("negative scale", "\"FeatureScale\":\\[[^,\\]]*", "\"FeatureScale\":[-1", "FeatureScale");
        yield return Json("NaN mean", "\"FeatureMean\":\\[[^,\\]]*", "\"FeatureMean\":[\"NaN\"", "FeatureMean");
        yield return Json("short scale", "\"FeatureScale\":\\[[^,\\]]*,", "\"FeatureScale\":[", "FeatureScale");
        yield return Json("hidden layer of 10,000,000", "\"HiddenSizes\":\\[[0-9,]*\\]", "\"HiddenSizes\":[10000000]", "does not fit in the");
        yield return Json("hidden layer of 100,000,000", "\"HiddenSizes\":\\[[0-9,]*\\]", "\"HiddenSizes\":[100000000]", "HiddenSizes");
        yield return Json("hidden layer of 0", "\"HiddenSizes\":\\[[0-9,]*\\]", "\"HiddenSizes\":[0]", "HiddenSizes");
        yield return Json("no hidden sizes", "\"HiddenSizes\":\\[[0-9,]*\\]", "\"HiddenSizes\":null", "HiddenSizes");
        yield return Json("no network", "\"Network\":\\{[^}]*\\}", "\"Network\":null", "Network");
        yield return Json("no columns", "\"Columns\":\\{[^}]*\\}", "\"Columns\":null", "Columns");
        yield return Json("negative width", "\"InputWidth\":[0-9]+", "\"InputWidth\":-3", "InputWidth");
        yield return Json("latent of 0", "\"LatentDimension\":[0-9]+", "\"LatentDimension\":0", "LatentDimension");
        yield return Json("unknown likelihood", "\"Likelihood\":\"[A-Za-z]+\"", "\"Likelihood\":\"Poisson\"", "metadata");
        yield return Json("empty score column", "\"Score\":\"Score\"", "\"Score\":\"\"", "Columns");
        yield return Json("no history", "\"History\":\\[", "\"History\":null,\"x\":[", "TrainingHistory");
        // The weighted score in a file without its weights (a ReconstructionAndLatentDensity model's calibration has none).
        yield return Json("weighted score without weights", "\"ScoreKind\":\"ReconstructionAndLatentDensity\"", "\"ScoreKind\":\"WeightedReconstructionError\"",
            "Calibration.FeatureWeights");
        yield return Json("density score without its mixture", "\"Density\":\\{", "\"Density\":null,\"x\":{", "Calibration.Density");
        yield return Json("mixture with a factor too many", "\"PrecisionFactors\":\\[", "\"PrecisionFactors\":[1,", "Calibration.Density");
        yield return Json("mixture with a negative factor diagonal", "\"PrecisionFactors\":\\[[^,]+", "\"PrecisionFactors\":[-1", "Calibration.Density");
        yield return ("NaN weight", Build(json, WithFloat(tensors, float.NaN)), "not finite");
        yield return ("infinite weight", Build(json, WithFloat(tensors, float.PositiveInfinity)), "not finite");
        yield return ("one tensor fewer", Build(json, WithInt(tensors, 0, BitConverter.ToInt32(tensors) - 1)), "weight tensors");
        yield return ("rank 0", Build(json, WithRank(tensors, 0)), "rank");
        // A name's 7-bit length prefix that never ends (BinaryReader threw FormatException).
        yield return ("endless name length", Build(json, [.. tensors[..4], 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, .. tensors[10..]]), "length that is not valid");
        yield return ("metadata length -1", WithInt(gaussian, 12, -1), "metadata length");
        yield return ("metadata length 2^31-1", WithInt(gaussian, 12, int.MaxValue), "metadata length");
        yield return ("format version 0", WithInt(gaussian, 8, 0), "not valid");
        yield return ("format version 6", WithInt(gaussian, 8, 6), "or the file is damaged");
        // Version 3 is the earlier ensembles': one scaled model's file relabelled as one has too few members.
        yield return ("format version 3 with one member", WithInt(gaussian, 8, 3), "Members does not list 2 to 32 models");
        // Version 2 scored raw units: a scaled model's file relabelled as one would label with a threshold in other units.
        yield return ("format version 2 with members", WithInt(gaussian, 8, 2), "Members is not allowed in format version 2");
        yield return Json("a second calibration beside the members'", "\"Calibration\":null", "\"Calibration\":{}", "Calibration is not allowed in format version 4");
        yield return Json("no members", "\"Members\":\\[", "\"Members\":[],\"x\":[", "Members does not list 1 to 32 models");
        yield return Json("a member with a zero score scale", "\"ScoreScale\":[^,}]*", "\"ScoreScale\":0", "positive finite score scale");
        yield return ("trailing bytes", Build(json, [.. tensors, 1, 2, 3, 4]), "bytes after its last weight");
    }

    private static (string Mutation, byte[] Bytes) Mutate(byte[] original, Random random)
    {
        var bytes = original.ToArray();
        string mutation;
        switch (random.Next(6))
        {
            case 0:
                int bits = random.Next(1, 5);
                for (int b = 0; b < bits; b++) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                mutation = $"{bits} flipped bits";
                break;
            case 1:
                int length = random.Next(bytes.Length);
                bytes = bytes[..length];
                mutation = $"truncated to {length} bytes";
                break;
            case 2:
                int start = random.Next(bytes.Length), count = random.Next(1, 64);
                for (int i = start; i < Math.Min(bytes.Length, start + count); i++) bytes[i] = (byte)random.Next(256);
                mutation = $"random bytes at {start}";
                break;
            case 3:
                int at = random.Next(bytes.Length);
                bytes = [.. bytes[..at], .. Enumerable.Range(0, random.Next(1, 16)).Select(_ => (byte)random.Next(256)), .. bytes[at..]];
                mutation = $"bytes inserted at {at}";
                break;
            default:
                // Damage the content, then make the checksum match, so the parser sees it.
                int target = random.Next(8, bytes.Length - HashLength);
                int flips = random.Next(1, 4);
                for (int b = 0; b < flips; b++) bytes[Math.Min(bytes.Length - HashLength - 1, target + random.Next(4))] ^= (byte)(1 << random.Next(8));
                bytes = Rehash(bytes[..^HashLength]);
                mutation = $"{flips} flipped bits near {target} with a matching checksum";
                break;
        }
        return (mutation, bytes);
    }

    private static void CheckScores(MLContext ml, VaeTransformer model, string mutation)
    {
        bool unit = model.Options.Likelihood == VaeLikelihood.Bernoulli;
        var rows = ProbeData.Rows(16, seed: 8, unitInterval: unit);
        var options = model.Options;
        // Damage under a recomputed checksum can rename a column or change the width: a valid model of other data.
        if (model.InputWidth != ProbeData.Width || options.FeatureColumnName != "Features" || options.ScoreColumnName != "Score"
            || options.PredictedLabelColumnName != "PredictedLabel") return;
        var scored = ProbeData.Score(ml, model, rows);
        ProbeFailure.Unless(scored.All(r => !float.IsNaN(r.Score) && r.PredictedLabel == r.Score > model.Threshold),
            $"a loaded file ({mutation}) scores NaN or labels against its threshold");
    }

    private static object? Load(MLContext ml, byte[] bytes) => Load(ml, new MemoryStream(bytes));

    private static object? Load(MLContext ml, Stream stream)
    {
        try { return VaeTransformer.Load(ml, stream); }
        catch (Exception e) { return e; }
    }

    private static void Expect(object? outcome, string expected, string what)
    {
        (outcome as IDisposable)?.Dispose();
        ProbeFailure.Unless(outcome is InvalidDataException e && e.Message.Contains(expected, StringComparison.Ordinal),
            $"{what}: expected InvalidDataException mentioning '{expected}', got {Describe(outcome)}");
    }

    private static string Describe(object? outcome) => outcome switch
    {
        Exception e => $"{e.GetType().Name}: {e.Message}",
        null => "nothing",
        _ => "a loaded model",
    };

    private static byte[] Saved(VaeTransformer model)
    {
        using var stream = new MemoryStream();
        model.Save(stream);
        return stream.ToArray();
    }

    /// <summary>The metadata JSON and the tensor section of a valid file.</summary>
    private static (string Json, byte[] Tensors) Split(byte[] file)
    {
        int length = BitConverter.ToInt32(file, 12);
        return (Encoding.UTF8.GetString(file, 16, length), file[(16 + length)..^HashLength]);
    }

    /// <summary>
    /// A valid file whose metadata has <paramref name="copies"/> of <paramref name="item"/> inserted after <paramref name="anchor"/>
    /// (a list opening; "null" is turned into one), built as bytes so that the probe itself does not hold it as a string.
    /// </summary>
    private static byte[] Bomb(string json, byte[] tensors, string anchor, string item, int copies)
    {
        int at = json.IndexOf(anchor, StringComparison.Ordinal);
        if (at < 0) throw new ProbeFailure($"the anchor {anchor} is not in the metadata");
        string head = anchor.EndsWith("null", StringComparison.Ordinal) ? json[..at] + anchor[..^4] + "[" : json[..(at + anchor.Length)];
        string tail = anchor.EndsWith("null", StringComparison.Ordinal) ? item.TrimEnd(',') + "]" + json[(at + anchor.Length)..] : item.TrimEnd(',') + "," + json[(at + anchor.Length)..];
        byte[] repeated = Encoding.UTF8.GetBytes(item);
        using var metadata = new MemoryStream();
        metadata.Write(Encoding.UTF8.GetBytes(head));
        for (int i = 0; i < copies; i++) metadata.Write(repeated);
        metadata.Write(Encoding.UTF8.GetBytes(tail));
        byte[] bytes = metadata.ToArray();
        return Rehash([.. "MLNETVAE"u8.ToArray(), .. BitConverter.GetBytes(2), .. BitConverter.GetBytes(bytes.Length), .. bytes, .. tensors]);
    }

    /// <summary>A file with this metadata and tensor section and a matching checksum.</summary>
    private static byte[] Build(string json, byte[] tensors, int version = 4)
    {
        byte[] metadata = Encoding.UTF8.GetBytes(json);
        return Rehash([.. "MLNETVAE"u8.ToArray(), .. BitConverter.GetBytes(version), .. BitConverter.GetBytes(metadata.Length), .. metadata, .. tensors]);
    }

    private static byte[] Rehash(byte[] body) => [.. body, .. SHA256.HashData(body)];

    private static byte[] WithInt(byte[] bytes, int offset, int value)
    {
        var copy = bytes.ToArray();
        BitConverter.GetBytes(value).CopyTo(copy, offset);
        return offset < 16 ? Rehash(copy[..^HashLength]) : copy;
    }

    /// <summary>The tensor section with the first weight's first value replaced.</summary>
    private static byte[] WithFloat(byte[] tensors, float value)
    {
        var copy = tensors.ToArray();
        int offset = FirstValueOffset(copy);
        BitConverter.GetBytes(value).CopyTo(copy, offset);
        return copy;
    }

    private static byte[] WithRank(byte[] tensors, int rank)
    {
        var copy = tensors.ToArray();
        int nameLength = copy[4];
        BitConverter.GetBytes(rank).CopyTo(copy, 5 + nameLength);
        return copy;
    }

    private static int FirstValueOffset(byte[] tensors)
    {
        int nameLength = tensors[4];
        int rank = BitConverter.ToInt32(tensors, 5 + nameLength);
        return 5 + nameLength + 4 + 8 * rank;
    }

    /// <summary>An ML.NET model zip whose VAE entry is the model's first bytes followed by <paramref name="zeros"/> zero bytes.</summary>
    private static void WriteZipBomb(MLContext ml, string path, byte[] prefix, long zeros)
    {
        string genuine = path + ".genuine";
        using (var model = ml.AnomalyDetection.Trainers.VariationalAutoencoder(ProbeData.Options(epochs: 1)).Fit(ml.Data.LoadFromEnumerable(ProbeData.Rows(32, seed: 1))))
            ml.Model.Save(model, null, genuine);
        try
        {
            // Create mode streams each entry to the file (Update mode would hold the gigabyte in memory).
            using var source = ZipFile.OpenRead(genuine);
            using var bomb = ZipFile.Open(path, ZipArchiveMode.Create);
            foreach (var entry in source.Entries)
            {
                using var target = bomb.CreateEntry(entry.FullName, CompressionLevel.Fastest).Open();
                if (!entry.FullName.EndsWith("VaeModel.bin", StringComparison.Ordinal))
                {
                    using var content = entry.Open();
                    content.CopyTo(target);
                    continue;
                }
                var zero = new byte[1 << 20];
                target.Write(prefix);
                for (long written = 0; written < zeros; written += zero.Length) target.Write(zero);
            }
        }
        finally
        {
            File.Delete(genuine);
        }
    }

    /// <summary>A stream that starts with <paramref name="prefix"/> and then yields zeros for ever.</summary>
    private sealed class EndlessStream(byte[] prefix) : Stream
    {
        private long _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            for (int i = 0; i < count; i++, _position++)
                buffer[offset + i] = _position < prefix.Length ? prefix[_position] : (byte)0;
            return count;
        }
    }
}
