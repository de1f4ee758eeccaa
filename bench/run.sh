#!/usr/bin/env bash
# make bench: every bench/NN-*.sh in order. Each prints table rows; ratios, not assertions.
set -euo pipefail
cd "$(dirname "$0")/.."
export IPCAT="$PWD/bin/ipcat"
export BENCH_TMP="$PWD/.bench"
mkdir -p "$BENCH_TMP"
for script in bench/[0-9][0-9]-*.sh; do
  echo
  echo "== $(basename "$script" .sh)"
  bash "$script"
done
