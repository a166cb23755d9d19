using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text.Json.Serialization;

namespace MLNet.Vae.Scoring;

/// <summary>
/// A Gaussian mixture with full covariances fitted to the training rows' latent means μ(x): where the encoder actually puts
/// the data, which the prior N(0, I) does not say (a gap between two clusters of codes has high prior density). Its
/// negative log density is the latent term of <see cref="VaeScoreKind.ReconstructionAndLatentDensity"/>:
/// D(z) = −log Σₖ πₖ N(z; cₖ, Σₖ), with N(z; c, Σ) = (2π)^(−L/2) det(U) exp(−½ ‖(z − c)ᵀ U‖²) and U the upper-triangular
/// factor of the precision, Σ⁻¹ = U Uᵀ (scikit-learn's precisions_cholesky).
/// </summary>
/// <param name="LogWeights">log πₖ, [K].</param>
/// <param name="Means">cₖ, row-major [K × L].</param>
/// <param name="PrecisionFactors">Uₖ, row-major [K × L × L], zero below the diagonal.</param>
internal sealed record LatentCodeDensity(float[] LogWeights, float[] Means, float[] PrecisionFactors)
{
    /// <summary>At most this many components: more split normal clusters without ranking anomalies better (docs/choosing-options.md).</summary>
    public const int MaximumComponents = 4;
    /// <summary>Rows per component below which a component's covariance is mostly its regularization, so fewer are fitted.</summary>
    public const int RowsPerComponent = 25;
    /// <summary>Added to every covariance's diagonal: keeps a collapsed latent dimension (all μⱼ nearly equal) from dominating.</summary>
    public const double CovarianceFloor = 1e-3;
    /// <summary>Rows the mixture is fitted on at most (a uniform sample of the training rows above), and its density's centre and scale.</summary>
    public const int MaximumFitRows = 10_000;
    private const int MaximumIterations = 100;
    private const double Tolerance = 1e-3;

    [JsonIgnore] public int Components => LogWeights.Length;
    [JsonIgnore] public int Dimension => Means.Length / Math.Max(1, LogWeights.Length);

    /// <summary>How many components <see cref="Fit"/> uses for <paramref name="rows"/> rows.</summary>
    public static int ComponentsFor(int rows) => Math.Clamp(rows / RowsPerComponent, 1, MaximumComponents);

    /// <summary>Whether it is a mixture over <paramref name="dimension"/> dimensions with finite parameters and a positive factor diagonal.</summary>
    public bool IsValidFor(int dimension)
    {
        // Null checks too: a file's JSON can leave out any of the three.
        if (LogWeights is null || Means is null || PrecisionFactors is null) return false;
        int k = LogWeights.Length;
        if (k < 1 || k > 64 || dimension < 1) return false;
        if (Means.Length != k * dimension || PrecisionFactors.LongLength != (long)k * dimension * dimension) return false;
        if (!LogWeights.All(float.IsFinite) || !Means.All(float.IsFinite) || !PrecisionFactors.All(float.IsFinite)) return false;
        for (int c = 0; c < k; c++)
            for (int j = 0; j < dimension; j++)
                if (!(PrecisionFactors[(c * dimension + j) * dimension + j] > 0)) return false;
        return true;
    }

    /// <summary>A copy (<c>with</c>) of the parameters alone: the caches below belong to the parameters they were computed from.</summary>
    private LatentCodeDensity(LatentCodeDensity original)
    {
        LogWeights = original.LogWeights;
        Means = original.Means;
        PrecisionFactors = original.PrecisionFactors;
    }

    private double[]? _logNormalizers;

    /// <summary>log πₖ + log det Uₖ − (L/2) log 2π: each component's log density at its own centre (computed once).</summary>
    public double[] LogNormalizers() => _logNormalizers ??=
        ComputeLogNormalizers(LogWeights.Select(v => (double)v).ToArray(), PrecisionFactors.Select(v => (double)v).ToArray(), Dimension);

    /// <summary>log πₖ + log det Uₖ − (L/2) log 2π for each component, from log πₖ and the factors [K × L × L].</summary>
    private static double[] ComputeLogNormalizers(double[] logWeights, double[] factors, int l)
    {
        var result = new double[logWeights.Length];
        for (int c = 0; c < result.Length; c++)
        {
            double logDeterminant = 0;
            for (int j = 0; j < l; j++) logDeterminant += Math.Log(factors[(c * l + j) * l + j]);
            result[c] = logWeights[c] + logDeterminant - 0.5 * l * Math.Log(2 * Math.PI);
        }
        return result;
    }

    /// <summary>The factors in float64, each row padded with zeros to whole vectors: [K × L × padded].</summary>
    private double[]? _paddedFactors;

    /// <summary>The means in float64, [K × L].</summary>
    private double[]? _means;

    /// <summary><paramref name="l"/> rounded up to whole <see cref="Vector{T}"/>s of float64.</summary>
    private static int Padded(int l) => (l + Vector<double>.Count - 1) / Vector<double>.Count * Vector<double>.Count;

    private double[] PaddedFactors() => _paddedFactors ??= Pad(PrecisionFactors.Select(v => (double)v).ToArray(), Components, Dimension);

    /// <summary>[k × l × l] factors → [k × l × padded], each row zero-padded to whole vectors.</summary>
    private static double[] Pad(double[] factors, int k, int l)
    {
        int padded = Padded(l);
        var result = new double[k * l * padded];
        for (int row = 0; row < k * l; row++) factors.AsSpan(row * l, l).CopyTo(result.AsSpan(row * padded));
        return result;
    }

    /// <summary>
    /// ½ ‖dᵀ U‖² for the centred point <paramref name="centred"/> (length l) and one component's padded factor rows
    /// (<see cref="Pad"/>): yᵀ = dᵀ U accumulated a row of U at a time in whole vectors (U is zero below its diagonal and
    /// in the padding). <paramref name="y"/> is scratch of the padded length.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double HalfQuadratic(ReadOnlySpan<double> centred, ReadOnlySpan<double> factorRows, Span<double> y)
    {
        int padded = y.Length, width = Vector<double>.Count;
        y.Clear();
        for (int i = 0; i < centred.Length; i++)
        {
            var d = new Vector<double>(centred[i]);
            var row = factorRows.Slice(i * padded, padded);
            for (int j = 0; j < padded; j += width)
                Vector.FusedMultiplyAdd(d, new Vector<double>(row[j..]), new Vector<double>(y[j..])).CopyTo(y[j..]);
        }
        var squares = Vector<double>.Zero;
        for (int j = 0; j < padded; j += width)
        {
            var v = new Vector<double>(y[j..]);
            squares = Vector.FusedMultiplyAdd(v, v, squares);
        }
        return 0.5 * Vector.Sum(squares);
    }

    /// <summary>
    /// aₖ − ½ ‖(z − cₖ)ᵀ Uₖ‖² for each component k into <paramref name="logTerms"/>: log πₖ N(z; cₖ, Σₖ), with aₖ from
    /// <paramref name="normalizers"/>, cₖ from <paramref name="means"/> [K × L] and Uₖ from <paramref name="paddedFactors"/>
    /// (<see cref="Pad"/>); <paramref name="centred"/> (L) and <paramref name="y"/> (padded L) are scratch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ComponentLogTerms(ReadOnlySpan<double> z, ReadOnlySpan<double> means, ReadOnlySpan<double> normalizers,
        ReadOnlySpan<double> paddedFactors, Span<double> centred, Span<double> y, Span<double> logTerms)
    {
        int l = z.Length, componentValues = l * y.Length;
        for (int c = 0; c < logTerms.Length; c++)
        {
            for (int i = 0; i < l; i++) centred[i] = z[i] - means[c * l + i];
            logTerms[c] = normalizers[c] - HalfQuadratic(centred, paddedFactors.Slice(c * componentValues, componentValues), y);
        }
    }

    /// <summary>log Σₖ exp(tₖ), shifted by the largest tₖ; −∞ when every term is −∞ or one is NaN.</summary>
    private static double LogSumExp(ReadOnlySpan<double> terms)
    {
        double largest = double.NegativeInfinity;
        foreach (double t in terms) largest = double.IsNaN(t) ? double.NaN : Math.Max(largest, t);
        if (!double.IsFinite(largest)) return double.NegativeInfinity;
        double sum = 0;
        foreach (double t in terms) sum += Math.Exp(t - largest);
        return largest + Math.Log(sum);
    }

    /// <summary>
    /// D(z) = −log Σₖ πₖ N(z; cₖ, Σₖ) in double precision; <paramref name="normalizers"/> from <see cref="LogNormalizers"/>.
    /// +∞ when z holds NaN or lies where every component's density underflows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double NegativeLogDensity(ReadOnlySpan<float> z, double[] normalizers)
    {
        int l = Dimension;
        var means = _means ??= Means.Select(v => (double)v).ToArray();
        Span<double> point = stackalloc double[l];
        for (int i = 0; i < l; i++) point[i] = z[i];
        Span<double> logTerms = stackalloc double[Components];
        Span<double> centred = stackalloc double[l];
        Span<double> y = stackalloc double[Padded(l)];
        ComponentLogTerms(point, means, normalizers, PaddedFactors(), centred, y, logTerms);
        return -LogSumExp(logTerms);
    }

    /// <summary>
    /// Fits <see cref="ComponentsFor"/>(rows) components to <paramref name="count"/> points of <paramref name="dimension"/>
    /// values (row-major) by expectation-maximization, started from k-means++ seeds refined by Lloyd's iterations, as
    /// scikit-learn's GaussianMixture starts from k-means. Deterministic for a seed.
    /// </summary>
    public static LatentCodeDensity Fit(ReadOnlySpan<float> points, int count, int dimension, int seed)
    {
        int n = count, l = dimension, k = ComponentsFor(count);
        var x = new double[n * l];
        for (int i = 0; i < x.Length; i++) x[i] = points[i];
        var responsibilities = new double[n * k];
        var assignment = KMeans(x, n, l, k, new Random(seed));
        for (int r = 0; r < n; r++) responsibilities[r * k + assignment[r]] = 1;

        var weights = new double[k];
        var means = new double[k * l];
        var factors = new double[k * l * l];
        double previous = double.NegativeInfinity;
        for (int iteration = 0; iteration < MaximumIterations; iteration++)
        {
            Maximize(x, n, l, k, responsibilities, weights, means, factors);
            double meanLogLikelihood = Expect(x, n, l, k, weights, means, factors, responsibilities);
            if (Math.Abs(meanLogLikelihood - previous) < Tolerance) break;
            previous = meanLogLikelihood;
        }
        return new LatentCodeDensity(
            weights.Select(w => (float)Math.Log(w)).ToArray(),
            means.Select(v => (float)v).ToArray(),
            factors.Select(v => (float)v).ToArray());
    }

    /// <summary>M-step: πₖ, cₖ and Uₖ from the responsibilities (scikit-learn's, with its 10ε floor on each Nₖ).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Maximize(double[] x, int n, int l, int k, double[] responsibilities, double[] weights, double[] means, double[] factors)
    {
        int padded = Padded(l), width = Vector<double>.Count;
        var covariance = new double[l * padded];
        var centred = new double[padded];
        var lower = new double[l * l];
        for (int c = 0; c < k; c++)
        {
            double total = 10 * double.Epsilon;
            Array.Clear(means, c * l, l);
            for (int r = 0; r < n; r++)
            {
                double w = responsibilities[r * k + c];
                total += w;
                for (int j = 0; j < l; j++) means[c * l + j] += w * x[r * l + j];
            }
            for (int j = 0; j < l; j++) means[c * l + j] /= total;
            weights[c] = total / n;
            Array.Clear(covariance);
            for (int r = 0; r < n; r++)
            {
                double w = responsibilities[r * k + c];
                if (w == 0) continue;
                for (int j = 0; j < l; j++) centred[j] = x[r * l + j] - means[c * l + j];
                // Σ += w d dᵀ, whole padded rows at a time (the full matrix: twice the arithmetic of a triangle, in vectors).
                for (int i = 0; i < l; i++)
                {
                    var scaled = new Vector<double>(w * centred[i]);
                    var row = covariance.AsSpan(i * padded, padded);
                    for (int j = 0; j < padded; j += width)
                        Vector.FusedMultiplyAdd(scaled, new Vector<double>(centred, j), new Vector<double>(row[j..])).CopyTo(row[j..]);
                }
            }
            for (int i = 0; i < l; i++)
            {
                for (int j = 0; j <= i; j++) lower[i * l + j] = covariance[i * padded + j] / total;
                lower[i * l + i] += CovarianceFloor;
            }
            PrecisionFactor(lower, l, factors.AsSpan(c * l * l, l * l));
        }
        double sum = weights.Sum();
        for (int c = 0; c < k; c++) weights[c] /= sum;
    }

    /// <summary>U = (L⁻¹)ᵀ for the Cholesky factor L of Σ (lower triangle given), so that Σ⁻¹ = U Uᵀ.</summary>
    private static void PrecisionFactor(double[] covariance, int l, Span<double> factor)
    {
        var lower = new double[l * l];
        for (int i = 0; i < l; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = covariance[i * l + j];
                for (int p = 0; p < j; p++) s -= lower[i * l + p] * lower[j * l + p];
                // The floor on the diagonal keeps Σ positive definite; the guard only matters for rounding.
                lower[i * l + j] = i == j ? Math.Sqrt(Math.Max(s, CovarianceFloor * 1e-3)) : s / lower[j * l + j];
            }
        // Columns of L⁻¹ by forward substitution; Uᵢⱼ = (L⁻¹)ⱼᵢ.
        factor.Clear();
        for (int column = 0; column < l; column++)
            for (int i = column; i < l; i++)
            {
                double s = i == column ? 1 : 0;
                for (int p = column; p < i; p++) s -= lower[i * l + p] * factor[column * l + p];
                factor[column * l + i] = s / lower[i * l + i];
            }
    }

    /// <summary>E-step: the responsibilities; returns the mean log-likelihood of the points.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Expect(double[] x, int n, int l, int k, double[] weights, double[] means, double[] factors, double[] responsibilities)
    {
        var logTerms = new double[k];
        var centred = new double[l];
        var y = new double[Padded(l)];
        var padded = Pad(factors, k, l);
        var normalizers = ComputeLogNormalizers(weights.Select(w => Math.Log(Math.Max(w, double.Epsilon))).ToArray(), factors, l);
        double total = 0;
        for (int r = 0; r < n; r++)
        {
            ComponentLogTerms(x.AsSpan(r * l, l), means, normalizers, padded, centred, y, logTerms);
            double logDensity = LogSumExp(logTerms);
            if (!double.IsFinite(logDensity))
            {
                // Far from every component (each density underflows): shared evenly, and left out of the likelihood.
                for (int c = 0; c < k; c++) responsibilities[r * k + c] = 1.0 / k;
                continue;
            }
            total += logDensity;
            for (int c = 0; c < k; c++)
            {
                // Below 10⁻¹² a responsibility changes no parameter in float32; as 0 the M-step skips the point.
                double responsibility = Math.Exp(logTerms[c] - logDensity);
                responsibilities[r * k + c] = responsibility < 1e-12 ? 0 : responsibility;
            }
        }
        return total / n;
    }

    /// <summary>Each point's cluster after k-means++ seeding and up to 20 of Lloyd's iterations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int[] KMeans(double[] x, int n, int l, int k, Random random)
    {
        var centres = new double[k * l];
        var nearest = new double[n];
        int first = random.Next(n);
        Array.Copy(x, first * l, centres, 0, l);
        Array.Fill(nearest, double.PositiveInfinity);
        for (int c = 1; c < k; c++)
        {
            double total = 0;
            for (int r = 0; r < n; r++)
            {
                nearest[r] = Math.Min(nearest[r], SquaredDistance(x, r, centres, c - 1, l));
                total += nearest[r];
            }
            // The next seed is drawn with probability proportional to its squared distance from the seeds so far.
            double target = random.NextDouble() * total;
            int chosen = n - 1;
            for (int r = 0; r < n; r++)
            {
                target -= nearest[r];
                if (target < 0) { chosen = r; break; }
            }
            Array.Copy(x, chosen * l, centres, c * l, l);
        }
        var assignment = new int[n];
        var counts = new int[k];
        for (int iteration = 0; iteration < 20; iteration++)
        {
            bool changed = iteration == 0;
            for (int r = 0; r < n; r++)
            {
                int best = 0;
                double bestDistance = double.PositiveInfinity;
                for (int c = 0; c < k; c++)
                {
                    double d = SquaredDistance(x, r, centres, c, l);
                    if (d < bestDistance) (best, bestDistance) = (c, d);
                }
                changed |= assignment[r] != best;
                assignment[r] = best;
            }
            if (!changed) break;
            Array.Clear(centres);
            Array.Clear(counts);
            for (int r = 0; r < n; r++)
            {
                counts[assignment[r]]++;
                for (int j = 0; j < l; j++) centres[assignment[r] * l + j] += x[r * l + j];
            }
            for (int c = 0; c < k; c++)
                for (int j = 0; j < l; j++)
                    // An emptied cluster keeps a centre at the origin; EM then gives it a tiny weight.
                    centres[c * l + j] = counts[c] > 0 ? centres[c * l + j] / counts[c] : 0;
        }
        return assignment;
    }

    private static double SquaredDistance(double[] x, int row, double[] centres, int centre, int l)
    {
        double sum = 0;
        for (int j = 0; j < l; j++)
        {
            double d = x[row * l + j] - centres[centre * l + j];
            sum += d * d;
        }
        return sum;
    }
}
