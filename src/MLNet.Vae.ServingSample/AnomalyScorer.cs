using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.Vae.ServingSample;

/// <summary>
/// The saved model, loaded once per process, and a pool of prediction engines over it. A <see cref="PredictionEngine{TSrc,TDst}"/>
/// serves one thread at a time, so each request borrows one from the pool and returns it; the model itself (and its VAE)
/// is shared by all. Disposed by the host at shutdown, after the last request has finished.
/// </summary>
public sealed class AnomalyScorer : IDisposable
{
    private readonly MLContext _ml = new();
    private readonly ITransformer _model;
    private readonly SchemaDefinition _inputSchema;
    private readonly ObjectPool<PredictionEngine<Input, Output>> _engines;

    /// <summary>Loads <paramref name="modelPath"/> (an ML.NET model file: <c>mlContext.Model.Save</c> or <c>mlnet-vae train</c>).</summary>
    /// <exception cref="InvalidOperationException">The model has no known-size Single vector column named <paramref name="featureColumn"/>.</exception>
    public AnomalyScorer(string modelPath, string featureColumn = "Features")
    {
        _model = _ml.Model.Load(modelPath, out var schema);
        ModelPath = modelPath;
        try
        {
            var column = schema.GetColumnOrNull(featureColumn);
            if (column?.Type is not VectorDataViewType { Size: > 0 } vector || vector.ItemType != NumberDataViewType.Single)
                throw new InvalidOperationException($"The model '{modelPath}' has no known-size Single vector input column '{featureColumn}'.");
            FeatureCount = vector.Size;
            _inputSchema = SchemaDefinition.Create(typeof(Input));
            _inputSchema[nameof(Input.Features)].ColumnName = featureColumn;
            _inputSchema[nameof(Input.Features)].ColumnType = vector;
            Threshold = Vae().Threshold;
        }
        catch
        {
            // A model the service refuses is not kept: its VAE's native memory goes with it.
            DisposeModel();
            throw;
        }
        // For a disposable type the provider's pool disposes an engine returned to a full pool, and the ones it keeps when
        // it is disposed: busier moments create engines, and quieter ones do not keep them all.
        _engines = new DefaultObjectPoolProvider { MaximumRetained = Environment.ProcessorCount * 2 }.Create(new EnginePolicy(this));
    }

    public string ModelPath { get; }

    /// <summary>How many features a row must have.</summary>
    public int FeatureCount { get; }

    /// <summary>The model's threshold: a score above it is an anomaly.</summary>
    public float Threshold { get; }

    /// <summary>Scores one row on a pooled engine (the one-row path, tens of microseconds).</summary>
    /// <exception cref="RowRejectedException">The row does not have <see cref="FeatureCount"/> features.</exception>
    public ScoreResponse Score(float[] features)
    {
        Check(features, row: null);
        var engine = _engines.Get();
        try
        {
            var output = engine.Predict(new Input { Features = features });
            return new ScoreResponse(output.Score, output.PredictedLabel, output.LatentFeatures);
        }
        finally
        {
            _engines.Return(engine);
        }
    }

    /// <summary>Scores many rows in one pass of <see cref="ITransformer.Transform"/> (the batched path).</summary>
    public IReadOnlyList<ScoreResponse> Score(IReadOnlyList<float[]> rows)
    {
        for (int i = 0; i < rows.Count; i++) Check(rows[i], i);
        var data = _ml.Data.LoadFromEnumerable(rows.Select(r => new Input { Features = r }), _inputSchema);
        return _ml.Data.CreateEnumerable<Output>(_model.Transform(data), reuseRowObject: false)
            .Select(o => new ScoreResponse(o.Score, o.PredictedLabel, o.LatentFeatures)).ToList();
    }

    public ModelDescription Describe() => new(ModelPath, FeatureCount, Threshold);

    /// <summary>A wrong width is the caller's mistake. NaN and infinities cannot arrive through JSON; a value far outside the
    /// training data is scored, and the VAE answers such rows conservatively (anomalous).</summary>
    private void Check(float[]? features, int? row)
    {
        string where = row is int r ? $"Row {r}" : "The row";
        if (features is null) throw new RowRejectedException($"{where} has no features.");
        if (features.Length != FeatureCount)
            throw new RowRejectedException($"{where} has {features.Length} features; the model expects {FeatureCount}.");
    }

    private VaeTransformer Vae() =>
        (_model as IEnumerable<ITransformer>)?.OfType<VaeTransformer>().LastOrDefault() ?? _model as VaeTransformer
        ?? throw new InvalidOperationException($"The model '{ModelPath}' contains no VAE.");

    public void Dispose()
    {
        (_engines as IDisposable)?.Dispose();
        DisposeModel();
    }

    /// <summary>The VAE owns native memory: the model's transformers that hold it are disposed with the service.</summary>
    private void DisposeModel()
    {
        foreach (var disposable in (_model as IEnumerable<ITransformer>)?.OfType<IDisposable>() ?? [])
            disposable.Dispose();
        (_model as IDisposable)?.Dispose();
    }

    private sealed class EnginePolicy(AnomalyScorer owner) : IPooledObjectPolicy<PredictionEngine<Input, Output>>
    {
        public PredictionEngine<Input, Output> Create() =>
            owner._ml.Model.CreatePredictionEngine<Input, Output>(owner._model, inputSchemaDefinition: owner._inputSchema);

        public bool Return(PredictionEngine<Input, Output> engine) => true;
    }

    public sealed class Input
    {
        public float[] Features { get; set; } = [];
    }

    public sealed class Output
    {
        public float Score { get; set; }
        public bool PredictedLabel { get; set; }
        public float[] LatentFeatures { get; set; } = [];
    }
}
