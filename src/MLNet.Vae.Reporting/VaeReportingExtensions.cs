using Microsoft.ML;
using MLNet.Vae.Reporting;

namespace MLNet.Vae;

/// <summary>The training report of a fitted VAE (package MLNet.Vae.Reporting).</summary>
public static class VaeReportingExtensions
{
    /// <summary>
    /// Writes a training report into <paramref name="folder"/>: PNG charts of the reconstruction and KL curves (train and
    /// validation), the KL per latent dimension, a histogram of <paramref name="data"/>'s scores with the threshold, a 2-D map
    /// of their latent means (their first two principal components), and for image data grids of inputs beside their
    /// reconstructions and of samples from the prior; plus <c>index.html</c>, a page that embeds them with the warnings and
    /// the history table.
    /// </summary>
    /// <param name="transformer">The fitted VAE.</param>
    /// <param name="folder">Created if needed; files of the same names are replaced.</param>
    /// <param name="data">Rows to score and map, usually the training data (the first <see cref="VaeReportOptions.MaximumRows"/>).</param>
    /// <param name="options">Label column for colours, image shape, counts; null for the defaults.</param>
    /// <returns>The files written and what each chart holds.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid, or a column is missing or of the wrong type.</exception>
    public static VaeTrainingReport WriteTrainingReport(this VaeTransformer transformer, string folder, IDataView data, VaeReportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(transformer);
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentNullException.ThrowIfNull(data);
        options ??= new VaeReportOptions();
        options.Validate();
        return ReportWriter.Write(folder, transformer, data, options);
    }
}
