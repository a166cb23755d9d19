using System.Text.Json;

namespace MLNet.Vae.Persistence;

/// <summary>
/// Bounds on a model file's JSON metadata, checked token by token before anything is deserialized. The metadata may be
/// 64 MiB, and a JSON object costs two bytes in the file and hundreds in memory: 22 million empty objects in the warnings
/// took 9.7 GB to load. Numbers cost less in memory than in the file, so only what becomes an object is counted.
/// </summary>
internal static class MetadataBounds
{
    /// <summary>
    /// The most objects and arrays the metadata may hold: a history of <see cref="VaeOptions.Defaults.MaximumEpochs"/> epochs for each
    /// of 32 models (an object and an array an epoch) fits, with room for warnings, calibrations and options.
    /// </summary>
    public const int MaximumContainers = 1_000_000;

    /// <summary>The most elements an array of anything but numbers may hold (every history, warning and member list).</summary>
    public const int MaximumListLength = 100_000;

    /// <summary>Refuses metadata beyond the bounds, naming the list that goes beyond them.</summary>
    /// <exception cref="InvalidDataException">Too many objects or arrays, a list too long, or JSON that does not parse (or is not UTF-8).</exception>
    public static void Check(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        // One frame per open object or array: an array counts its elements and whether all of them were numbers.
        var open = new Stack<Frame>();
        long containers = 0;
        string property = "(root)";
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        property = reader.GetString()!;
                        continue;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        open.Pop();
                        continue;
                    case JsonTokenType.Comment:
                        continue;
                }
                if (open.TryPeek(out var parent) && parent.IsArray)
                {
                    parent.Elements++;
                    parent.AllNumbers &= reader.TokenType == JsonTokenType.Number;
                    if (!parent.AllNumbers && parent.Elements > MaximumListLength)
                        throw Beyond($"its list '{parent.Name}' holds more than {MaximumListLength:N0} entries");
                }
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    if (++containers > MaximumContainers) throw Beyond($"it holds more than {MaximumContainers:N0} objects and lists");
                    open.Push(new Frame(reader.TokenType == JsonTokenType.StartArray, property));
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"Cannot load the VAE model: its metadata cannot be read, so the file is damaged or not from MLNet.Vae ({e.Message}).");
        }
    }

    private sealed class Frame(bool isArray, string name)
    {
        public bool IsArray { get; } = isArray;
        public string Name { get; } = name;
        public long Elements { get; set; }
        public bool AllNumbers { get; set; } = true;
    }

    private static InvalidDataException Beyond(string what) =>
        new($"Cannot load the VAE model: its metadata is beyond what any MLNet.Vae model holds ({what}), so the file is damaged or crafted.");
}
