#!/usr/bin/env bash
# npm run demo: the whole chain on the committed sample data, in var/demo/ — train both models, promote,
# score the book, backtest the default policy against a challenger — and where the reports are.
set -euo pipefail
cd "$(dirname "$0")/.."
out=var/demo
rm -rf "$out" && mkdir -p "$out"
rr() { node bin/repayrisk.js "$@"; }

echo "== 1/4 train willingness and ability on data-samples/ (out-of-time evaluation, HTML model report)"
train=$(rr train --history data-samples --kind auto --seed 1 --out "$out/models")
echo "$train"
model=$(echo "$train" | sed -n 's/^\(wrote\|identical artifact already present\) //p')

echo "== 2/4 promote it (gates against the current champion on the same out-of-time rows)"
rr promote --model "$model" --history data-samples

echo "== 3/4 score the book: every account's latest snapshot through score-and-decide"
rr score --history data-samples --model "$model" --out "$out/scores.parquet"

echo "== 4/4 backtest the default policy against a challenger over the history"
rr backtest --history data-samples --model "$model" --policy policies/default.yaml \
  --challenger policies/challenger-plan-first.yaml --out "$out/backtest"

cat <<DONE

Reports:
  model report      $model/report.html
  scored book       $out/scores.parquet
  backtest report   $out/backtest/backtest.html   (JSON: $out/backtest/backtest.json)
Serve the API with this model: npm start -- --models $out/models
DONE
