using Microsoft.ML;

namespace MLNet.Vae.ReliabilityProbe;

/// <summary>
/// Rows the model cannot judge must never be called normal: a Bernoulli row outside [0, 1] (a normal row × 255 scored
/// −4.2e6 before), ±∞ or NaN anywhere, 3.4e38 in every feature of a Gaussian row (scored NaN and labelled normal before).
/// Checked through Transform and PredictionEngine; with OutOfDomainInput = Throw they are refused instead.
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
                ["3.4e38 in every feature"] = Enumerable.Repeat(3.4e38f, ProbeData.Width).ToArray(),
                ["-3.4e38 in every feature"] = Enumerable.Repeat(-3.4e38f, ProbeData.Width).ToArray(),
            };
            if (likelihood == VaeLikelihood.Bernoulli)
            {
                cases["a normal row x 255"] = normal.Features.Select(v => v * 255).ToArray();
                cases["one value of 1.5"] = With(normal, 2, 1.5f);
                cases["one value of -0.01"] = With(normal, 2, -0.01f);
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

    private static float[] With(Row row, int feature, float value)
    {
        var x = row.Features.ToArray();
        x[feature] = value;
        return x;
    }
}
