using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML;
using MLNet.Vae.ModelLoadProbe;

namespace MLNet.Vae.Tests;

/// <summary>The VAE inside ML.NET's own model files: mlContext.Model.Save / Model.Load, across processes and versions.</summary>
[TestClass]
public sealed class MLNetModelPersistenceTests
{
    private string _folder = null!;

    [TestInitialize]
    public void MakeFolder() => _folder = Directory.CreateTempSubdirectory("vae-mlnet-model-").FullName;

    [TestCleanup]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    private static string Fixture(string name, string version = "v1") => Path.Combine(AppContext.BaseDirectory, "Fixtures", version, name);

    /// <summary>NormalizeMinMax -> VAE -> Concatenate -> KMeans fitted on the fixture's data, saved with Model.Save.</summary>
    private (MLContext Ml, ITransformer Model, IDataView Data, string ModelPath) SavePipeline()
    {
        var ml = new MLContext(seed: 1);
        var data = ProbeData.Load(ml, Fixture("data.csv"));
        var options = TestData.FastOptions(epochs: 5);
        options.ScoreColumnName = "AnomalyScore";
        options.PredictedLabelColumnName = "IsAnomaly";
        var model = ml.Transforms.NormalizeMinMax("Features")
            .Append(ml.AnomalyDetection.Trainers.VariationalAutoencoder(options))
            .Append(ml.Transforms.Concatenate("Combined", "LatentFeatures", "Features"))
            .Append(ml.Clustering.Trainers.KMeans("Combined", numberOfClusters: 2))
            .Fit(data);
        string path = Path.Combine(_folder, "pipeline.zip");
        ml.Model.Save(model, data.Schema, path);
        return (ml, model, data, path);
    }

    [TestMethod]
    public void ModelSave_Pipeline_LoadsInAnotherProcessThatNeverNamesTheLibrary_WithIdenticalValues()
    {
        var (_, model, data, path) = SavePipeline();
        string expected = Path.Combine(_folder, "expected.csv"), actual = Path.Combine(_folder, "actual.csv");
        ProbeData.WriteColumns(model.Transform(data), expected, ProbeData.OutputColumns);

        var (exitCode, output) = RunProbe("score", path, Fixture("data.csv"), actual);

        Assert.AreEqual(0, exitCode, output);
        StringAssert.Contains(output, "MLNet.Vae loaded before Model.Load: False; after: True", "ML.NET itself loaded the library to read the model");
        Assert.AreEqual(File.ReadAllText(expected), File.ReadAllText(actual), "every column of every row is identical");
        Assert.HasCount(220, File.ReadAllLines(actual));
    }

    [TestMethod]
    public void ModelSave_VaeAlone_RoundTripsInProcessWithIdenticalValues()
    {
        var ml = new MLContext(seed: 1);
        var data = ProbeData.Load(ml, Fixture("data.csv"));
        using var vae = ml.Transforms.VariationalAutoencoder(TestData.FastOptions(epochs: 3)).Fit(data);
        string path = Path.Combine(_folder, "vae.zip");
        ml.Model.Save(vae, data.Schema, path);

        var loaded = ml.Model.Load(path, out var schema);

        Assert.IsInstanceOfType<VaeTransformer>(loaded);
        Assert.AreEqual(data.Schema.Count, schema.Count);
        CollectionAssert.AreEqual(TestData.Scores(vae.Transform(data)), TestData.Scores(loaded.Transform(data)));
        Assert.AreEqual(vae.Threshold, ((VaeTransformer)loaded).Threshold);
        ((IDisposable)loaded).Dispose();
    }

    [TestMethod]
    public void ModelSave_StoresTheSameFormatAsVaeTransformerSave()
    {
        var ml = new MLContext(seed: 1);
        var data = ProbeData.Load(ml, Fixture("data.csv"));
        using var vae = ml.Transforms.VariationalAutoencoder(TestData.FastOptions(epochs: 2)).Fit(data);
        string path = Path.Combine(_folder, "vae.zip");
        ml.Model.Save(vae, data.Schema, path);
        using var own = new MemoryStream();
        vae.Save(own);

        using var zip = ZipFile.OpenRead(path);
        var entry = zip.Entries.Single(e => e.Name == "VaeModel.bin");
        using var stored = new MemoryStream();
        using (var stream = entry.Open()) stream.CopyTo(stored);
        CollectionAssert.AreEqual(own.ToArray(), stored.ToArray());
    }

    [TestMethod]
    [DataRow("v1")]
    [DataRow("v2")]
    [DataRow("v3")]
    public void Fixture_WrittenByEachFormatVersion_StillLoadsAndScoresTheSame(string version)
    {
        var ml = new MLContext(seed: 1);
        var data = ProbeData.Load(ml, Fixture("data.csv"));

        var pipeline = ml.Model.Load(Fixture("pipeline.zip", version), out _);
        string pipelineScores = Path.Combine(_folder, "pipeline.csv");
        ProbeData.WriteColumns(pipeline.Transform(data), pipelineScores, ProbeData.OutputColumns);
        using var vae = VaeTransformer.Load(ml, Fixture("vae.model", version));
        string vaeScores = Path.Combine(_folder, "vae.csv");
        ProbeData.WriteColumns(vae.Transform(data), vaeScores, "LatentFeatures", "PredictedLabel", "Score");

        AssertCloseCsv(Fixture("expected-pipeline.csv", version), pipelineScores);
        AssertCloseCsv(Fixture("expected-vae.csv", version), vaeScores);
        Assert.AreEqual(int.Parse(version[1..]), BitConverter.ToInt32(File.ReadAllBytes(Fixture("vae.model", version)), 8), "the fixture's format version");
        foreach (var disposable in ((IEnumerable<ITransformer>)pipeline).OfType<IDisposable>()) disposable.Dispose();
    }

    [TestMethod]
    public void ModelLoad_TruncatedOrEmptyFile_ThrowsAManagedException()
    {
        var (ml, _, _, path) = SavePipeline();
        byte[] bytes = File.ReadAllBytes(path);
        foreach (int length in new[] { 0, 100, bytes.Length / 2, bytes.Length - 10 })
        {
            string damaged = Path.Combine(_folder, $"truncated-{length}.zip");
            File.WriteAllBytes(damaged, bytes[..length]);
            var error = Assert.Throws<Exception>(() => ml.Model.Load(damaged, out _));
            Assert.IsFalse(string.IsNullOrWhiteSpace(error.Message), $"length {length}: {error.GetType().Name}");
        }
    }

    [TestMethod]
    public void ModelLoad_ZipThatIsNotAModel_ThrowsAManagedException()
    {
        var ml = new MLContext(seed: 1);
        string path = Path.Combine(_folder, "other.zip");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        using (var writer = new StreamWriter(zip.CreateEntry("readme.txt").Open()))
            writer.Write("not a model");

        var error = Assert.Throws<Exception>(() => ml.Model.Load(path, out _));
        Assert.IsFalse(string.IsNullOrWhiteSpace(error.Message));
    }

    [TestMethod]
    public void ModelLoad_DamagedVaeEntry_IsRefusedByTheChecksum()
    {
        var (ml, _, _, path) = SavePipeline();
        // A flip among the last weights (the metadata, read first, fails its own parse: PersistenceTests).
        RewriteVaeEntry(path, bytes => bytes[bytes.Length - 40] ^= 0x01);

        var error = Assert.Throws<Exception>(() => ml.Model.Load(path, out _));
        StringAssert.Contains(Messages(error), "checksum does not match");
    }

    [TestMethod]
    public void ModelLoad_VaeEntryWhoseWeightsDoNotMatchItsMetadata_NamesTheWeight()
    {
        var (ml, _, _, path) = SavePipeline();
        RewriteVaeEntry(path, bytes =>
        {
            // A hidden width, not the latent size: the latter would first disagree with the latent mixture's, which the metadata check names.
            int at = Encoding.UTF8.GetString(bytes).IndexOf("\"HiddenSizes\":[16", StringComparison.Ordinal);
            bytes[at + "\"HiddenSizes\":[1".Length] = (byte)'7';
            SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32)).CopyTo(bytes, bytes.Length - 32);
        });

        var error = Assert.Throws<Exception>(() => ml.Model.Load(path, out _));
        StringAssert.Contains(Messages(error), "where its metadata implies [17, ");
    }

    [TestMethod]
    public void ModelLoad_VaeEntryFromANewerFormat_AsksForAnUpgrade()
    {
        var (ml, _, _, path) = SavePipeline();
        RewriteVaeEntry(path, bytes =>
        {
            BitConverter.GetBytes(6).CopyTo(bytes, 8);
            SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32)).CopyTo(bytes, bytes.Length - 32);
        });

        var error = Assert.Throws<Exception>(() => ml.Model.Load(path, out _));
        StringAssert.Contains(Messages(error), "format version 6");
        StringAssert.Contains(Messages(error), "upgrade MLNet.Vae");
    }

    /// <summary>Replaces the VAE's stream inside an ML.NET model zip with an edited copy.</summary>
    private static void RewriteVaeEntry(string path, Action<byte[]> edit)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
        var entry = zip.Entries.Single(e => e.Name == "VaeModel.bin");
        byte[] bytes;
        using (var stream = entry.Open())
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            bytes = copy.ToArray();
        }
        edit(bytes);
        string name = entry.FullName;
        entry.Delete();
        using var replacement = zip.CreateEntry(name).Open();
        replacement.Write(bytes);
    }

    /// <summary>An exception's message and its inner exceptions' (ML.NET may wrap the loader's exception).</summary>
    private static string Messages(Exception error) =>
        error.InnerException is null ? error.Message : error.Message + " | " + Messages(error.InnerException);

    /// <summary>Same shape, same integers, floats equal within 1e-4 relative (another CPU may round a kernel differently).</summary>
    private static void AssertCloseCsv(string expectedPath, string actualPath)
    {
        var expected = File.ReadAllLines(expectedPath);
        var actual = File.ReadAllLines(actualPath);
        Assert.HasCount(expected.Length, actual);
        for (int line = 0; line < expected.Length; line++)
        {
            var e = expected[line].Split(',');
            var a = actual[line].Split(',');
            Assert.HasCount(e.Length, a, $"line {line + 1}");
            for (int i = 0; i < e.Length; i++)
            {
                double x = double.Parse(e[i], CultureInfo.InvariantCulture), y = double.Parse(a[i], CultureInfo.InvariantCulture);
                Assert.AreEqual(x, y, 1e-4 * Math.Max(1, Math.Abs(x)), $"line {line + 1}, value {i + 1}");
            }
        }
    }

    private static (int ExitCode, string Output) RunProbe(params string[] arguments) =>
        ChildProcess.Run("MLNet.Vae.ModelLoadProbe", TimeSpan.FromMinutes(2), arguments);
}
