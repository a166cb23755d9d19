return MLNet.Vae.Cli.Cli.Run(args, Console.Out, Console.Error);
