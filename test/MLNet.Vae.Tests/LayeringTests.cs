using Mono.Cecil;

namespace MLNet.Vae.Tests;

/// <summary>
/// The library's layers depend one way (docs/design/architecture.md): Tensors, Platform (the native patches), Export (ONNX nodes)
/// and Internal (ML.NET access) ← Network ← Kernels (managed math) ← Scoring (the score kinds) ← Model ← Training and Data
/// ← Persistence ← the estimator and the transformer. A type may use the public vocabulary (options, enums, records) and
/// any layer below its own, never one above or beside it.
/// </summary>
[TestClass]
public sealed class LayeringTests
{
    private static readonly Dictionary<string, int> Rank = new()
    {
        ["MLNet.Vae.Tensors"] = 0,
        ["MLNet.Vae.Platform"] = 0,
        ["MLNet.Vae.Export"] = 0,
        ["MLNet.Vae.Internal"] = 0,
        ["MLNet.Vae.Network"] = 1,
        ["MLNet.Vae.Kernels"] = 2,
        ["MLNet.Vae.Scoring"] = 3,
        ["MLNet.Vae.Model"] = 4,
        ["MLNet.Vae.Training"] = 5,
        ["MLNet.Vae.Data"] = 5,
        ["MLNet.Vae.Persistence"] = 6,
        ["MLNet.Vae"] = 7,
    };

    /// <summary>Public types every layer may name: plain data, no behaviour that reaches back into the layers.</summary>
    private static readonly HashSet<string> Vocabulary =
    [
        "VaeOptions", "VaeLikelihood", "VaeScoreKind", "VaeArchitecture", "VaeImageShape", "VaeEpochRecord", "VaeTrainingWarning",
        "VaeWarningKind", "VaeTrainingSummary", "VaeOutOfDomainInput", "VaeLearningRateSchedule", "VaeTrainingProgress", "VaeEnsembleMember",
    ];

    [TestMethod]
    public void EveryLayer_UsesOnlyTheLayersBelowIt()
    {
        using var library = AssemblyDefinition.ReadAssembly(typeof(VaeTransformer).Assembly.Location);
        var violations = new SortedSet<string>();
        foreach (var type in library.MainModule.GetTypes().Where(t => Rank.ContainsKey(NamespaceOf(t))))
        {
            int rank = Rank[NamespaceOf(type)];
            foreach (var used in UsedTypes(type).SelectMany(Unwrap).Where(u => u.Scope == library.MainModule && Rank.ContainsKey(NamespaceOf(u))))
            {
                string name = Outermost(used).Name;
                bool vocabulary = NamespaceOf(used) == "MLNet.Vae" && Vocabulary.Contains(name);
                int usedRank = Rank[NamespaceOf(used)];
                bool sideways = usedRank == rank && NamespaceOf(used) != NamespaceOf(type);
                if (!vocabulary && (usedRank > rank || sideways))
                    violations.Add($"{Outermost(type).FullName} ({NamespaceOf(type)}) uses {Outermost(used).FullName} ({NamespaceOf(used)})");
            }
        }
        Assert.IsEmpty(violations, string.Join("\n", violations));
    }

    /// <summary>The types a reference names: the element of an array or by-ref, a generic type with its arguments, a function pointer's signature.</summary>
    private static IEnumerable<TypeReference> Unwrap(TypeReference type)
    {
        // A function pointer (delegate* unmanaged<int, int>) names its return and parameter types, and has no element type.
        if (type is FunctionPointerType pointer)
        {
            foreach (var named in pointer.Parameters.Select(p => p.ParameterType).Append(pointer.ReturnType).SelectMany(Unwrap)) yield return named;
            yield break;
        }
        if (type is GenericInstanceType generic)
        {
            foreach (var argument in generic.GenericArguments.SelectMany(Unwrap)) yield return argument;
            type = generic.ElementType;
        }
        while (type is TypeSpecification specification) type = specification.ElementType;
        yield return type;
    }

    private static TypeReference Outermost(TypeReference type)
    {
        while (type.DeclaringType is not null) type = type.DeclaringType;
        return type;
    }

    private static string NamespaceOf(TypeReference type) => Outermost(type).Namespace;

    private static IEnumerable<TypeReference> UsedTypes(TypeDefinition type)
    {
        if (type.BaseType is not null) yield return type.BaseType;
        foreach (var field in type.Fields) yield return field.FieldType;
        foreach (var method in type.Methods)
        {
            yield return method.ReturnType;
            foreach (var parameter in method.Parameters) yield return parameter.ParameterType;
            if (!method.HasBody) continue;
            foreach (var variable in method.Body.Variables) yield return variable.VariableType;
            foreach (var instruction in method.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case MethodReference callee: yield return callee.DeclaringType; break;
                    case FieldReference field: yield return field.DeclaringType; break;
                    case TypeReference used: yield return used; break;
                }
            }
        }
    }
}
