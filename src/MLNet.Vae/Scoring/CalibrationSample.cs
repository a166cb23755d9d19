namespace MLNet.Vae.Scoring;

/// <summary>
/// What the score kinds calibrate on: for a sample of the training rows (<c>ScoreCalibrator</c> draws it), each row's
/// reconstruction-error terms [n × d], latent mean [n × L] and latent term [n].
/// </summary>
internal sealed record CalibrationSample(int Count, int Width, int LatentDimension, float[] Terms, float[] Means, float[] LatentTerms)
{
    /// <summary>Row r's reconstruction-error terms.</summary>
    public ReadOnlySpan<float> TermsOf(int r) => Terms.AsSpan(r * Width, Width);

    /// <summary>Row r's latent mean.</summary>
    public ReadOnlySpan<float> MeanOf(int r) => Means.AsSpan(r * LatentDimension, LatentDimension);

    /// <summary>Σᵢ wᵢ tᵢ for every row (wᵢ = 1 when <paramref name="weights"/> is null): the reconstruction errors.</summary>
    public float[] WeightedSums(float[]? weights)
    {
        var sums = new float[Count];
        for (int r = 0; r < Count; r++)
        {
            var terms = TermsOf(r);
            double sum = 0;
            for (int i = 0; i < Width; i++) sum += terms[i] * (weights?[i] ?? 1f);
            sums[r] = (float)sum;
        }
        return sums;
    }
}
