namespace MLNet.Vae.Demo;

/// <summary>One grey-level image as a row of pixel intensities in [0, 1], with its class label.</summary>
public sealed class ImageRow
{
    public float[] Pixels { get; set; } = [];

    /// <summary>1 for an anomaly (an image not of the training class), 0 otherwise; ML.NET's anomaly evaluator wants a Single.</summary>
    public float Label { get; set; }

    public int Class { get; set; }

    /// <summary>The class's name, for colouring the report's latent map.</summary>
    public string ClassName { get; set; } = "";
}
