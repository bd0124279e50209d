#!/usr/bin/env bash
# Re-executes notebooks-ts/*.ipynb (through scripts/run-notebooks.sh, the same run CI does) and writes the executed
# copies back, so the committed notebooks carry their outputs and an analyst can read them without running anything.
#   scripts/refresh-notebooks.sh                                         every notebook
#   scripts/refresh-notebooks.sh notebooks-ts/05-learned-vs-matrix.ipynb  only those
# Per-cell execution timestamps are dropped so a refresh changes only what the cells print.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
NOTEBOOKS="${*:-$(echo notebooks-ts/*.ipynb)}" NOTEBOOK_OUT="$out" bash scripts/run-notebooks.sh
python3 scripts/strip-notebook-timing.py "$out" ${*:-notebooks-ts/*.ipynb}
