namespace MLNet.Vae.Reporting;

/// <summary>What <see cref="VaeReportingExtensions.WriteTrainingReport"/> draws besides the training history.</summary>
public sealed class VaeReportOptions
{
    /// <summary>The report's title.</summary>
    public string Title { get; set; } = "VAE training report";

    /// <summary>A column to colour the latent map by (Single, Double, Boolean, Int32, key or text). Null: one colour.</summary>
    public string? LabelColumnName { get; set; }

    /// <summary>
    /// The shape of image rows, for the grids of inputs, reconstructions and prior samples. Null: taken from the feature
    /// column's dimensions when it has two (H, W) or three (C, H, W), as ImageAnalytics gives them; else no image grids.
    /// </summary>
    public VaeImageShape? ImageShape { get; set; }

    /// <summary>At most this many rows are read from the data for the score histogram and the latent map.</summary>
    public int MaximumRows { get; set; } = 5000;

    /// <summary>Images shown with their reconstructions.</summary>
    public int ReconstructionCount { get; set; } = 10;

    /// <summary>Images generated from the prior.</summary>
    public int SampleCount { get; set; } = 32;

    /// <summary>Seed of the prior samples.</summary>
    public int Seed { get; set; }

    /// <summary>Checks every option; throws <see cref="ArgumentOutOfRangeException"/> naming the first bad one.</summary>
    public void Validate()
    {
        Require(Title is not null, nameof(Title), "Title must not be null.");
        Require(LabelColumnName is null || !string.IsNullOrWhiteSpace(LabelColumnName), nameof(LabelColumnName), "LabelColumnName must name a column, or be null.");
        Require(ImageShape is null || (ImageShape.Channels >= 1 && ImageShape.Height >= 1 && ImageShape.Width >= 1), nameof(ImageShape),
            $"ImageShape must have positive channels, height and width, got {ImageShape}.");
        Require(MaximumRows >= 1, nameof(MaximumRows), $"MaximumRows must be positive, got {MaximumRows}.");
        Require(ReconstructionCount >= 1, nameof(ReconstructionCount), $"ReconstructionCount must be positive, got {ReconstructionCount}.");
        Require(SampleCount >= 1, nameof(SampleCount), $"SampleCount must be positive, got {SampleCount}.");
    }

    private static void Require(bool condition, string option, string message)
    {
        if (!condition) throw new ArgumentOutOfRangeException(option, message);
    }
}
