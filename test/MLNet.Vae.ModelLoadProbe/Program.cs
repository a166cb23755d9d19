using MLNet.Vae.ModelLoadProbe;

// Usage:
//   score <model.zip> <data.csv> <scores.csv>   load with mlContext.Model.Load (no MLNet.Vae type named) and score
//   write-fixture <folder>                      train and save the compatibility fixture (see its README.md)
return args.FirstOrDefault() switch
{
    "score" when args.Length == 4 => ScoreCommand.Run(args[1], args[2], args[3]),
    "write-fixture" when args.Length == 2 => FixtureWriter.Run(args[1]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: MLNet.Vae.ModelLoadProbe score <model.zip> <data.csv> <scores.csv> | write-fixture <folder>");
    return 2;
}
