#!/usr/bin/env bash
# Executes every notebooks-ts/*.ipynb headless with the tslab TypeScript kernel; exits non-zero on a cell error.
#   scripts/run-notebooks.sh            install what is missing, register the kernel, execute
#   scripts/run-notebooks.sh --install  only install and register (CI calls this before the tests)
#   NOTEBOOKS="notebooks-ts/05-learned-vs-matrix.ipynb" scripts/run-notebooks.sh   only those
# Needs Debian's jupyter-nbconvert, python3-ipykernel and jupyter-client (installed here as root or with sudo -n)
# and tslab from node_modules (a devDependency). Executed copies go to $NOTEBOOK_OUT (default: a temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v jupyter-nbconvert >/dev/null 2>&1 || ! command -v jupyter-kernelspec >/dev/null 2>&1 \
  || ! /usr/bin/python3 -c 'import ipykernel' >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; fi
  if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
    echo "run-notebooks: jupyter is missing and neither root nor sudo: install jupyter-nbconvert python3-ipykernel jupyter-client" >&2
    exit 2
  fi
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    jupyter-nbconvert python3-ipykernel jupyter-client >/dev/null
fi

# The kernel must run under the Python that `jupyter` itself runs with (Debian's, not a pyenv shim first on PATH).
JUPYTER_PY=$(head -1 "$(command -v jupyter)" | sed -n 's/^#! *//p' | awk '{print $1}')
[ -x "${JUPYTER_PY:-}" ] || JUPYTER_PY=/usr/bin/python3
TSLAB="$PWD/node_modules/.bin/tslab"
[ -x "$TSLAB" ] || { echo "run-notebooks: $TSLAB missing: run npm ci first" >&2; exit 2; }
# Re-registered every run (idempotent): the kernelspec points at this checkout's tslab.
node "$PWD/node_modules/tslab/bin/tslab" install --python="$JUPYTER_PY" --binary="$TSLAB" >/dev/null

[ "${1:-}" = "--install" ] && exit 0

OUT=${NOTEBOOK_OUT:-$(mktemp -d)}
mkdir -p "$OUT"
failed=()
# NOTEBOOKS (space-separated paths) picks some; default every notebook.
for nb in ${NOTEBOOKS:-notebooks-ts/*.ipynb}; do
  start=$(date +%s)
  if jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=600 \
    --ExecutePreprocessor.kernel_name=tslab --output-dir "$OUT" "$nb" >"$OUT/$(basename "$nb" .ipynb).log" 2>&1; then
    echo "ok   $nb ($(($(date +%s) - start)) s)"
  else
    echo "FAIL $nb ($(($(date +%s) - start)) s): a cell raised an error; the tail of its log:" >&2
    grep -v -e 'Debugger warning' -e 'frozen modules' -e PYDEVD -e 'Note: Debugging' "$OUT/$(basename "$nb" .ipynb).log" | tail -25 >&2
    failed+=("$nb")
  fi
done
echo "executed notebooks in $OUT"
if [ ${#failed[@]} -gt 0 ]; then
  echo "run-notebooks: ${#failed[@]} notebook(s) failed: ${failed[*]}" >&2
  exit 1
fi
