using TorchSharp;

namespace MLNet.Vae.Tensors;

/// <summary>
/// The constant scalars of the library's tensor expressions, alive for the whole process.
/// </summary>
/// <remarks>
/// A C# number used with a tensor (<c>t + 1</c>, <c>t.mul(0.5)</c>, even <c>a + b</c> and <c>square()</c>, whose alpha or
/// exponent TorchSharp converts inside) becomes a temporary <see cref="Scalar"/> that nothing keeps reachable during the
/// native call: the finalizer can free it while libtorch reads it, giving "Unknown scalar type" or a wrong number
/// (seen with TorchSharp 0.107 when a collection runs during the call). Static fields are never finalized; a value known only at run time is made with
/// <c>using var s = value.ToScalar();</c> around its calls. <c>NoTemporaryScalarTests</c> scans the library's IL for the rest.
/// </remarks>
internal static class Scalars
{
    public static readonly Scalar One = 1.0.ToScalar();
    public static readonly Scalar Half = 0.5.ToScalar();
    public static readonly Scalar Zero = 0.0.ToScalar();
    /// <summary>Keeps log() finite at 0 (0 · log 0 = 0 in the entropy).</summary>
    public static readonly Scalar LogFloor = 1e-12.ToScalar();
}
