namespace MLNet.Vae.ServingSample;

/// <summary>A row the model cannot score (wrong width, no features): the caller's mistake, answered with 400.</summary>
public sealed class RowRejectedException(string message) : Exception(message);
