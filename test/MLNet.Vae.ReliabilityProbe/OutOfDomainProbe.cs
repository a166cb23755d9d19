using Microsoft.ML;

namespace MLNet.Vae.ReliabilityProbe;

/// <summary>
/// Rows the model cannot judge must never be called normal: ±∞ or NaN anywhere, 3.4e38 in every feature (scored NaN and
/// labelled normal before). Checked through Transform and PredictionEngine; with OutOfDomainInput = Throw they are refused
/// instead. A finite Bernoulli value outside [0, 1] is clipped into it, on both paths: a normal row × 255 scores as its
/// clipped self (it scored −4.2e6 before the first round, then +∞, which flagged 1-2% of normal images after NormalizeMinMax).
/// </summary>
internal static class OutOfDomainProbe
{
    public static void Run()
    {
        var ml = new MLContext(seed: 1);
        foreach (var likelihood in new[] { VaeLikelihood.Bernoulli, VaeLikelihood.Gaussian })
        {
            using var model = ProbeData.Fit(ml, likelihood);
            var normal = ProbeData.Rows(1, seed: 5, unitInterval: likelihood == VaeLikelihood.Bernoulli)[0];
            var cases = new Dictionary<string, float[]>
            {
                ["+Inf in one feature"] = With(normal, 3, float.PositiveInfinity),
                ["-Inf in one feature"] = With(normal, 0, float.NegativeInfinity),
                ["NaN in one feature"] = With(normal, 5, float.NaN),
            };
            if (likelihood == VaeLikelihood.Gaussian)
            {
                // Finite, but the score overflows to NaN.
                cases["3.4e38 in every feature"] = Enumerable.Repeat(3.4e38f, ProbeData.Width).ToArray();
                cases["-3.4e38 in every feature"] = Enumerable.Repeat(-3.4e38f, ProbeData.Width).ToArray();
            }
            var rows = cases.Values.Select((x, i) => new Row { Features = x, Id = i }).Append(new Row { Features = normal.Features, Id = 99 }).ToList();
            var scored = ProbeData.Score(ml, model, rows);
            var engine = ml.Model.CreatePredictionEngine<Row, ScoredRow>(model);
            int index = 0;
            foreach (var name in cases.Keys)
            {
                var one = engine.Predict(rows[index]);
                ProbeFailure.Unless(scored[index].Score == float.PositiveInfinity && scored[index].PredictedLabel,
                    $"{likelihood}, {name}: Transform gave score {scored[index].Score}, label {scored[index].PredictedLabel}");
                ProbeFailure.Unless(one.Score == float.PositiveInfinity && one.PredictedLabel,
                    $"{likelihood}, {name}: PredictionEngine gave score {one.Score}, label {one.PredictedLabel}");
                index++;
            }
            ProbeFailure.Unless(float.IsFinite(scored[^1].Score), $"{likelihood}: the normal row beside them scored {scored[^1].Score}");
            if (likelihood == VaeLikelihood.Bernoulli) CheckClipped(ml, model, engine, normal);

            var options = ProbeData.Options(likelihood);
            options.OutOfDomainInput = VaeOutOfDomainInput.Throw;
            using var strict = ml.AnomalyDetection.Trainers.VariationalAutoencoder(options)
                .Fit(ml.Data.LoadFromEnumerable(ProbeData.Rows(200, seed: 1, unitInterval: likelihood == VaeLikelihood.Bernoulli)));
            try
            {
                ProbeData.Score(ml, strict, [rows[0]]);
                throw new ProbeFailure($"{likelihood}: OutOfDomainInput = Throw scored a row holding +Inf");
            }
            catch (InvalidOperationException e) when (e.Message.Contains("feature 3", StringComparison.Ordinal))
            {
            }
            Console.WriteLine($"{likelihood}: {cases.Count} kinds of out-of-domain row scored +Inf and labelled anomalous; Throw refuses them");
        }
    }

    /// <summary>Bernoulli rows with finite values outside [0, 1] score as the same rows clipped into it, through both paths.</summary>
    private static void CheckClipped(MLContext ml, ITransformer model, PredictionEngine<Row, ScoredRow> engine, Row normal)
    {
        var outside = new Dictionary<string, float[]>
        {
            ["a normal row x 255"] = normal.Features.Select(v => v * 255).ToArray(),
            ["one value of 1.5"] = With(normal, 2, 1.5f),
            ["one value of -0.01"] = With(normal, 2, -0.01f),
            ["one value of 3.4e38"] = With(normal, 2, 3.4e38f),
        };
        var rows = outside.Values.Select((x, i) => new Row { Features = x, Id = i }).ToList();
        var clipped = rows.Select(r => new Row { Features = r.Features.Select(v => Math.Clamp(v, 0f, 1f)).ToArray(), Id = r.Id }).ToList();
        var scored = ProbeData.Score(ml, model, rows);
        var expected = ProbeData.Score(ml, model, clipped);
        int index = 0;
        foreach (var name in outside.Keys)
        {
            float want = expected[index].Score, batched = scored[index].Score, one = engine.Predict(rows[index]).Score;
            ProbeFailure.Unless(float.IsFinite(want) && Math.Abs(batched - want) <= 1e-5 * Math.Max(1, Math.Abs(want)),
                $"Bernoulli, {name}: Transform gave {batched}, the clipped row {want}");
            ProbeFailure.Unless(Math.Abs(one - want) <= 1e-5 * Math.Max(1, Math.Abs(want)), $"Bernoulli, {name}: PredictionEngine gave {one}, the clipped row {want}");
            index++;
        }
        Console.WriteLine($"Bernoulli: {outside.Count} rows with finite values outside [0, 1] scored as their clipped rows on both paths");
    }

    private static float[] With(Row row, int feature, float value)
    {
        var x = row.Features.ToArray();
        x[feature] = value;
        return x;
    }
}
