using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace MLNet.Vae.Internal;

/// <summary>
/// The two ML.NET 5.0.1 members that a third-party estimator needs but cannot call: the constructor of
/// <see cref="SchemaShape.Column"/> (dotnet/machinelearning#3243) and a catalog's environment (IInternalCatalog).
/// Reached by reflection in this one place; Microsoft.ML is pinned to the verified version, and a test calls both so that
/// a change in ML.NET fails loudly here rather than somewhere obscure.
/// </summary>
internal static class MLNetInternals
{
    private static readonly ConstructorInfo ColumnConstructor =
        typeof(SchemaShape.Column).GetConstructor(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, null,
            [typeof(string), typeof(SchemaShape.Column.VectorKind), typeof(DataViewType), typeof(bool), typeof(SchemaShape)], null)
        ?? throw Moved("the SchemaShape.Column(string, VectorKind, DataViewType, bool, SchemaShape) constructor");

    private static readonly PropertyInfo CatalogEnvironment =
        typeof(MLContext).Assembly.GetType("Microsoft.ML.Data.IInternalCatalog")?.GetProperty("Environment")
        ?? throw Moved("IInternalCatalog.Environment");

    /// <summary>A <see cref="SchemaShape.Column"/> as ML.NET's own estimators make them.</summary>
    public static SchemaShape.Column NewColumn(string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, bool isKey = false,
        SchemaShape? annotations = null) =>
        (SchemaShape.Column)ColumnConstructor.Invoke([name, kind, itemType, isKey, annotations]);

    /// <summary>The <see cref="IHostEnvironment"/> (the MLContext) behind a catalog such as <c>mlContext.Transforms</c>.</summary>
    public static IHostEnvironment GetEnvironment(object catalog) =>
        CatalogEnvironment.GetValue(catalog) as IHostEnvironment
        ?? throw new ArgumentException($"The catalog {catalog.GetType().Name} has no ML.NET environment.", nameof(catalog));

    private static MissingMemberException Moved(string member) =>
        new($"MLNet.Vae cannot find {member} in Microsoft.ML {typeof(MLContext).Assembly.GetName().Version}; " +
            "this MLNet.Vae release supports Microsoft.ML 5.0.1 only.");
}
