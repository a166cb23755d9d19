using MLNet.Vae.Data;

namespace MLNet.Vae.Tests;

/// <summary>The uniform sample streaming Fit takes its threshold and calibration from.</summary>
[TestClass]
public sealed class ReservoirSampleTests
{
    [TestMethod]
    public void FewerItemsThanTheCapacity_AreAllKeptInOrder()
    {
        var sample = new ReservoirSample<int>(capacity: 10, seed: 1);
        for (int i = 0; i < 7; i++) sample.Add(i);
        CollectionAssert.AreEqual(Enumerable.Range(0, 7).ToArray(), sample.Items.ToArray());
    }

    [TestMethod]
    public void ManyItems_GiveAUniformSample()
    {
        // 100,000 items 0..99,999 into 10,000 slots, over 20 seeds: every tenth of the range should hold a tenth of the sample.
        var perDecile = new double[10];
        for (int seed = 0; seed < 20; seed++)
        {
            var sample = new ReservoirSample<int>(capacity: 10_000, seed: seed);
            for (int i = 0; i < 100_000; i++) sample.Add(i);
            Assert.HasCount(10_000, sample.Items);
            Assert.AreEqual(10_000, sample.Items.Distinct().Count(), "no item twice");
            foreach (int item in sample.Items) perDecile[item / 10_000]++;
        }
        foreach (double count in perDecile) Assert.AreEqual(0.1, count / 200_000, 0.005, "each tenth of the stream holds a tenth of the sample");
    }
}
