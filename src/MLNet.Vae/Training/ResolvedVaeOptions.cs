namespace MLNet.Vae.Training;

/// <summary>
/// The options of one Fit with every automatic choice made for its data (<see cref="VaeOptions.Resolve"/>): the values
/// training reads, none of them nullable, and <see cref="Settings"/>, the same choices as the model shows and saves them.
/// </summary>
internal sealed class ResolvedVaeOptions
{
    /// <summary>
    /// The caller's options with every null replaced by its choice, without cancellation and progress (they belong to the
    /// Fit, not to the model): <see cref="VaeTransformer.Options"/> and the model file hold this.
    /// </summary>
    public required VaeOptions Settings { get; init; }

    public required int LatentDimension { get; init; }

    /// <summary>The MLP's hidden layer widths; empty for the convolutional network, whose widths are its channels.</summary>
    public required int[] HiddenLayerSizes { get; init; }

    public required VaeScoreKind ScoreKind { get; init; }

    public required double TrimmedFraction { get; init; }

    public required int NumberOfModels { get; init; }

    public required int BatchSize { get; init; }

    public required int NumberOfEpochs { get; init; }

    /// <summary>One sentence for each automatic choice, saying what was chosen and why (logged, and kept in the summary).</summary>
    public required IReadOnlyList<string> Choices { get; init; }

}
