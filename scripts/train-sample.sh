#!/usr/bin/env bash
# Trains the champion committed under models/ from data-samples/ and promotes it: `npm run train:sample`.
# test/champion.test.ts retrains it with the settings in its manifest and checks it is byte-identical.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(npx tsx src/cli/main.ts train --history data-samples --kind auto --seed 1 --out models)
echo "$out"
dir=$(echo "$out" | sed -n 's/^\(wrote\|identical artifact already present\) //p')
npx tsx src/cli/main.ts promote --model "$dir" --history data-samples
