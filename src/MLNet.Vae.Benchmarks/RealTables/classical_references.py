"""The classical detectors on the real-table development suite, under the all-rows protocol: StandardScaler and each
detector are fitted on all rows without labels, and all rows are scored (higher = more anomalous).

IsolationForest(n_estimators=100, random_state=0); PCA's squared reconstruction error with k = d // 2 components for
d <= 20 and min(20, d - 1) otherwise (randomized solver, random_state=0); OneClassSVM(rbf, gamma='scale', nu=0.1);
LocalOutlierFactor(n_neighbors=20); KNN: the mean distance to the 5 nearest other rows.
Usage: python3 classical_references.py <suite folder> [name ...]; prints "name,iforest,pca,ocsvm,lof,knn" (ROC-AUC) per table.
Run by `MLNet.Vae.Benchmarks -- tabular --suite real` in the same run as the VAE.
"""
import os
import sys

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

DETECTORS = ["iforest", "pca", "ocsvm", "lof", "knn"]


def scores(x):
    d = x.shape[1]
    scaled = StandardScaler().fit_transform(x)
    forest = IsolationForest(n_estimators=100, random_state=0).fit(scaled)
    k = d // 2 if d <= 20 else min(20, d - 1)
    pca = PCA(n_components=k, svd_solver="randomized", random_state=0).fit(scaled)
    reconstruction = pca.inverse_transform(pca.transform(scaled))
    svm = OneClassSVM(kernel="rbf", gamma="scale", nu=0.1).fit(scaled)
    lof = LocalOutlierFactor(n_neighbors=20).fit(scaled)
    distances, _ = NearestNeighbors(n_neighbors=6).fit(scaled).kneighbors(scaled)
    return {
        "iforest": -forest.score_samples(scaled),
        "pca": ((scaled - reconstruction) ** 2).sum(axis=1),
        "ocsvm": -svm.score_samples(scaled),
        "lof": -lof.negative_outlier_factor_,
        "knn": distances[:, 1:].mean(axis=1),
    }


def main():
    folder = sys.argv[1]
    names = sys.argv[2:] or sorted(f[:-4] for f in os.listdir(folder) if f.endswith(".csv"))
    for name in names:
        data = np.loadtxt(os.path.join(folder, f"{name}.csv"), delimiter=",", skiprows=1)
        x, y = data[:, :-1], data[:, -1]
        by_detector = scores(x)
        print(",".join([name] + [f"{roc_auc_score(y, by_detector[d]):.4f}" for d in DETECTORS]), flush=True)


if __name__ == "__main__":
    main()
