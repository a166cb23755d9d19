using Mono.Cecil;
using Mono.Cecil.Cil;

namespace MLNet.Vae.Tests.Reliability;

/// <summary>
/// TorchSharp turns a C# number used with a tensor (<c>t + 1</c>, <c>t.pow(2)</c>, <c>clamp_min(1e-12)</c>) into a temporary
/// <c>Scalar</c> through <c>Scalar.op_Implicit</c>. Nothing keeps that object reachable during the native call, so the
/// finalizer can free it while libtorch reads it ("Unknown scalar type" or a wrong number). Some TorchSharp methods do the
/// same inside (<c>square()</c>, <c>add(Tensor)</c> with its default alpha, the number operators, Adam's step). The library
/// must call none of them.
/// </summary>
[TestClass]
public sealed class NoTemporaryScalarTests
{
    private const int TorchSharpCallDepth = 3;

    [TestMethod]
    public void Library_NeverMakesATemporaryScalar()
    {
        using var library = AssemblyDefinition.ReadAssembly(typeof(VaeTransformer).Assembly.Location);
        var verdicts = new Dictionary<string, bool>();
        var offenders = new SortedSet<string>();
        foreach (var type in library.MainModule.GetTypes())
        foreach (var method in type.Methods.Where(m => m.HasBody))
        foreach (var callee in Callees(method))
        {
            // The optimizers' step() is reached through a virtual call the scan cannot follow: none may be used at all.
            if (callee.DeclaringType.FullName.StartsWith("TorchSharp.torch/optim", StringComparison.Ordinal))
                offenders.Add($"{type.FullName}.{method.Name} uses a TorchSharp optimizer ({callee.Name})");
            else if (IsTorchSharp(callee) && MakesTemporaryScalar(callee, TorchSharpCallDepth, verdicts))
                offenders.Add($"{type.FullName}.{method.Name} calls {callee.DeclaringType.Name}.{callee.Name}({string.Join(", ", callee.Parameters.Select(p => p.ParameterType.Name))})");
        }
        Assert.IsEmpty(offenders, "Temporary Scalars:\n" + string.Join("\n", offenders));
    }

    [TestMethod]
    public void Guard_SeesTheConversionsItLooksFor()
    {
        // The guard is only as good as its call resolution: it must see the known cases, or it would pass vacuously.
        using var torchSharp = AssemblyDefinition.ReadAssembly(typeof(TorchSharp.torch).Assembly.Location);
        var tensor = torchSharp.MainModule.GetTypes().Single(t => t.FullName == "TorchSharp.torch/Tensor");
        var verdicts = new Dictionary<string, bool>();
        bool Flags(string name, params string[] parameters) => MakesTemporaryScalar(
            tensor.Methods.Single(m => m.Name == name && m.Parameters.Select(p => p.ParameterType.Name).SequenceEqual(parameters)),
            TorchSharpCallDepth, verdicts);
        Assert.IsTrue(Flags("square"));
        Assert.IsTrue(Flags("op_Multiply", "Tensor", "Double"));
        Assert.IsTrue(Flags("add_", "Tensor"));
        Assert.IsFalse(Flags("mul", "Scalar"));
    }

    private static bool IsTorchSharp(MethodReference method) => method.DeclaringType.Scope.Name.StartsWith("TorchSharp", StringComparison.Ordinal);

    private static IEnumerable<MethodReference> Callees(MethodDefinition method) => method.Body.Instructions
        .Where(i => i.OpCode.Code is Code.Call or Code.Callvirt or Code.Newobj or Code.Ldftn)
        .Select(i => i.Operand).OfType<MethodReference>();

    /// <summary>True when <paramref name="method"/> is Scalar.op_Implicit or reaches it within <paramref name="depth"/> TorchSharp calls.</summary>
    private static bool MakesTemporaryScalar(MethodReference method, int depth, Dictionary<string, bool> verdicts)
    {
        if (method.DeclaringType.FullName == "TorchSharp.Scalar" && method.Name == "op_Implicit") return true;
        if (depth == 0 || !IsTorchSharp(method)) return false;
        string key = method.FullName + "@" + depth;
        if (verdicts.TryGetValue(key, out bool known)) return known;
        verdicts[key] = false;
        MethodDefinition? definition;
        try { definition = method.Resolve(); }
        catch (AssemblyResolutionException) { definition = null; }
        bool result = definition is { HasBody: true } && Callees(definition).Any(c => MakesTemporaryScalar(c, depth - 1, verdicts));
        verdicts[key] = result;
        return result;
    }
}
