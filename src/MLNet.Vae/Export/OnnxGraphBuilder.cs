using Microsoft.ML.Model.OnnxConverter;

namespace MLNet.Vae.Export;

/// <summary>
/// A thin layer over ML.NET's <see cref="OnnxContext"/>: one method per ONNX operator used by the VAE's graph, each adding
/// one node with a fresh intermediate variable and returning that variable's name. Only operators of opset 10 to 12 with
/// the same signature in all three are used (ReduceSum takes its axes as an attribute there).
/// </summary>
internal sealed class OnnxGraphBuilder(OnnxContext context, string prefix)
{
    public OnnxContext Context => context;

    /// <summary>A constant float tensor of shape <paramref name="dims"/>.</summary>
    public string Constant(string name, IEnumerable<float> values, params long[] dims) =>
        context.AddInitializer(values, dims, $"{prefix}.{name}", makeUniqueName: true);

    /// <summary>A constant int64 vector (shapes, pads, slice bounds).</summary>
    public string Int64s(string name, params long[] values) => context.AddInitializer(values, [values.Length], $"{prefix}.{name}", makeUniqueName: true);

    /// <summary>A constant float scalar (shape []).</summary>
    public string Constant(string name, float value) => context.AddInitializer(value, $"{prefix}.{name}", makeUniqueName: true);

    public string Node(string op, params string[] inputs) => Node(op, inputs, _ => { });

    /// <summary>Adds one node of <paramref name="op"/>; <paramref name="attributes"/> sets its attributes.</summary>
    public string Node(string op, string[] inputs, Action<OnnxNode> attributes)
    {
        string output = context.AddIntermediateVariable(null, $"{prefix}.{op}", true);
        attributes(context.CreateNode(op, inputs, [output], context.GetNodeName($"{prefix}.{op}"), ""));
        return output;
    }

    /// <summary>Adds one node of <paramref name="op"/> with <paramref name="outputs"/> outputs (TopK's values and indices), returning their variables.</summary>
    public string[] Nodes(string op, string[] inputs, int outputs)
    {
        var names = Enumerable.Range(0, outputs).Select(_ => context.AddIntermediateVariable(null, $"{prefix}.{op}", true)).ToArray();
        context.CreateNode(op, inputs, names, context.GetNodeName($"{prefix}.{op}"), "");
        return names;
    }

    /// <summary>Writes <paramref name="source"/> into the existing variable <paramref name="output"/> (a column's variable).</summary>
    public void Into(string source, string output) => context.CreateNode("Identity", source, output, context.GetNodeName($"{prefix}.Identity"), "");

    /// <summary>x Wᵀ + b, W [outputs × inputs] row-major as TorchSharp's Linear holds it.</summary>
    public string Linear(string x, string weight, string bias) => Node("Gemm", [x, weight, bias], n => n.AddAttribute("transB", 1L));

    /// <summary>Σ over axis 1, keeping it: [n, d] → [n, 1].</summary>
    public string SumRows(string x) => Node("ReduceSum", [x], n =>
    {
        n.AddAttribute("axes", new long[] { 1 });
        n.AddAttribute("keepdims", 1L);
    });

    /// <summary>max over axis 1, keeping it: [n, d] → [n, 1].</summary>
    public string MaxRows(string x) => Node("ReduceMax", [x], n =>
    {
        n.AddAttribute("axes", new long[] { 1 });
        n.AddAttribute("keepdims", 1L);
    });

    /// <summary>Casts to float32 (ONNX TensorProto type 1).</summary>
    public string ToFloat(string x) => Node("Cast", [x], n => n.AddAttribute("to", 1L));
}
