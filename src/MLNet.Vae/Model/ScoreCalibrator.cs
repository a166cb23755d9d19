using MLNet.Vae.Scoring;

namespace MLNet.Vae.Model;

/// <summary>
/// The one owner of calibration: draws the calibration rows from the training rows, in memory or streamed alike, runs the
/// model on them (<see cref="VaeModel.CalibrationSample"/>) and calibrates the score kind on what it gives.
/// </summary>
/// <remarks>
/// The rule, the same for every source: up to <see cref="MaximumRows"/> rows (fewer for rows wider than 2,048 values, so
/// that the sample's values stay within 16 Mi floats), at evenly spaced positions of one pass over the rows. Each kind's
/// centres and scales, feature weights, mixture or stored codes come from these rows.
/// </remarks>
internal static class ScoreCalibrator
{
    /// <summary>The most calibration rows: the weights, medians and spreads of 8,192 rows are as those of all of them.</summary>
    public const int MaximumRows = 8192;

    /// <summary>The most values the calibration rows may hold (64 MiB of float32).</summary>
    public const int MaximumValues = 1 << 24;

    /// <summary>How many rows calibrate a model of <paramref name="width"/> features trained on <paramref name="rowCount"/> rows.</summary>
    public static int SampleRows(long rowCount, int width) => (int)Math.Min(rowCount, Math.Clamp(MaximumValues / width, 2, MaximumRows));

    /// <summary>Calibrates the model's kind on the rows <paramref name="blocks"/> gives (one pass, <paramref name="rowCount"/> rows).</summary>
    public static void Calibrate(VaeModel model, IEnumerable<(float[] Rows, int Count)> blocks, long rowCount)
    {
        if (!model.Kind.NeedsCalibration) return;
        model.Kind = Calibrated(model, model.Kind, blocks, rowCount);
    }

    /// <summary>
    /// Another kind than the model's, calibrated for it on <paramref name="count"/> rows held in memory: for comparisons of the
    /// kinds on one fit (the benchmarks, the tests).
    /// </summary>
    public static ScoreKindModel Calibrated(VaeModel model, VaeScoreKind kind, float[] rows, int count) =>
        Calibrated(model, ScoreKinds.Create(kind, model.KindContext), [(rows, count)], count);

    /// <summary><paramref name="kind"/> calibrated for <paramref name="model"/> on the sample of those rows (<see cref="Calibrate"/>).</summary>
    public static ScoreKindModel Calibrated(VaeModel model, ScoreKindModel kind, IEnumerable<(float[] Rows, int Count)> blocks, long rowCount)
    {
        if (!kind.NeedsCalibration) return kind;
        int width = model.InputWidth, sampleRows = SampleRows(rowCount, width);
        var sample = new float[(long)sampleRows * width];
        int taken = 0;
        long position = 0;
        foreach (var (rows, count) in blocks)
        {
            for (int r = 0; r < count && taken < sampleRows; r++, position++)
            {
                // Row m of the sample is row ⌊m · n / M⌋ of the pass.
                if (position != taken * rowCount / sampleRows) continue;
                rows.AsSpan(r * width, width).CopyTo(sample.AsSpan(taken * width, width));
                taken++;
            }
        }
        return kind.Calibrated(model.CalibrationSample(sample, taken));
    }
}
