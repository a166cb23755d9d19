namespace MLNet.Vae.Cli;

/// <summary>A problem with the user's input (a file, a cell, a value): printed as "error: message", exit code 1, no stack trace.</summary>
internal class CliException(string message) : Exception(message);

/// <summary>A command line the tool cannot run (an option's value it cannot take): "error: message", exit code 2.</summary>
internal sealed class UsageException(string message) : CliException(message);
