using MLNet.Vae.Samples;

namespace MLNet.Vae.Benchmarks;

/// <summary>The Fashion-MNIST data set as Debian's dataset-fashion-mnist package installs it.</summary>
public sealed record FashionMnist(float[][] TrainImages, byte[] TrainLabels, float[][] TestImages, byte[] TestLabels)
{
    public const int Side = 28;
    public const int Pixels = Side * Side;
    public static string Folder => Environment.GetEnvironmentVariable("FASHION_MNIST_DIR") ?? "/usr/share/datasets/fashion-mnist";

    /// <summary>Loads the four IDX files, or explains how to install them.</summary>
    public static FashionMnist Load()
    {
        string Path(string name) => System.IO.Path.Combine(Folder, name);
        string[] files = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];
        var missing = files.Where(f => !File.Exists(Path(f))).ToList();
        if (missing.Count > 0)
        {
            throw new FileNotFoundException(
                $"Fashion-MNIST is not installed: {string.Join(", ", missing)} missing in {Folder}. " +
                "Install it with: sudo src/MLNet.Vae.Benchmarks/setup-debian.sh (or apt-get install dataset-fashion-mnist), " +
                "or point FASHION_MNIST_DIR at a folder holding the four .gz files.");
        }
        (float[][] Images, byte[] Labels) Read(string images, string labels)
        {
            using var imageStream = File.OpenRead(Path(images));
            using var labelStream = File.OpenRead(Path(labels));
            var (rows, _, _, classes) = IdxImages.Read(imageStream, labelStream);
            return (rows, classes);
        }
        var train = Read(files[0], files[1]);
        var test = Read(files[2], files[3]);
        return new FashionMnist(train.Images, train.Labels, test.Images, test.Labels);
    }
}
