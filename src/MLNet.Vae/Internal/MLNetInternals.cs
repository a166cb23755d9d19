using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace MLNet.Vae.Internal;

/// <summary>
/// The ML.NET 5.0.1 internals a third-party estimator needs for its schema and catalog entry points: the constructor of
/// <see cref="SchemaShape.Column"/> (dotnet/machinelearning#3243) and a catalog's environment (IInternalCatalog).
/// Reached through publicized references and [IgnoresAccessChecksTo] (see docs/persistence.md); Microsoft.ML is pinned to
/// the verified version, and MLNetInternalsTests fails loudly if an upgrade moves them.
/// </summary>
internal static class MLNetInternals
{
    /// <summary>A <see cref="SchemaShape.Column"/> as ML.NET's own estimators make them.</summary>
    public static SchemaShape.Column NewColumn(string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, bool isKey = false,
        SchemaShape? annotations = null) =>
        new(name, kind, itemType, isKey, annotations);

    /// <summary>The <see cref="IHostEnvironment"/> (the MLContext's) behind a catalog such as <c>mlContext.Transforms</c>.</summary>
    public static IHostEnvironment GetEnvironment(IInternalCatalog catalog) => catalog.Environment;
}
