"""How far any fixed combination of the VAE's score terms and the five classical detectors could go on the real suite.

An upper bound for a single default: the weights of a nonnegative sum of robust z-scores are chosen with the tables'
labels (coordinate ascent on the mean ROC-AUC, from the VAE's default and five random starts), which no unsupervised
default can do; leave-one-table-out then says how much of that in-sample figure is fitted to the twelve tables. Also
prints each score alone and the per-table oracle (the best score chosen per table with its labels).

Reads the rows that the benchmark dumps with seeds 1..S:

    dotnet run -c Release --project src/MLNet.Vae.Benchmarks -- tabular --suite real --seeds 3 \
        --variants default,score=ReconstructionError --dump /tmp/realdump
    python3 src/MLNet.Vae.Benchmarks/RealTables/combination_bound.py /tmp/realdump 3

Scores: the VAE's default score; R, its reconstruction error (the ReconstructionError kind); N, the mean distance from a
row's latent mean to its 2nd-11th nearest of up to 2,048 evenly spread training codes, as the library computes it (from
the first member's codes when the default fits an ensemble); and IsolationForest, PCA, OneClassSvm, LOF and KNN as
classical_references.py computes them. docs/decisions.md has the figures.
"""
import os
import sys

import numpy as np
from sklearn.metrics import roc_auc_score

from classical_references import scores as classical

TABLES = ["vertebral", "heart", "ilpd", "body", "cells", "dhfr", "german", "lending", "churn", "hpc", "cps1988", "hmda"]
CLASSICAL = ["iforest", "pca", "ocsvm", "lof", "knn"]
NAMES = ["VAE default", "R", "N"] + CLASSICAL


def robust_z(values):
    spread = np.subtract(*np.percentile(values, [75, 25])) / 1.349
    return (values - np.median(values)) / (spread if spread > 0 else 1.0)


def neighbour_distance(codes, k=10, stored=2048):
    n = len(codes)
    kept = codes[(np.arange(min(n, stored)) * n) // min(n, stored)]
    result = np.empty(n)
    for start in range(0, n, 2000):
        squared = ((codes[start:start + 2000, None, :] - kept[None, :, :]) ** 2).sum(-1)
        result[start:start + 2000] = np.sqrt(np.sort(squared, axis=1)[:, 1:k + 1]).mean(axis=1)
    return result


def load(dump, suite, seeds):
    columns, labels = {}, {}
    for table in TABLES:
        rows = np.loadtxt(os.path.join(suite, f"{table}.csv"), delimiter=",", skiprows=1)
        labels[table] = rows[:, -1]
        reference = classical(rows[:, :-1])
        columns[table] = []
        for seed in range(1, seeds + 1):
            default = np.loadtxt(os.path.join(dump, f"{table}.default.seed{seed}.csv"), delimiter=",")
            error = np.loadtxt(os.path.join(dump, f"{table}.score=ReconstructionError.seed{seed}.csv"), delimiter=",")
            scores = [default[:, 1], error[:, 1], neighbour_distance(error[:, 2:])] + [reference[d] for d in CLASSICAL]
            columns[table].append(np.stack([robust_z(s) for s in scores], axis=1))
    return columns, labels


def main():
    dump, seeds = sys.argv[1], int(sys.argv[2])
    suite = sys.argv[3] if len(sys.argv) > 3 else os.environ.get(
        "MLNET_VAE_REAL_TABLES", os.path.expanduser("~/.local/share/mlnet-vae/real-tables"))
    columns, labels = load(dump, suite, seeds)

    def table_auc(weights, table):
        return np.mean([roc_auc_score(labels[table], c @ weights) for c in columns[table]])

    def mean_auc(weights, tables):
        return np.mean([table_auc(weights, t) for t in tables])

    def ascend(tables, starts):
        rng, best = np.random.default_rng(0), (-1.0, None)
        for start in range(starts):
            weights = np.eye(len(NAMES))[0] if start == 0 else rng.uniform(0, 1, len(NAMES))
            current, step = mean_auc(weights, tables), 0.5
            while step > 0.02:
                improved = False
                for i in range(len(NAMES)):
                    for delta in (step, -step):
                        trial = weights.copy()
                        trial[i] = max(0.0, trial[i] + delta)
                        if trial.sum() > 0 and (value := mean_auc(trial, tables)) > current + 1e-5:
                            weights, current, improved = trial, value, True
                if not improved:
                    step /= 2
            if current > best[0]:
                best = (current, weights)
        return best

    unit = np.eye(len(NAMES))
    for i, name in enumerate(NAMES):
        print(f"{name}: {mean_auc(unit[i], TABLES):.3f}")
    print(f"per-table oracle over these {len(NAMES)} scores: {np.mean([max(table_auc(u, t) for u in unit) for t in TABLES]):.3f}")
    best, weights = ascend(TABLES, starts=6)
    print(f"label-tuned nonnegative sum, in sample: {best:.3f} (weights {', '.join(f'{n} {w:.2f}' for n, w in zip(NAMES, weights / weights.sum()) if w > 0)})")
    held_out = [table_auc(ascend([u for u in TABLES if u != t], starts=3)[1], t) for t in TABLES]
    print(f"the same, each table scored with weights tuned on the other eleven: {np.mean(held_out):.3f}")


if __name__ == "__main__":
    main()
