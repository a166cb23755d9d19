namespace MLNet.Vae.Reporting;

/// <summary>What <see cref="VaeTransformer.WriteTrainingReport"/> draws besides the training history.</summary>
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
}
