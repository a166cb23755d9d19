#!/usr/bin/env bash
# Installs what the benchmarks need on Debian 12: the Fashion-MNIST data set and, for the PyTorch baseline, Debian's
# torch with the OpenMP OpenBLAS (without it torch falls back to the reference BLAS, ~30x slower, no fair comparison).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq dataset-fashion-mnist python3-torch libopenblas0-openmp python3-sklearn
