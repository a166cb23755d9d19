namespace MLNet.Vae.Reporting;

/// <summary>Projects latent means on their first two principal components, for a 2-D map.</summary>
internal static class LatentProjection
{
    private const int PowerIterations = 300;

    /// <summary>
    /// [rows × 2]: the centred latent means times the top two eigenvectors of their covariance, found by power iteration
    /// with deflation (the latent space is small). One dimension: its centred value and 0.
    /// </summary>
    public static float[,] FirstTwoComponents(IReadOnlyList<float[]> latent)
    {
        int rows = latent.Count, dimension = rows == 0 ? 0 : latent[0].Length;
        var projected = new float[rows, 2];
        if (rows == 0) return projected;
        var mean = new double[dimension];
        foreach (var row in latent)
            for (int j = 0; j < dimension; j++) mean[j] += row[j] / (double)rows;
        var covariance = new double[dimension, dimension];
        foreach (var row in latent)
            for (int i = 0; i < dimension; i++)
                for (int j = 0; j < dimension; j++)
                    covariance[i, j] += (row[i] - mean[i]) * (row[j] - mean[j]);
        var components = new List<double[]>();
        for (int k = 0; k < Math.Min(2, dimension); k++)
        {
            var vector = TopEigenvector(covariance, seed: k);
            components.Add(vector);
            double value = Quadratic(covariance, vector);
            for (int i = 0; i < dimension; i++)
                for (int j = 0; j < dimension; j++) covariance[i, j] -= value * vector[i] * vector[j];
        }
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < components.Count; k++)
            {
                double sum = 0;
                for (int j = 0; j < dimension; j++) sum += (latent[r][j] - mean[j]) * components[k][j];
                projected[r, k] = (float)sum;
            }
        return projected;
    }

    private static double[] TopEigenvector(double[,] matrix, int seed)
    {
        int n = matrix.GetLength(0);
        var random = new Random(seed);
        var vector = Enumerable.Range(0, n).Select(_ => random.NextDouble() + 0.1).ToArray();
        Normalize(vector);
        for (int iteration = 0; iteration < PowerIterations; iteration++)
        {
            var next = new double[n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) next[i] += matrix[i, j] * vector[j];
            if (!Normalize(next)) break;
            vector = next;
        }
        return vector;
    }

    private static double Quadratic(double[,] matrix, double[] vector)
    {
        double sum = 0;
        for (int i = 0; i < vector.Length; i++)
            for (int j = 0; j < vector.Length; j++) sum += vector[i] * matrix[i, j] * vector[j];
        return sum;
    }

    private static bool Normalize(double[] vector)
    {
        double norm = Math.Sqrt(vector.Sum(v => v * v));
        if (norm < 1e-300) return false;
        for (int i = 0; i < vector.Length; i++) vector[i] /= norm;
        return true;
    }
}
