#!/usr/bin/env bash
# Rebuilds the real-table development suite on Debian 12: installs R and the five R data packages it comes from, and
# scikit-learn for the classical references; exports the twelve data frames (export.R), applies the recipes and checks
# every table's MD5 (build_real_tables.py). The tables go to $MLNET_VAE_REAL_TABLES, by default
# ~/.local/share/mlnet-vae/real-tables, where `MLNet.Vae.Benchmarks -- tabular --suite real` reads them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${1:-${MLNET_VAE_REAL_TABLES:-$HOME/.local/share/mlnet-vae/real-tables}}"
export DEBIAN_FRONTEND=noninteractive
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends r-base-core r-cran-ddalpha r-cran-modeldata r-cran-caret r-cran-aer r-cran-gclus \
  python3-numpy python3-sklearn
frames="$(mktemp -d)"
trap 'rm -rf "$frames"' EXIT
Rscript "$here/export.R" "$frames"
/usr/bin/python3 "$here/build_real_tables.py" "$frames" "$target"
echo "The real-table suite is in $target."
