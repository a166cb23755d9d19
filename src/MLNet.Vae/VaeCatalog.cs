using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae.Internal;

namespace MLNet.Vae;

/// <summary>
/// Entry points in ML.NET's catalogs. The same estimator is reachable from <c>mlContext.Transforms</c> (for latent features)
/// and from <c>mlContext.AnomalyDetection.Trainers</c> (for anomaly scores); both add all three output columns.
/// </summary>
public static class VaeCatalog
{
    /// <summary>A variational autoencoder that adds latent features, an anomaly score and a predicted label.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="featureColumnName">The input column, a known-size vector of Single.</param>
    /// <param name="latentDimension">Size of the latent space.</param>
    /// <param name="likelihood">Bernoulli for data in [0, 1], Gaussian for real values (standardized internally).</param>
    /// <param name="numberOfEpochs">Passes over the training data.</param>
    /// <param name="contamination">Expected fraction of anomalies in the training data; sets the threshold.</param>
    /// <param name="seed">Seed of training; null takes one from the MLContext.</param>
    public static VaeEstimator VariationalAutoencoder(this TransformsCatalog catalog,
        string featureColumnName = VaeOptions.Defaults.FeatureColumnName, int? latentDimension = null,
        VaeLikelihood likelihood = VaeOptions.Defaults.Likelihood, int? numberOfEpochs = null,
        double contamination = VaeOptions.Defaults.Contamination, int? seed = null) =>
        catalog.VariationalAutoencoder(FromArguments(featureColumnName, latentDimension, likelihood, numberOfEpochs, contamination, seed));

    /// <summary>A variational autoencoder configured by <paramref name="options"/>.</summary>
    public static VaeEstimator VariationalAutoencoder(this TransformsCatalog catalog, VaeOptions options) =>
        new(MLNetInternals.GetEnvironment(catalog), options);

    /// <summary>A variational autoencoder anomaly detector: Score (higher = more anomalous), PredictedLabel and latent features.</summary>
    /// <param name="catalog">The anomaly detection trainers catalog.</param>
    /// <param name="featureColumnName">The input column, a known-size vector of Single.</param>
    /// <param name="latentDimension">Size of the latent space.</param>
    /// <param name="likelihood">Bernoulli for data in [0, 1], Gaussian for real values (standardized internally).</param>
    /// <param name="numberOfEpochs">Passes over the training data.</param>
    /// <param name="contamination">Expected fraction of anomalies in the training data; sets the threshold.</param>
    /// <param name="seed">Seed of training; null takes one from the MLContext.</param>
    public static VaeEstimator VariationalAutoencoder(this AnomalyDetectionCatalog.AnomalyDetectionTrainers catalog,
        string featureColumnName = VaeOptions.Defaults.FeatureColumnName, int? latentDimension = null,
        VaeLikelihood likelihood = VaeOptions.Defaults.Likelihood, int? numberOfEpochs = null,
        double contamination = VaeOptions.Defaults.Contamination, int? seed = null) =>
        catalog.VariationalAutoencoder(FromArguments(featureColumnName, latentDimension, likelihood, numberOfEpochs, contamination, seed));

    /// <summary>A variational autoencoder anomaly detector configured by <paramref name="options"/>.</summary>
    public static VaeEstimator VariationalAutoencoder(this AnomalyDetectionCatalog.AnomalyDetectionTrainers catalog, VaeOptions options) =>
        new(MLNetInternals.GetEnvironment(catalog), options);

    private static VaeOptions FromArguments(string featureColumnName, int? latentDimension, VaeLikelihood likelihood,
        int? numberOfEpochs, double contamination, int? seed) => new()
    {
        FeatureColumnName = featureColumnName,
        LatentDimension = latentDimension,
        Likelihood = likelihood,
        NumberOfEpochs = numberOfEpochs,
        Contamination = contamination,
        Seed = seed,
    };
}
