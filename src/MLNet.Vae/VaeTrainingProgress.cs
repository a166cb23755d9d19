namespace MLNet.Vae;

/// <summary>
/// Where a running Fit is, reported during each epoch (about twice a second and at each epoch's end) to
/// <see cref="VaeOptions.TrainingProgress"/>, and every 10 seconds to <c>MLContext.Log</c>.
/// </summary>
/// <param name="Epoch">The running epoch, 1-based.</param>
/// <param name="NumberOfEpochs">The epochs Fit will run at most (early stopping may end it sooner).</param>
/// <param name="RowsDone">Training rows this epoch has trained on so far.</param>
/// <param name="RowsPerEpoch">Training rows per epoch.</param>
/// <param name="RowsPerSecond">Training rows per second since training began (all epochs so far).</param>
/// <param name="EstimatedTimeLeft">
/// Time left to train at that rate: (rows of the remaining epochs + rows left in this one) / rows per second. Scoring the
/// training rows for the threshold comes after it (about a tenth of an epoch). For an ensemble, the models still to train
/// are included.
/// </param>
public sealed record VaeTrainingProgress(int Epoch, int NumberOfEpochs, long RowsDone, long RowsPerEpoch, double RowsPerSecond, TimeSpan EstimatedTimeLeft)
{
    /// <summary>The model training now, 1-based: 1 unless <see cref="VaeOptions.NumberOfModels"/> &gt; 1.</summary>
    public int Model { get; init; } = 1;

    /// <summary>How many models Fit trains, one after another (<see cref="VaeOptions.NumberOfModels"/>).</summary>
    public int NumberOfModels { get; init; } = 1;

    /// <summary>The fraction of the whole training done, in [0, 1], models and epochs together.</summary>
    public double FractionDone => NumberOfEpochs <= 0 || RowsPerEpoch <= 0 ? 0
        : (Model - 1 + ((Epoch - 1) * (double)RowsPerEpoch + RowsDone) / ((double)NumberOfEpochs * RowsPerEpoch)) / NumberOfModels;

    /// <summary>"epoch 2/10, 12,800/60,000 rows, 25,310 rows/s, about 0:21 left", after "model 2/3, " for an ensemble.</summary>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{(NumberOfModels > 1 ? $"model {Model}/{NumberOfModels}, " : "")}epoch {Epoch}/{NumberOfEpochs}, {RowsDone:N0}/{RowsPerEpoch:N0} rows, {RowsPerSecond:N0} rows/s, about {EstimatedTimeLeft:m\\:ss} left");
}
