using MLNet.Vae;
using MLNet.Vae.Benchmarks;

// Usage (after src/MLNet.Vae.Benchmarks/setup-debian.sh):
//   dotnet run -c Release --project src/MLNet.Vae.Benchmarks -- all      (quality, elbo and speed in turn: about 25 minutes)
//   dotnet run -c Release --project src/MLNet.Vae.Benchmarks -- quality [--classes 0,1,...] [--arch Mlp,Convolutional] [--epochs 20] [--variants default,prior=10,models=3] [--dump FOLDER]   (--epochs 0: default options, Bernoulli only; --variants: option changes side by side, as for tabular; --dump: rows for latent_neighbours_comparison.py)
//   dotnet run -c Release --project src/MLNet.Vae.Benchmarks -- elbo [--epochs 10]
//   dotnet run -c Release --project src/MLNet.Vae.Benchmarks -- speed [--epochs 3] [--score-rows 1000000]   (runs pytorch_baseline.py)
//   dotnet run -c Release --project src/MLNet.Vae.Benchmarks -- read   (reading the training rows into one array, each case in a fresh process: first-touch memory against the cursor)
//   dotnet run -c Release --project src/MLNet.Vae.Benchmarks -- roofline   (batched scoring per 1,000 rows, part by part, against the products at this CPU's GEMM rate)
//   dotnet run -c Release --project src/MLNet.Vae.Benchmarks -- profile [--latent]   (where a training step's time goes; --latent: only the latent terms' cost per row)
//   dotnet run -c Release --project src/MLNet.Vae.Benchmarks -- tabular [--variants default,score=NegativeElbo] [--suite real|adbench|realistic|contaminated|fashion-tables] [--sets heart,body] [--dump FOLDER]
//       (real: the real-table development suite, after src/MLNet.Vae.Benchmarks/RealTables/setup-real-tables.sh; the others are synthetic regression guards)
//   dotnet run -c Release --project src/MLNet.Vae.Benchmarks -- latent-features [--latent 20] [--variants default,bernoulli,epochs=20] [--images-only|--tables-only]
//       (LatentFeatures for a linear classifier against PCA and the raw features: Fashion-MNIST and the real suite's cells, dhfr, german)
//   (the model-file fuzz at scale is a reliability probe: dotnet run -c Release --project test/MLNet.Vae.ReliabilityProbe -- fuzz-at-scale 10000)
//   dotnet run -c Release --project src/MLNet.Vae.Benchmarks -- scale [--rows 1000000,10000000,30000000] [--stream]   (Fit's peak memory as rows grow, docs/scale.md)
string command = args.FirstOrDefault() ?? "";
string Option(string name, string fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
}

try
{
    switch (command)
    {
        case "quality":
            var classes = Option("--classes", "0,1,2,3,4,5,6,7,8,9").Split(',').Select(int.Parse).ToList();
            var architectures = Option("--arch", "Mlp,Convolutional").Split(',').Select(Enum.Parse<VaeArchitecture>).ToList();
            QualityBenchmark.OneClass(FashionMnist.Load(), classes, architectures, int.Parse(Option("--epochs", "20")), Console.Out,
                Option("--variants", "default").Split(','), args.Contains("--dump") ? Option("--dump", "") : null);
            return 0;
        case "elbo":
            QualityBenchmark.TestNegativeElbo(FashionMnist.Load(), int.Parse(Option("--epochs", "10")), Console.Out);
            return 0;
        case "all":
            var fashion = FashionMnist.Load();
            Console.WriteLine("## Quality: one-class ROC-AUC\n");
            QualityBenchmark.OneClass(fashion, Enumerable.Range(0, 10).ToList(), [VaeArchitecture.Mlp, VaeArchitecture.Convolutional], 20, Console.Out);
            Console.WriteLine("\n## Test negative ELBO\n");
            QualityBenchmark.TestNegativeElbo(fashion, 10, Console.Out);
            Console.WriteLine("\n## Speed against PyTorch\n");
            return SpeedBenchmark.Run([], Console.Out);
        case "profile":
            return StepProfile.Run(Console.Out, latentOnly: args.Contains("--latent"));
        case "tabular":
            return TabularBenchmark.Run(Option("--variants", "default").Split(','), Option("--suite", "real"), Console.Out,
                args.Contains("--dump") ? Option("--dump", "") : null, Option("--sets", "").Split(',', StringSplitOptions.RemoveEmptyEntries),
                int.Parse(Option("--seeds", "1"), System.Globalization.CultureInfo.InvariantCulture));
        case "latent-features":
            return LatentFeaturesBenchmark.Run(int.Parse(Option("--latent", "20")), Option("--variants", "default,bernoulli").Split(','),
                images: !args.Contains("--tables-only"), tables: !args.Contains("--images-only"), Console.Out);
        case "read":
            return ReadBenchmark.Run(Console.Out);
        case "read-one":
            return ReadBenchmark.RunOne(args[1], Console.Out);
        case "roofline":
            return ScoringRoofline.Run(Console.Out);
        case "speed":
            return SpeedBenchmark.Run(args.Skip(1).ToArray(), Console.Out);
        case "scale":
            return ScaleBenchmark.Run(Option("--rows", "1000000,10000000,30000000").Split(',').Select(long.Parse).ToList(), args.Contains("--stream"), Console.Out);
        case "scale-one":
            return ScaleBenchmark.RunOne(long.Parse(args[1]), args.Length > 2 && args[2] == "stream", Console.Out);
        default:
            Console.Error.WriteLine("usage: MLNet.Vae.Benchmarks all|quality|elbo|speed|roofline|read|profile|tabular|latent-features|scale [options]  (see docs/benchmarks.md)");
            return 2;
    }
}
catch (FileNotFoundException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
