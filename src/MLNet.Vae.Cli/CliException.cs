namespace MLNet.Vae.Cli;

/// <summary>A problem with the user's input (a file, a cell, an option): printed as "error: message", exit code 1, no stack trace.</summary>
internal sealed class CliException(string message) : Exception(message);
