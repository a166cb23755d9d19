namespace MLNet.Vae.Scoring;

/// <summary>
/// Where one ensemble member's scores sit on the training rows: their median and robust spread (inter-quartile range / 1.349,
/// σ for normal data; the standard deviation when that is 0, and 1 when both are), the cₖ and σₖ of <see cref="Model.VaeEnsemble"/>.
/// </summary>
internal sealed record MemberScale(float Center, float Scale)
{
    public static MemberScale Fit(float[] trainingScores)
    {
        var scale = RobustScale.Fit(trainingScores);
        return new MemberScale(scale.Center, scale.Scale);
    }

    public bool IsValid => float.IsFinite(Center) && float.IsFinite(Scale) && Scale > 0;
}
