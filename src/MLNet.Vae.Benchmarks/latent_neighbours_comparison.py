"""How the distance to the nearest training codes would rank Fashion-MNIST anomalies, compared offline with scikit-learn.

Reads the CSV files that `-- quality --dump FOLDER` writes (one per fit and class: split, anomalous, the weighted and
latent density scores, the latent means) and prints, per fit, the ROC-AUC of each candidate on every class and the mean.
A k-NN distance is the mean Euclidean distance from a row's latent mean to the k nearest training rows' latent means
(a training row's own code left out); sums standardize each term by its median and inter-quartile range / 1.349 over
the training rows, as the library's calibration does:

    dotnet run -c Release --project src/MLNet.Vae.Benchmarks -- quality --arch Convolutional --epochs 0 --dump /tmp/fashion
    python3 src/MLNet.Vae.Benchmarks/latent_neighbours_comparison.py /tmp/fashion

docs/decisions.md has the measurements.
"""
import glob
import os
import re
import sys
import warnings

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

warnings.filterwarnings("ignore")


def robust_z(train, values):
    spread = np.subtract(*np.percentile(train, [75, 25])) / 1.349
    return (values - np.median(train)) / (spread + 1e-12)


def neighbour_distances(train, test, k):
    """Mean distance to the k nearest training codes, for the training rows (themselves left out) and the test rows."""
    index = NearestNeighbors(n_neighbors=k + 1).fit(train)
    on_train, _ = index.kneighbors(train, k + 1)
    on_test, _ = index.kneighbors(test, k)
    return on_train[:, 1:].mean(1), on_test.mean(1)


def candidates(train, test):
    weighted = robust_z(train[:, 2], test[:, 2])
    knn = {k: neighbour_distances(train[:, 4:], test[:, 4:], k) for k in (5, 10, 20)}
    knn10 = robust_z(*knn[10])
    return {
        "WeightedReconstructionError": test[:, 2],
        "ReconstructionAndLatentDensity": test[:, 3],
        **{f"{k}-NN distance": knn[k][1] for k in knn},
        "W + 10-NN": weighted + knn10,
        "W + max(0, 10-NN)": weighted + np.maximum(0, knn10),
        "W / 2 + 10-NN": 0.5 * weighted + knn10,
    }


def main(folder):
    results = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.class*.csv"))):
        fit, label = re.match(r"(.*)\.class(\d+)\.csv", os.path.basename(path)).groups()
        rows = np.loadtxt(path, delimiter=",")
        train, test = rows[rows[:, 0] == 0], rows[rows[:, 0] == 1]
        for name, values in candidates(train, test).items():
            results.setdefault(fit, {}).setdefault(name, {})[int(label)] = roc_auc_score(test[:, 1], values)
    for fit, by_name in results.items():
        classes = sorted(next(iter(by_name.values())))
        print(f"{fit} (classes {','.join(map(str, classes))})")
        print(f"  {'':32s} {' '.join(f'{c:>6d}' for c in classes)}   mean")
        for name, by_class in by_name.items():
            print(f"  {name:32s} {' '.join(f'{by_class[c]:6.3f}' for c in classes)}  {np.mean(list(by_class.values())):.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
