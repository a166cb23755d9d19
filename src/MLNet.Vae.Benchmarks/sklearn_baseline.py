"""Classical detectors on the tabular development suite: scikit-learn's IsolationForest and PCA reconstruction error.

Reads every <name>.csv in the folder given (first column the label, 1 = anomaly; the rest the features), fits each
detector on all rows (the unsupervised protocol) and prints "name,iforest,pca" with ROC-AUCs. Run by
`MLNet.Vae.Benchmarks -- tabular` with Debian's /usr/bin/python3 when python3-sklearn is installed.
"""
import glob
import os
import sys

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.csv"))):
    data = np.loadtxt(path, delimiter=",", dtype=np.float64)
    labels, features = data[:, 0], data[:, 1:]
    forest = IsolationForest(random_state=1).fit(features)
    iforest = roc_auc_score(labels, -forest.score_samples(features))
    scaled = StandardScaler().fit_transform(features)
    pca = PCA(n_components=0.9, svd_solver="full", random_state=1).fit(scaled)
    reconstruction = pca.inverse_transform(pca.transform(scaled))
    pca_auc = roc_auc_score(labels, ((scaled - reconstruction) ** 2).sum(axis=1))
    print(f"{os.path.basename(path)[:-4]},{iforest:.4f},{pca_auc:.4f}", flush=True)
