using System.Security.Cryptography;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.Tests;

[TestClass]
public sealed class PersistenceTests
{
    private static MLContext _ml = null!;
    private static VaeTransformer _gaussian = null!;
    private static VaeTransformer _bernoulli = null!;
    private static IDataView _data = null!;
    private static IDataView _unitData = null!;
    private string _folder = null!;

    [ClassInitialize]
    public static void FitOnce(TestContext _)
    {
        _ml = new MLContext(seed: 1);
        _data = TestData.ToDataView(_ml, TestData.Normal(200, seed: 40).Concat(TestData.Outliers(10, seed: 41)));
        _unitData = TestData.ToDataView(_ml, TestData.Normal(200, seed: 42, unitInterval: true));
        _gaussian = new VaeEstimator(_ml, TestData.FastOptions(epochs: 5)).Fit(_data);
        _bernoulli = new VaeEstimator(_ml, TestData.FastOptions(VaeLikelihood.Bernoulli, epochs: 5)).Fit(_unitData);
    }

    [ClassCleanup]
    public static void DisposeModels()
    {
        _gaussian.Dispose();
        _bernoulli.Dispose();
    }

    [TestInitialize]
    public void MakeFolder() => _folder = Directory.CreateTempSubdirectory("vae-persistence-").FullName;

    [TestCleanup]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    [TestMethod]
    public void SaveThenLoad_File_GivesIdenticalScoresLatentsThresholdHistoryAndOptions()
    {
        foreach (var (model, data) in new[] { (_gaussian, _data), (_bernoulli, _unitData) })
        {
            string path = Path.Combine(_folder, "model.vae");
            model.Save(path);
            using var loaded = VaeTransformer.Load(_ml, path);

            var before = model.Transform(data);
            var after = loaded.Transform(data);
            CollectionAssert.AreEqual(TestData.Scores(before), TestData.Scores(after));
            var latentBefore = before.GetColumn<float[]>("LatentFeatures").SelectMany(v => v).ToArray();
            CollectionAssert.AreEqual(latentBefore, after.GetColumn<float[]>("LatentFeatures").SelectMany(v => v).ToArray());
            Assert.AreEqual(model.Threshold, loaded.Threshold);
            AssertSameHistory(model.Training.History, loaded.Training.History);
            Assert.AreEqual(model.Training.BestEpoch, loaded.Training.BestEpoch);
            Assert.AreEqual(model.Training.ReconstructionBaseline, loaded.Training.ReconstructionBaseline);
            Assert.AreEqual(model.Options.Likelihood, loaded.Options.Likelihood);
            Assert.AreEqual(model.Options.Seed, loaded.Options.Seed);
            CollectionAssert.AreEqual(model.HiddenLayerSizes.ToArray(), loaded.HiddenLayerSizes.ToArray());
            CollectionAssert.AreEqual(model.Generate(3, seed: 9).SelectMany(r => r).ToArray(), loaded.Generate(3, seed: 9).SelectMany(r => r).ToArray());
        }
    }

    [TestMethod]
    public void SaveThenLoad_Stream_RoundTripsAndIsByteStable()
    {
        using var first = new MemoryStream();
        _gaussian.Save(first);
        first.Position = 0;
        using var loaded = VaeTransformer.Load(_ml, first);
        using var second = new MemoryStream();
        loaded.Save(second);

        CollectionAssert.AreEqual(first.ToArray(), second.ToArray(), "saving a loaded model writes the same bytes");
    }

    [TestMethod]
    public void Save_OverAnExistingFile_LeavesNoTemporaryFileBehind()
    {
        string path = Path.Combine(_folder, "model.vae");
        File.WriteAllText(path, "an older file");
        _gaussian.Save(path);

        CollectionAssert.AreEqual(new[] { "model.vae" }, Directory.GetFiles(_folder).Select(Path.GetFileName).ToArray());
        using var loaded = VaeTransformer.Load(_ml, path);
        Assert.AreEqual(_gaussian.Threshold, loaded.Threshold);
    }

    [TestMethod]
    public void Load_EmptyFile_ThrowsNotAModel()
    {
        var error = Assert.Throws<InvalidDataException>(() => VaeTransformer.Load(_ml, new MemoryStream()));
        StringAssert.Contains(error.Message, "it is not an MLNet.Vae model");
    }

    [TestMethod]
    public void Load_OtherBytes_ThrowsNotAModel()
    {
        var error = Assert.Throws<InvalidDataException>(() => VaeTransformer.Load(_ml, new MemoryStream(Encoding.UTF8.GetBytes("PK\u0003\u0004 this is a zip, not a model .........."))));
        StringAssert.Contains(error.Message, "'MLNETVAE' header is missing");
    }

    [TestMethod]
    public void Load_TruncatedFile_ThrowsTruncatedOrDamaged()
    {
        byte[] bytes = Saved(_gaussian);
        foreach (int length in new[] { 20, bytes.Length / 2, bytes.Length - 1 })
        {
            var error = Assert.Throws<InvalidDataException>(() => VaeTransformer.Load(_ml, new MemoryStream(bytes[..length])));
            StringAssert.Contains(error.Message, "truncated or damaged");
        }
    }

    [TestMethod]
    public void Load_FileWithOneFlippedBit_ThrowsTruncatedOrDamaged()
    {
        byte[] bytes = Saved(_gaussian);
        foreach (int position in new[] { 30, bytes.Length / 2, bytes.Length - 40 })
        {
            var damaged = bytes.ToArray();
            damaged[position] ^= 0x10;
            var error = Assert.Throws<InvalidDataException>(() => VaeTransformer.Load(_ml, new MemoryStream(damaged)));
            // A flip in the weights fails the checksum; one in the metadata (read first, since it bounds the rest) fails its parse.
            StringAssert.Contains(error.Message, "damaged");
        }
    }

    [TestMethod]
    public void Load_NewerFormatVersion_ThrowsAskingForAnUpgrade()
    {
        byte[] bytes = Saved(_gaussian);
        BitConverter.GetBytes(99).CopyTo(bytes, 8);

        var error = Assert.Throws<InvalidDataException>(() => VaeTransformer.Load(_ml, new MemoryStream(Rehash(bytes))));
        StringAssert.Contains(error.Message, "format version 99");
        StringAssert.Contains(error.Message, "upgrade MLNet.Vae");
    }

    [TestMethod]
    public void Load_MetadataThatDoesNotMatchTheWeights_ThrowsNamingTheWeight()
    {
        // A consistent checksum over inconsistent content: the metadata claims a hidden layer of 17, the weights hold 16.
        // (A latent size would first disagree with the latent mixture's, which the metadata check names: the crafted files of
        // the reliability probe's model-files.)
        byte[] bytes = Saved(_gaussian);
        string text = Encoding.UTF8.GetString(bytes);
        int at = text.IndexOf("\"HiddenSizes\":[16", StringComparison.Ordinal);
        Assert.IsGreaterThan(0, at);
        bytes[at + "\"HiddenSizes\":[1".Length] = (byte)'7';

        var error = Assert.Throws<InvalidDataException>(() => VaeTransformer.Load(_ml, new MemoryStream(Rehash(bytes))));
        StringAssert.Contains(error.Message, "has shape [16, 16] where its metadata implies [17, 16]");
    }

    [TestMethod]
    public void Load_MissingFile_ThrowsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => VaeTransformer.Load(_ml, Path.Combine(_folder, "absent.vae")));
    }

    internal static void AssertSameHistory(IReadOnlyList<VaeEpochRecord> expected, IReadOnlyList<VaeEpochRecord> actual)
    {
        Assert.HasCount(expected.Count, actual);
        for (int i = 0; i < expected.Count; i++)
        {
            CollectionAssert.AreEqual(expected[i].KlPerDimension.ToArray(), actual[i].KlPerDimension.ToArray(), $"epoch {i + 1}");
            Assert.AreEqual(expected[i], actual[i] with { KlPerDimension = expected[i].KlPerDimension }, $"epoch {i + 1}");
        }
    }

    private static byte[] Saved(VaeTransformer model)
    {
        using var stream = new MemoryStream();
        model.Save(stream);
        return stream.ToArray();
    }

    /// <summary>Recomputes the trailing SHA-256 so that a deliberately edited body passes the checksum.</summary>
    private static byte[] Rehash(byte[] bytes)
    {
        var body = bytes[..^32];
        return [.. body, .. SHA256.HashData(body)];
    }
}
