using MLNet.Vae.Tensors;
using static TorchSharp.torch;

namespace MLNet.Vae.Reporting;

/// <summary>Projects latent means on their first two principal components, for a 2-D map.</summary>
internal static class LatentProjection
{
    /// <summary>[rows × 2]: the centred latent means times the top two right singular vectors (one dimension: its value and 0).</summary>
    public static float[,] FirstTwoComponents(float[] latent, int rows, int latentDimension)
    {
        var projected = new float[rows, 2];
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var means = MLNet.Vae.Tensors.TensorCopy.FromRows(latent, rows, latentDimension);
        var centred = means - means.mean([0L], keepdim: true);
        Tensor coordinates;
        if (latentDimension == 1 || rows < 2)
        {
            coordinates = cat([centred.narrow(1, 0, 1), zeros(rows, 1)], 1);
        }
        else
        {
            var (_, _, vh) = linalg.svd(centred, fullMatrices: false);
            coordinates = centred.mm(vh.narrow(0, 0, 2).t());
        }
        var values = MLNet.Vae.Tensors.TensorCopy.ToArray(coordinates);
        for (int r = 0; r < rows; r++)
        {
            projected[r, 0] = values[2 * r];
            projected[r, 1] = values[2 * r + 1];
        }
        return projected;
    }
}
