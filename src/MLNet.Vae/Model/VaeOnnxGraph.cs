using Microsoft.ML.Model.OnnxConverter;
using MLNet.Vae.Network;
using MLNet.Vae.Tensors;
using static TorchSharp.torch;
using MLNet.Vae.Scoring;
using MLNet.Vae.Export;

namespace MLNet.Vae.Model;

/// <summary>The ONNX variables the VAE's graph writes: one per output column (null: that column is not exported).</summary>
internal sealed record VaeOnnxOutputs(string Latent, string Score, string PredictedLabel, string? PValue, string? FeatureScores);

/// <summary>
/// The fitted model as an ONNX graph, written into ML.NET's <see cref="OnnxContext"/> by the transformer's ONNX export: the
/// standardization, the network (MLP or convolutional), the score of the model's kind with its calibration, the rule that
/// a row the model cannot judge scores +∞, and the label Score &gt; threshold. The same formulas as
/// <see cref="VaeObjective"/>, <see cref="VaeModel"/> and <see cref="VaeEnsemble"/>; <c>OnnxExportTests</c> holds the exported graph equal to
/// Transform within 1e-5 under ONNX Runtime.
/// </summary>
internal static class VaeOnnxGraph
{
    /// <summary>The lowest opset whose operators the graph uses: Pad with its pads as an input (11).</summary>
    public const int MinimumOpSet = 11;

    /// <summary>Adds the nodes that compute <paramref name="outputs"/> from the [n × d] float input <paramref name="input"/>.</summary>
    /// <param name="context">ML.NET's export context.</param>
    /// <param name="models">The fitted model, or ensemble: each member's network, scores combined as <see cref="VaeEnsemble.Score"/> does.</param>
    /// <param name="input">The ONNX variable of the feature column.</param>
    /// <param name="threshold">PredictedLabel = Score &gt; threshold.</param>
    /// <param name="trainingScores">The training rows' scores, for the p-value (1 + #{t ≥ score}) / (n + 1).</param>
    /// <param name="outputs">The output columns' variables.</param>
    public static void Write(OnnxContext context, VaeEnsemble models, string input, float threshold, IReadOnlyList<float> trainingScores, VaeOnnxOutputs outputs)
    {
        context.CheckOpSetVersion(MinimumOpSet, nameof(VaeTransformer));
        if (models.Members.Any(m => m.Network.HasMixturePrior))
            throw new NotSupportedException("A VAE with a learned mixture prior (PriorComponents > 0) cannot be exported to ONNX yet: " +
                "its latent term needs the mixture's log-density in the graph. Export a model with the standard normal prior (PriorComponents = 0).");
        using var leases = models.LeaseAll();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var g = new OnnxGraphBuilder(context, "Vae");

        // The members share the standardization (it comes from the data), so x is computed once; Bernoulli values are clipped
        // into [0, 1] (VaeModel.ToScoringSpace). With appended logarithms the members see [x, log(1 + max(x_j, 0))].
        var standardization = models.First.Standardization;
        string rows = models.Logs is { } logs ? AppendLogs(g, input, logs) : input;
        string x = standardization is not null
            ? g.Node("Div", g.Node("Sub", rows, g.Constant("featureMean", standardization.Mean, 1, standardization.Mean.Length)),
                g.Constant("featureScale", standardization.Scale, 1, standardization.Scale.Length))
            : g.Node("Min", g.Node("Max", rows, g.Constant("zero", 0f)), g.Constant("one", 1f));

        var members = models.Members.Select(member => Member(g, member, x)).ToList();
        string mean = members[0].Mean;
        string score = members[0].Score, terms = members[0].Terms;
        // S = (1/K) Σₖ (sₖ − cₖ) / σₖ and the mean of the members' feature terms, as VaeEnsemble.Score.
        string Standardized(string memberScore, int k) =>
            g.Node("Div", g.Node("Sub", memberScore, g.Constant("memberCenter", models.Scales[k].Center)), g.Constant("memberScale", models.Scales[k].Scale));
        if (members.Count > 1)
        {
            string share = g.Constant("memberShare", 1f / members.Count);
            score = g.Node("Mul", g.Node("Sum", members.Select((m, k) => Standardized(m.Score, k)).ToArray()), share);
            terms = g.Node("Mul", g.Node("Sum", members.Select(m => m.Terms).ToArray()), share);
        }
        else if (models.IsScaled)
        {
            score = Standardized(score, 0);
        }
        if (models.Logs is { } appended) terms = FoldLogs(g, terms, appended);

        // A row the model cannot judge scores +∞ (VaeModel.Score): NaN or ±∞ anywhere, or a score that came out NaN. Its
        // features that caused it carry +∞ in the feature scores.
        string badValue = g.Node("Or", g.Node("IsNaN", input), g.Node("IsInf", input));
        string badRow = g.Node("Or", g.Node("Greater", g.MaxRows(g.ToFloat(badValue)), g.Constant("half", 0.5f)), g.Node("IsNaN", score));
        string infinity = g.Constant("infinity", float.PositiveInfinity);
        string guardedScore = g.Node("Where", badRow, infinity, score);

        g.Into(mean, outputs.Latent);
        g.Into(guardedScore, outputs.Score);
        g.Into(g.Node("Greater", guardedScore, g.Constant("threshold", threshold)), outputs.PredictedLabel);
        if (outputs.PValue is not null)
        {
            // (1 + #{t ≥ score}) / (n + 1), as ScoringSettings.PValue: t ≥ s is ¬(t < s), [n_rows, n_training] summed over axis 1.
            string training = g.Constant("trainingScores", trainingScores, 1, trainingScores.Count);
            string atLeast = g.SumRows(g.ToFloat(g.Node("Not", g.Node("Less", training, guardedScore))));
            g.Into(g.Node("Div", g.Node("Add", atLeast, g.Constant("one", 1f)), g.Constant("trainingCountPlusOne", trainingScores.Count + 1f)), outputs.PValue);
        }
        if (outputs.FeatureScores is not null)
            g.Into(g.Node("Where", g.Node("Or", badValue, g.Node("IsNaN", terms)), infinity, terms), outputs.FeatureScores);
    }

    /// <summary>[x, log(1 + max(x_j, 0)) for each chosen j], as <see cref="LogFeatures.Expand(ReadOnlySpan{float}, int, Span{float})"/>.</summary>
    private static string AppendLogs(OnnxGraphBuilder g, string input, LogFeatures logs)
    {
        string chosen = g.Node("Gather", [input, g.Int64s("logFeatures", logs.Features.Select(j => (long)j).ToArray())], n => n.AddAttribute("axis", 1L));
        string logarithms = g.Node("Log", g.Node("Add", g.Node("Max", chosen, g.Constant("zero", 0f)), g.Constant("one", 1f)));
        return g.Node("Concat", [input, logarithms], n => n.AddAttribute("axis", 1L));
    }

    /// <summary>
    /// Feature terms [n, d + k] → [n, d], as <see cref="LogFeatures.Fold"/>: the first d columns plus, for each logarithm, its
    /// term added to its feature's (a product with a [k × d] matrix of ones where a logarithm's feature is).
    /// </summary>
    private static string FoldLogs(OnnxGraphBuilder g, string terms, LogFeatures logs)
    {
        int d = logs.InputWidth, k = logs.Features.Length;
        var placement = new float[k * d];
        for (int m = 0; m < k; m++) placement[m * d + logs.Features[m]] = 1f;
        string own = g.Node("Slice", terms, g.Int64s("ownStart", 0), g.Int64s("ownEnd", d), g.Int64s("ownAxis", 1));
        string logTerms = g.Node("Slice", terms, g.Int64s("logStart", d), g.Int64s("logEnd", d + k), g.Int64s("logAxis", 1));
        return g.Node("Add", own, g.Node("MatMul", logTerms, g.Constant("logPlacement", placement, k, d)));
    }

    /// <summary>One model's nodes from the standardized input <paramref name="x"/>: μ(x), its score [n, 1] and its feature terms [n, d].</summary>
    private static (string Mean, string Score, string Terms) Member(OnnxGraphBuilder g, VaeModel model, string x)
    {
        var weights = model.Network.state_dict().ToDictionary(p => p.Key, p => TensorCopy.ToArray(p.Value));
        var shapes = model.Network.state_dict().ToDictionary(p => p.Key, p => p.Value.shape);
        string Weight(string name) => g.Constant(name, weights[name], shapes[name]);
        string Linear(string x, string layer) => g.Linear(x, Weight(ParameterNames.Weight(layer)), Weight(ParameterNames.Bias(layer)));

        var spec = model.Network.Spec;
        string hidden = spec.Architecture == VaeArchitecture.Mlp ? MlpEncoder(g, spec, x, Linear) : ConvEncoder(g, spec, x, Weight);
        string mean = Linear(hidden, ParameterNames.Mean);
        string limit = g.Constant("logVarianceLimit", (float)spec.LogVarianceLimit);
        string logVariance = g.Node("Min", g.Node("Max", Linear(hidden, ParameterNames.LogVariance), g.Node("Neg", limit)), limit);
        string decoded = spec.Architecture == VaeArchitecture.Mlp ? MlpDecoder(g, spec, mean, Linear) : ConvDecoder(g, spec, mean, Linear, Weight);

        var inputs = new OnnxScoreInputs(decoded, x, mean, logVariance);
        string terms = model.Kind.OnnxFeatureTerms(g, inputs);
        string score = model.Kind.OnnxScore(g, inputs);
        return (mean, score, terms);
    }

    private static string MlpEncoder(OnnxGraphBuilder g, VaeNetworkSpec spec, string x, Func<string, string, string> linear)
    {
        var layers = ParameterNames.MlpLayers(spec.HiddenSizes.Length);
        for (int i = 0; i < spec.HiddenSizes.Length; i++) x = g.Node("Relu", linear(x, layers.Encoder[i]));
        return x;
    }

    private static string MlpDecoder(OnnxGraphBuilder g, VaeNetworkSpec spec, string z, Func<string, string, string> linear)
    {
        var layers = ParameterNames.MlpLayers(spec.HiddenSizes.Length);
        for (int i = 0; i < spec.HiddenSizes.Length; i++) z = g.Node("Relu", linear(z, layers.Decoder[i]));
        return linear(z, layers.Decoder[^1]);
    }

    /// <summary>[n, C·H·W] → [n, C, H, W], zero-padded at the bottom and right to multiples of 2ᵏ, k stride-2 convolutions with ReLU, flattened.</summary>
    private static string ConvEncoder(OnnxGraphBuilder g, VaeNetworkSpec spec, string x, Func<string, string> weight)
    {
        var shape = spec.ImageShape!;
        int factor = 1 << spec.ConvolutionChannels.Length;
        long paddedHeight = (shape.Height + factor - 1) / factor * factor, paddedWidth = (shape.Width + factor - 1) / factor * factor;
        string images = g.Node("Reshape", x, g.Int64s("imageShape", -1, shape.Channels, shape.Height, shape.Width));
        string map = g.Node("Pad", images, g.Int64s("imagePadding", 0, 0, 0, 0, 0, 0, paddedHeight - shape.Height, paddedWidth - shape.Width));
        for (int i = 0; i < spec.ConvolutionChannels.Length; i++)
        {
            string convolution = ParameterNames.Child(ParameterNames.EncoderConvolutions, ParameterNames.Convolution(i));
            map = g.Node("Relu", g.Node("Conv", [map, weight(ParameterNames.Weight(convolution)), weight(ParameterNames.Bias(convolution))], Strided));
        }
        return g.Node("Flatten", [map], n => n.AddAttribute("axis", 1L));
    }

    /// <summary>A linear layer with ReLU to the last feature map, k stride-2 transposed convolutions (ReLU between), cropped to H × W, flattened.</summary>
    private static string ConvDecoder(OnnxGraphBuilder g, VaeNetworkSpec spec, string z, Func<string, string, string> linear, Func<string, string> weight)
    {
        var shape = spec.ImageShape!;
        var channels = spec.ConvolutionChannels;
        int factor = 1 << channels.Length;
        long mapHeight = (shape.Height + factor - 1) / factor, mapWidth = (shape.Width + factor - 1) / factor;
        string map = g.Node("Reshape", g.Node("Relu", linear(z, ParameterNames.DecoderInput)), g.Int64s("featureMapShape", -1, channels[^1], mapHeight, mapWidth));
        for (int layer = 0; layer < channels.Length; layer++)
        {
            string transposed = ParameterNames.Child(ParameterNames.DecoderConvolutions, ParameterNames.TransposedConvolution(layer));
            map = g.Node("ConvTranspose", [map, weight(ParameterNames.Weight(transposed)), weight(ParameterNames.Bias(transposed))], Strided);
            if (layer < channels.Length - 1) map = g.Node("Relu", map);
        }
        string cropped = g.Node("Slice", map, g.Int64s("cropStart", 0, 0), g.Int64s("cropEnd", shape.Height, shape.Width), g.Int64s("cropAxes", 2, 3));
        return g.Node("Flatten", [cropped], n => n.AddAttribute("axis", 1L));
    }

    /// <summary>The 4×4, stride 2, padding 1 of every (transposed) convolution of <see cref="ConvVaeNetwork"/>.</summary>
    private static void Strided(OnnxNode node)
    {
        node.AddAttribute("kernel_shape", new long[] { ConvVaeNetwork.Kernel, ConvVaeNetwork.Kernel });
        node.AddAttribute("strides", new long[] { 2, 2 });
        node.AddAttribute("pads", new long[] { 1, 1, 1, 1 });
    }

}
