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
        // into [0, 1] (VaeModel.ToScoringSpace).
        var standardization = models.First.Standardization;
        string x = standardization is not null
            ? g.Node("Div", g.Node("Sub", input, g.Constant("featureMean", standardization.Mean, 1, standardization.Mean.Length)),
                g.Constant("featureScale", standardization.Scale, 1, standardization.Scale.Length))
            : g.Node("Min", g.Node("Max", input, g.Constant("zero", 0f)), g.Constant("one", 1f));

        var members = models.Members.Select(member => Member(g, member, x)).ToList();
        string mean = members[0].Mean;
        string score = members[0].Score, terms = members[0].Terms;
        if (members.Count > 1)
        {
            // S = (1/K) Σₖ (sₖ − cₖ) / σₖ and the mean of the members' feature terms, as VaeEnsemble.Score.
            string share = g.Constant("memberShare", 1f / members.Count);
            score = g.Node("Mul", g.Node("Sum", members.Select((m, k) => g.Node("Div",
                g.Node("Sub", m.Score, g.Constant("memberCenter", models.Scales[k].Center)), g.Constant("memberScale", models.Scales[k].Scale))).ToArray()), share);
            terms = g.Node("Mul", g.Node("Sum", members.Select(m => m.Terms).ToArray()), share);
        }

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

    /// <summary>One model's nodes from the standardized input <paramref name="x"/>: μ(x), its score [n, 1] and its feature terms [n, d].</summary>
    private static (string Mean, string Score, string Terms) Member(OnnxGraphBuilder g, VaeModel model, string x)
    {
        var weights = model.Network.state_dict().ToDictionary(p => p.Key, p => TensorCopy.ToArray(p.Value));
        var shapes = model.Network.state_dict().ToDictionary(p => p.Key, p => p.Value.shape);
        string Weight(string name) => g.Constant(name, weights[name], shapes[name]);
        string Linear(string x, string layer) => g.Linear(x, Weight($"{layer}.weight"), Weight($"{layer}.bias"));

        var spec = model.Network.Spec;
        string hidden = spec.Architecture == VaeArchitecture.Mlp ? MlpEncoder(g, spec, x, Linear) : ConvEncoder(g, spec, x, Weight);
        string mean = Linear(hidden, "_mean");
        string limit = g.Constant("logVarianceLimit", (float)spec.LogVarianceLimit);
        string logVariance = g.Node("Min", g.Node("Max", Linear(hidden, "_logVariance"), g.Node("Neg", limit)), limit);
        string decoded = spec.Architecture == VaeArchitecture.Mlp ? MlpDecoder(g, spec, mean, Linear) : ConvDecoder(g, spec, mean, Linear, Weight);

        string terms = ReconstructionTerms(g, model.Likelihood, decoded, x);
        if (model.ScoreKind.UsesFeatureWeights())
        {
            // tᵢ wᵢ: the weighted kinds' feature scores are their weighted terms.
            var featureWeights = model.FeatureWeights();
            terms = g.Node("Mul", terms, g.Constant("featureWeights", featureWeights, 1, featureWeights.Length));
        }
        string score = model.ScoreKind switch
        {
            VaeScoreKind.ReconstructionError or VaeScoreKind.WeightedReconstructionError => g.SumRows(terms),
            VaeScoreKind.SquaredError => SquaredError(g, model, decoded, x),
            VaeScoreKind.NegativeElbo => g.Node("Add", NegativeLogLikelihood(g, model, decoded, x), Kl(g, mean, logVariance)),
            VaeScoreKind.ReconstructionAndLatent => Combined(g, model, g.SumRows(terms), Kl(g, mean, logVariance)),
            VaeScoreKind.ReconstructionAndLatentDensity => g.Node("Add", Combined(g, model, g.SumRows(terms), Kl(g, mean, logVariance)), DensityTerm(g, model, mean)),
            VaeScoreKind.WeightedReconstructionAndLatentNeighbours => g.Node("Add", StandardizedWeighted(g, model, g.SumRows(terms)), NeighbourTerm(g, model, mean)),
            _ => throw new InvalidOperationException($"Score kind {model.ScoreKind} cannot be exported to ONNX."),
        };
        return (mean, score, terms);
    }

    private static string MlpEncoder(OnnxGraphBuilder g, VaeNetworkSpec spec, string x, Func<string, string, string> linear)
    {
        for (int i = 0; i < spec.HiddenSizes.Length; i++) x = g.Node("Relu", linear(x, $"_encoderBody.linear{i}"));
        return x;
    }

    private static string MlpDecoder(OnnxGraphBuilder g, VaeNetworkSpec spec, string z, Func<string, string, string> linear)
    {
        for (int i = 0; i < spec.HiddenSizes.Length; i++) z = g.Node("Relu", linear(z, $"_decoder.linear{i}"));
        return linear(z, "_decoder.output");
    }

    /// <summary>[n, C·H·W] → [n, C, H, W], zero-padded at the bottom and right to multiples of 2ᵏ, k stride-2 convolutions with ReLU, flattened.</summary>
    private static string ConvEncoder(OnnxGraphBuilder g, VaeNetworkSpec spec, string x, Func<string, string> weight)
    {
        var shape = spec.ImageShape!;
        int factor = 1 << spec.ConvolutionChannels.Length;
        long paddedHeight = (shape.Height + factor - 1) / factor * factor, paddedWidth = (shape.Width + factor - 1) / factor * factor;
        string images = g.Node("Reshape", x, Int64s(g, "imageShape", -1, shape.Channels, shape.Height, shape.Width));
        string map = g.Node("Pad", images, Int64s(g, "imagePadding", 0, 0, 0, 0, 0, 0, paddedHeight - shape.Height, paddedWidth - shape.Width));
        for (int i = 0; i < spec.ConvolutionChannels.Length; i++)
            map = g.Node("Relu", g.Node("Conv", [map, weight($"_encoderConvolutions.conv{i}.weight"), weight($"_encoderConvolutions.conv{i}.bias")], Strided));
        return g.Node("Flatten", [map], n => n.AddAttribute("axis", 1L));
    }

    /// <summary>A linear layer with ReLU to the last feature map, k stride-2 transposed convolutions (ReLU between), cropped to H × W, flattened.</summary>
    private static string ConvDecoder(OnnxGraphBuilder g, VaeNetworkSpec spec, string z, Func<string, string, string> linear, Func<string, string> weight)
    {
        var shape = spec.ImageShape!;
        var channels = spec.ConvolutionChannels;
        int factor = 1 << channels.Length;
        long mapHeight = (shape.Height + factor - 1) / factor, mapWidth = (shape.Width + factor - 1) / factor;
        string map = g.Node("Reshape", g.Node("Relu", linear(z, "_decoderInput")), Int64s(g, "featureMapShape", -1, channels[^1], mapHeight, mapWidth));
        for (int layer = 0; layer < channels.Length; layer++)
        {
            map = g.Node("ConvTranspose", [map, weight($"_decoderConvolutions.deconv{layer}.weight"), weight($"_decoderConvolutions.deconv{layer}.bias")], Strided);
            if (layer < channels.Length - 1) map = g.Node("Relu", map);
        }
        string cropped = g.Node("Slice", map, Int64s(g, "cropStart", 0, 0), Int64s(g, "cropEnd", shape.Height, shape.Width), Int64s(g, "cropAxes", 2, 3));
        return g.Node("Flatten", [cropped], n => n.AddAttribute("axis", 1L));
    }

    /// <summary>The 4×4, stride 2, padding 1 of every (transposed) convolution of <see cref="ConvVaeNetwork"/>.</summary>
    private static void Strided(OnnxNode node)
    {
        node.AddAttribute("kernel_shape", new long[] { ConvVaeNetwork.Kernel, ConvVaeNetwork.Kernel });
        node.AddAttribute("strides", new long[] { 2, 2 });
        node.AddAttribute("pads", new long[] { 1, 1, 1, 1 });
    }

    private static string Int64s(OnnxGraphBuilder g, string name, params long[] values) =>
        g.Context.AddInitializer(values, [values.Length], $"Vae.{name}", makeUniqueName: true);

    /// <summary>Each feature's reconstruction-error term: BCE(x, σ(l)) − H(x) (Bernoulli) or (x̃ − μ̃)² (Gaussian).</summary>
    private static string ReconstructionTerms(OnnxGraphBuilder g, VaeLikelihood likelihood, string decoded, string x)
    {
        if (likelihood != VaeLikelihood.Bernoulli)
        {
            string difference = g.Node("Sub", decoded, x);
            return g.Node("Mul", difference, difference);
        }
        string floor = g.Constant("logFloor", 1e-12f);
        string one = g.Constant("one", 1f);
        string complement = g.Node("Sub", one, x);
        // − H(x) = x log x + (1 − x) log(1 − x), logs clamped at 10⁻¹².
        string negativeEntropy = g.Node("Add",
            g.Node("Mul", x, g.Node("Log", g.Node("Max", x, floor))),
            g.Node("Mul", complement, g.Node("Log", g.Node("Max", complement, floor))));
        return g.Node("Add", BinaryCrossEntropy(g, decoded, x), negativeEntropy);
    }

    /// <summary>BCE(x, σ(l)) = max(l, 0) − l x + log(1 + e^−|l|).</summary>
    private static string BinaryCrossEntropy(OnnxGraphBuilder g, string logits, string x) =>
        g.Node("Add",
            g.Node("Sub", g.Node("Max", logits, g.Constant("zero", 0f)), g.Node("Mul", logits, x)),
            g.Node("Log", g.Node("Add", g.Constant("one", 1f), g.Node("Exp", g.Node("Neg", g.Node("Abs", logits))))));

    /// <summary>−log p(x | z): Σ BCE (Bernoulli) or ½ Σ (x̃ − μ̃)² + ½ d log 2π (Gaussian).</summary>
    private static string NegativeLogLikelihood(OnnxGraphBuilder g, VaeModel model, string decoded, string x)
    {
        if (model.Likelihood == VaeLikelihood.Bernoulli) return g.SumRows(BinaryCrossEntropy(g, decoded, x));
        string difference = g.Node("Sub", decoded, x);
        string half = g.Node("Mul", g.SumRows(g.Node("Mul", difference, difference)), g.Constant("half", 0.5f));
        return g.Node("Add", half, g.Constant("gaussianConstant", (float)(0.5 * Math.Log(2 * Math.PI) * model.InputWidth)));
    }

    /// <summary>Σ (σ(l) − x)² (Bernoulli) or Σ ((μ̃ − x̃) s)² (Gaussian, in the input's units).</summary>
    private static string SquaredError(OnnxGraphBuilder g, VaeModel model, string decoded, string x)
    {
        string difference = model.Likelihood == VaeLikelihood.Bernoulli ? g.Node("Sub", g.Node("Sigmoid", decoded), x) : g.Node("Sub", decoded, x);
        if (model.Likelihood != VaeLikelihood.Bernoulli && model.Standardization is { } standardization)
            difference = g.Node("Mul", difference, g.Constant("featureScale", standardization.Scale, 1, standardization.Scale.Length));
        return g.SumRows(g.Node("Mul", difference, difference));
    }

    /// <summary>½ Σⱼ (μⱼ² + σⱼ² − log σⱼ² − 1), [n, 1].</summary>
    private static string Kl(OnnxGraphBuilder g, string mean, string logVariance)
    {
        string sum = g.Node("Sub", g.Node("Add", g.Node("Mul", mean, mean), g.Node("Exp", logVariance)), logVariance);
        return g.Node("Mul", g.SumRows(g.Node("Sub", sum, g.Constant("one", 1f))), g.Constant("half", 0.5f));
    }

    /// <summary>
    /// max(0, (D − m_D) / s_D), [n, 1], with D = −log Σₖ exp(aₖ − ½ ‖(μ − cₖ) Uₖ‖²) and aₖ = log πₖ + log det Uₖ − (L/2) log 2π
    /// (<see cref="LatentCodeDensity"/>): per component a Sub, MatMul and sum of squares, then a log-sum-exp over the components
    /// shifted by their maximum, as the managed path computes it.
    /// </summary>
    private static string DensityTerm(OnnxGraphBuilder g, VaeModel model, string mean)
    {
        var c = model.Calibration is { Density: not null } calibration ? calibration
            : throw new InvalidOperationException("The model was not calibrated for the ReconstructionAndLatentDensity score.");
        var density = c.Density!;
        int l = density.Dimension;
        var normalizers = density.LogNormalizers();
        var logTerms = new string[density.Components];
        for (int k = 0; k < density.Components; k++)
        {
            string centred = g.Node("Sub", mean, g.Constant($"densityMean{k}", density.Means.AsSpan(k * l, l).ToArray(), 1, l));
            string y = g.Node("MatMul", centred, g.Constant($"densityFactor{k}", density.PrecisionFactors.AsSpan(k * l * l, l * l).ToArray(), l, l));
            string halfQuadratic = g.Node("Mul", g.SumRows(g.Node("Mul", y, y)), g.Constant("half", 0.5f));
            logTerms[k] = g.Node("Sub", g.Constant($"densityNormalizer{k}", (float)normalizers[k]), halfQuadratic);
        }
        string all = logTerms.Length == 1 ? logTerms[0] : g.Node("Concat", logTerms, n => n.AddAttribute("axis", 1L));
        string largest = g.MaxRows(all);
        string logSum = g.Node("Add", g.Node("Log", g.SumRows(g.Node("Exp", g.Node("Sub", all, largest)))), largest);
        string negative = g.Node("Neg", logSum);
        string standardized = g.Node("Div", g.Node("Sub", negative, g.Constant("densityCenter", c.DensityCenter)), g.Constant("densityScale", c.DensityScale));
        return g.Node("Max", standardized, g.Constant("zero", 0f));
    }

    /// <summary>(W − m_W) / s_W with the model's calibration.</summary>
    private static string StandardizedWeighted(OnnxGraphBuilder g, VaeModel model, string weighted)
    {
        var c = NeighbourCalibration(model);
        return g.Node("Div", g.Node("Sub", weighted, g.Constant("weightedCenter", c.WeightedCenter)), g.Constant("weightedScale", c.WeightedScale));
    }

    /// <summary>
    /// max(0, (N − m_N) / s_N), [n, 1], with N the mean distance to the 2nd to (k + 1)th nearest stored code
    /// (<see cref="LatentNeighbours"/>). The squared distances come from ‖z‖² − 2 z·c + ‖c‖² in float64, one MatMul for all
    /// codes (float32 would lose the small distances to cancellation), clamped at 0; TopK of their negatives picks the k + 1
    /// smallest, and the smallest of them is subtracted from the sum of their square roots.
    /// </summary>
    private static string NeighbourTerm(OnnxGraphBuilder g, VaeModel model, string mean)
    {
        var c = NeighbourCalibration(model);
        var neighbours = c.Neighbours!;
        int l = model.LatentDimension, count = neighbours.CountFor(l), k = neighbours.Neighbours;
        if (k == 0) return g.Constant("zero", 0f);
        var transposed = new double[l * count];
        var squaredNorms = new double[count];
        for (int m = 0; m < count; m++)
            for (int j = 0; j < l; j++)
            {
                double v = neighbours.Codes[m * l + j];
                transposed[j * count + m] = v;
                squaredNorms[m] += v * v;
            }
        string z = g.Node("Cast", [mean], n => n.AddAttribute("to", 11L));
        string cross = g.Node("MatMul", z, g.Context.AddInitializer(transposed, [l, count], "Vae.neighbourCodes", makeUniqueName: true));
        string zNorms = g.SumRows(g.Node("Mul", z, z));
        string twoCross = g.Node("Mul", cross, g.Context.AddInitializer(2.0, "Vae.two", makeUniqueName: true));
        string squared = g.Node("Add", g.Node("Sub", zNorms, twoCross), g.Context.AddInitializer(squaredNorms, [1, count], "Vae.neighbourNorms", makeUniqueName: true));
        string clamped = g.Node("Max", squared, g.Context.AddInitializer(0.0, "Vae.zeroDouble", makeUniqueName: true));
        // TopK returns the largest first: of −d², the k + 1 smallest d², nearest first.
        string[] nearest = g.Nodes("TopK", [g.Node("Neg", clamped), g.Context.AddInitializer(new long[] { k + 1 }, [1], "Vae.neighboursPlusOne", makeUniqueName: true)], 2);
        string distances = g.ToFloat(g.Node("Sqrt", g.Node("Neg", nearest[0])));
        string skipped = g.Node("Slice", distances, Int64s(g, "firstStart", 0), Int64s(g, "firstEnd", 1), Int64s(g, "firstAxis", 1));
        string meanDistance = g.Node("Div", g.Node("Sub", g.SumRows(distances), skipped), g.Constant("neighbours", (float)k));
        string standardized = g.Node("Div", g.Node("Sub", meanDistance, g.Constant("neighbourCenter", c.NeighbourCenter)), g.Constant("neighbourScale", c.NeighbourScale));
        return g.Node("Max", standardized, g.Constant("zero", 0f));
    }

    private static ScoreCalibration NeighbourCalibration(VaeModel model) => model.Calibration is { Neighbours: not null } c ? c
        : throw new InvalidOperationException("The model was not calibrated for the WeightedReconstructionAndLatentNeighbours score.");

    /// <summary>(R − m_R) / s_R + max(0, (K − m_K) / s_K − margin) with the model's calibration.</summary>
    private static string Combined(OnnxGraphBuilder g, VaeModel model, string reconstruction, string kl)
    {
        var c = model.Calibration ?? throw new InvalidOperationException($"The model was not calibrated for the {model.ScoreKind} score.");
        string standardized = g.Node("Div", g.Node("Sub", reconstruction, g.Constant("reconstructionCenter", c.ReconstructionCenter)), g.Constant("reconstructionScale", c.ReconstructionScale));
        string latent = g.Node("Sub", g.Node("Div", g.Node("Sub", kl, g.Constant("latentCenter", c.LatentCenter)), g.Constant("latentScale", c.LatentScale)),
            g.Constant("latentMargin", (float)VaeModel.LatentMargin));
        return g.Node("Add", standardized, g.Node("Max", latent, g.Constant("zero", 0f)));
    }
}
