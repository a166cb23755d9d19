namespace MLNet.Vae.Training;

/// <summary>
/// What watches one Fit from outside: the caller's cancellation and progress receivers. Taken from the options when the
/// estimator is made and kept apart from the settings, so that a fitted model neither saves nor holds on to them.
/// </summary>
internal sealed record FitObservers(CancellationToken Cancellation, IProgress<VaeEpochRecord>? Epochs, IProgress<VaeTrainingProgress>? Progress);
