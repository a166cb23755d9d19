using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.Vae.Model;

namespace MLNet.Vae.Data;

/// <summary>How a transformer's rows are scored besides the model: its threshold and its out-of-domain policy.</summary>
/// <param name="Threshold">Rows scoring above it are labelled anomalous.</param>
/// <param name="OutOfDomainInput">What to do with a row the model cannot judge.</param>
/// <param name="FeatureColumnName">The input column, for messages.</param>
/// <param name="TrainingScores">The training rows' scores, sorted, for the p-value column.</param>
internal sealed record ScoringSettings(float Threshold, VaeOutOfDomainInput OutOfDomainInput, string FeatureColumnName, IReadOnlyList<float> TrainingScores)
{
    /// <summary>(1 + #{t ≥ score}) / (n + 1): the upper-tail p-value of a score among the training rows' (1 when none are known).</summary>
    public float PValue(float score)
    {
        int n = TrainingScores.Count;
        // The first index whose score is ≥ the row's: every training score from there up is at least as high.
        int low = 0, high = n;
        while (low < high)
        {
            int middle = (low + high) / 2;
            if (TrainingScores[middle] < score) low = middle + 1;
            else high = middle;
        }
        return (float)((1.0 + (n - low)) / (n + 1.0));
    }
}

/// <summary>
/// A reusable buffer of up to <see cref="Capacity"/> input rows and their forward-pass results, and the column getters
/// that read one slot of it. The batched cursor fills many slots per forward pass; the single-row mapper uses one.
/// </summary>
internal sealed class ScoredRows
{
    private readonly VaeEnsemble _models;
    private readonly ScoringSettings _settings;
    private readonly float[] _features;
    private readonly float[] _latent;
    private readonly float[] _scores;
    private readonly float[] _featureScores;
    private VBuffer<float> _inputValues;

    /// <param name="models">The model or ensemble that scores.</param>
    /// <param name="settings">Threshold, out-of-domain policy, training scores.</param>
    /// <param name="capacity">Rows per forward pass.</param>
    /// <param name="featureScores">Whether to compute each feature's reconstruction term (the feature scores column).</param>
    public ScoredRows(VaeEnsemble models, ScoringSettings settings, int capacity, bool featureScores = false)
    {
        _featureScores = featureScores ? new float[(long)capacity * models.InputWidth] : [];
        _models = models;
        _settings = settings;
        Capacity = capacity;
        _features = new float[capacity * models.InputWidth];
        _latent = new float[capacity * models.LatentDimension];
        _scores = new float[capacity];
    }

    public int Capacity { get; }

    /// <summary>Rows filled since the last <see cref="Clear"/>.</summary>
    public int Count { get; private set; }

    public void Clear() => Count = 0;

    /// <summary>Copies the current value of <paramref name="features"/> into the next free slot.</summary>
    public void Add(ValueGetter<VBuffer<float>> features)
    {
        features(ref _inputValues);
        var row = _features.AsSpan(Count * _models.InputWidth, _models.InputWidth);
        FeatureColumn.CopyDense(_inputValues, row);
        if (_settings.OutOfDomainInput == VaeOutOfDomainInput.Throw && VaeEnsemble.FirstOutOfDomain(row) is int bad and >= 0)
        {
            throw new InvalidOperationException(
                $"Input column '{_settings.FeatureColumnName}' has the value {row[bad].ToString(System.Globalization.CultureInfo.InvariantCulture)} " +
                $"at feature {bad}, where the VAE can only score finite values (OutOfDomainInput = Throw; ScoreAsAnomaly scores such rows +Infinity).");
        }
        Count++;
    }

    /// <summary>Runs one forward pass over the filled slots.</summary>
    public void Score() => _models.Score(_features, Count, _latent, _scores, _featureScores);

    /// <summary>
    /// The getter of an output column, reading slot <paramref name="slot"/>() after <paramref name="ensureScored"/>();
    /// refuses, in ML.NET's words, a column that was not requested or a <typeparamref name="TValue"/> of the wrong type.
    /// </summary>
    public ValueGetter<TValue> GetGetter<TValue>(VaeOutputSchema schema, DataViewSchema.Column column, bool active, Func<int> slot, Action ensureScored)
    {
        if (!active)
            throw new InvalidOperationException($"Column '{column.Name}' is not active: request it when creating the cursor or row.");
        if (typeof(TValue) != column.Type.RawType)
            throw new InvalidOperationException($"Invalid TValue in GetGetter: '{typeof(TValue)}', expected type: '{column.Type.RawType}'.");
        return (ValueGetter<TValue>)MakeGetter(schema, column.Index, slot, ensureScored);
    }

    /// <summary>A getter of slot <paramref name="slot"/>()'s <paramref name="width"/> values of <paramref name="buffer"/>.</summary>
    private static ValueGetter<VBuffer<float>> VectorGetter(float[] buffer, int width, Func<int> slot, Action ensureScored) =>
        (ref VBuffer<float> value) =>
        {
            ensureScored();
            var editor = VBufferEditor.Create(ref value, width);
            buffer.AsSpan(slot() * width, width).CopyTo(editor.Values);
            value = editor.Commit();
        };

    /// <summary>A getter of <paramref name="of"/>(slot <paramref name="slot"/>()'s score).</summary>
    private ValueGetter<float> ScalarGetter(Func<float, float> of, Func<int> slot, Action ensureScored) =>
        (ref float value) =>
        {
            ensureScored();
            value = of(_scores[slot()]);
        };

    private Delegate MakeGetter(VaeOutputSchema schema, int column, Func<int> slot, Action ensureScored)
    {
        if (column == schema.LatentColumnIndex) return VectorGetter(_latent, _models.LatentDimension, slot, ensureScored);
        if (column == schema.FeatureScoresColumnIndex) return VectorGetter(_featureScores, _models.InputWidth, slot, ensureScored);
        if (column == schema.ScoreColumnIndex) return ScalarGetter(score => score, slot, ensureScored);
        if (column == schema.PValueColumnIndex) return ScalarGetter(_settings.PValue, slot, ensureScored);
        return (ValueGetter<bool>)((ref bool value) =>
        {
            ensureScored();
            value = _scores[slot()] > _settings.Threshold;
        });
    }
}
