namespace MLNet.Vae;

/// <summary>How the learning rate changes from epoch to epoch.</summary>
public enum VaeLearningRateSchedule
{
    /// <summary>The learning rate stays at <see cref="VaeOptions.LearningRate"/>.</summary>
    Constant,

    /// <summary>
    /// Cosine annealing from η = <see cref="VaeOptions.LearningRate"/> to η/100 over the epochs:
    /// ηₑ = η/100 + (η − η/100) · (1 + cos(π (e − 1) / E)) / 2 for epoch e of E.
    /// </summary>
    Cosine,
}
