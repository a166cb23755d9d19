namespace MLNet.Vae.Network;

/// <summary>
/// The names of the networks' layers and parameters in the state dictionary, in one place: the spec lists their shapes
/// (and so the model file's), the networks register their modules under them, and the one-row path, the hand-derived
/// backpropagation and the ONNX graph read the weights by them.
/// </summary>
/// <remarks>
/// TorchSharp names a module after the field that holds it (<c>RegisterComponents</c>), so the fields of
/// <see cref="MlpVaeNetwork"/> and <see cref="ConvVaeNetwork"/> carry these names (<c>_mean</c>, ...), and a Sequential's
/// children the names given here. <c>ParameterShapes_MatchTheBuiltNetwork</c> checks both against a built network.
/// Renaming any of them changes the model file format.
/// </remarks>
internal static class ParameterNames
{
    /// <summary>The encoder head of μ(x).</summary>
    public const string Mean = "_mean";

    /// <summary>The encoder head of log σ²(x).</summary>
    public const string LogVariance = "_logVariance";

    /// <summary>The MLP encoder's Sequential and its i-th linear layer (<see cref="Linear"/>).</summary>
    public const string EncoderBody = "_encoderBody";

    /// <summary>The MLP decoder's Sequential: linear layers <see cref="Linear"/> 0.., then <see cref="Output"/>.</summary>
    public const string Decoder = "_decoder";

    /// <summary>The MLP decoder's last layer, to the input width.</summary>
    public const string Output = "output";

    /// <summary>The convolutional encoder's Sequential (children <see cref="Convolution"/>).</summary>
    public const string EncoderConvolutions = "_encoderConvolutions";

    /// <summary>The convolutional decoder's linear layer from z to the last feature map.</summary>
    public const string DecoderInput = "_decoderInput";

    /// <summary>The convolutional decoder's Sequential (children <see cref="TransposedConvolution"/>).</summary>
    public const string DecoderConvolutions = "_decoderConvolutions";

    /// <summary>A Sequential's i-th linear layer.</summary>
    public static string Linear(int i) => $"linear{i}";

    /// <summary>A Sequential's i-th ReLU (no parameters).</summary>
    public static string Relu(int i) => $"relu{i}";

    /// <summary>The encoder's i-th convolution.</summary>
    public static string Convolution(int i) => $"conv{i}";

    /// <summary>The decoder's i-th transposed convolution, in the order they run.</summary>
    public static string TransposedConvolution(int i) => $"deconv{i}";

    /// <summary>The path of a child inside a module: <c>parent.child</c>.</summary>
    public static string Child(string parent, string child) => $"{parent}.{child}";

    /// <summary>A layer's weight: [out, in] for a linear layer, TorchSharp's layout.</summary>
    public static string Weight(string layer) => $"{layer}.weight";

    /// <summary>A layer's bias.</summary>
    public static string Bias(string layer) => $"{layer}.bias";

    /// <summary>The MLP encoder's hidden layers, the two heads, and the decoder's layers in order, its output layer last.</summary>
    public static (string[] Encoder, string Mean, string LogVariance, string[] Decoder) MlpLayers(int depth) =>
        (Enumerable.Range(0, depth).Select(i => Child(EncoderBody, Linear(i))).ToArray(), Mean, LogVariance,
         Enumerable.Range(0, depth).Select(i => Child(Decoder, Linear(i))).Append(Child(Decoder, Output)).ToArray());
}
