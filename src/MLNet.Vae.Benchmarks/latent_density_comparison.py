"""How a latent-density term added to a VAE score would rank anomalies, compared offline with scikit-learn.

Reads the CSV files that `-- tabular --dump FOLDER` writes (label, score, latent means per row) and prints, for every
variant in the folder, the mean ROC-AUC of the score alone and of the score plus a term built from the latent means,
each standardized by its median and inter-quartile range / 1.349 (as the library's calibration does):

    dotnet run -c Release --project src/MLNet.Vae.Benchmarks -- tabular --suite realistic --variants score=ReconstructionAndLatent --dump /tmp/realistic
    python3 src/MLNet.Vae.Benchmarks/latent_density_comparison.py /tmp/realistic

This is how the latent density term of ReconstructionAndLatentDensity was chosen (docs/choosing-options.md).
"""
import glob
import os
import sys
import warnings

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.mixture import GaussianMixture
from sklearn.neighbors import NearestNeighbors

warnings.filterwarnings("ignore")


def robust_z(values):
    spread = np.subtract(*np.percentile(values, [75, 25])) / 1.349
    return (values - np.median(values)) / (spread + 1e-12)


def density(latent, components, covariance):
    mixture = GaussianMixture(components, covariance_type=covariance, random_state=0, reg_covar=1e-3).fit(latent)
    return robust_z(-mixture.score_samples(latent))


def candidates(score, latent):
    z = robust_z(score)
    d = {k: density(latent, k, "full") for k in (2, 3, 4, 6)}
    distances, _ = NearestNeighbors(n_neighbors=21).fit(latent).kneighbors(latent)
    return {
        "score": score,
        **{f"+D full {k}": z + d[k] for k in d},
        "+D diagonal 4": z + density(latent, 4, "diag"),
        "+max(0, D) full 4": z + np.maximum(0, d[4]),
        "+max(0, D - 1) full 4": z + np.maximum(0, d[4] - 1),
        "+D/2 full 4": z + 0.5 * d[4],
        "D alone full 4": d[4],
        "+20-NN distance": z + robust_z(distances[:, 1:].mean(1)),
    }


def main(folder):
    results = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.csv"))):
        variant = os.path.basename(path)[:-4].split(".", 1)[1]
        rows = np.loadtxt(path, delimiter=",")
        labels, score, latent = rows[:, 0], rows[:, 1], rows[:, 2:]
        score = np.where(np.isfinite(score), score, np.nanmax(score[np.isfinite(score)]))
        for name, values in candidates(score, latent).items():
            results.setdefault(variant, {}).setdefault(name, []).append(roc_auc_score(labels, values))
    for variant, by_name in results.items():
        print(f"{variant} ({len(next(iter(by_name.values())))} data sets)")
        for name, aucs in by_name.items():
            print(f"  {name:24s} {np.mean(aucs):.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
