#!/usr/bin/env bash
# The main job as a user runs it: `npm start` serves on port 8080; this starts it, waits until it is ready,
# scores the example account with a configured key, records a contact, then stops it with SIGTERM and checks
# that it shut down cleanly. Used by .ci/run; run it by hand to check a machine.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'if [ -n "${pid:-}" ]; then kill "$pid" 2> /dev/null || true; fi; rm -rf "$work"' EXIT
key="rr_smoke_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
sha=$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)
printf -- '- id: smoke\n  sha256: %s\n  scopes: [score, contacts, admin]\n' "$sha" > "$work/keys.yaml"
port=${PORT:-8080}
if curl -s -o /dev/null "http://127.0.0.1:$port/healthz"; then
  echo "smoke: something already answers on port $port; stop it or set PORT" >&2
  exit 1
fi

REPAYRISK_API_KEYS_FILE="$work/keys.yaml" npm start -- --port "$port" --ledger "$work/ledger.duckdb" > "$work/out.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  if curl -fs "http://127.0.0.1:$port/readyz" > /dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2> /dev/null; then cat "$work/out.log"; echo "smoke: the server exited early" >&2; exit 1; fi
  sleep 0.5
done
curl -fs "http://127.0.0.1:$port/readyz" > /dev/null || { cat "$work/out.log"; echo "smoke: not ready after 60 s" >&2; exit 1; }

auth=(-H "authorization: Bearer $key" -H 'content-type: application/json')
score=$(curl -fsS "${auth[@]}" --data @docs/examples/score-request.json "http://127.0.0.1:$port/v1/score")
echo "score: $score" | cut -c1-400
echo "$score" | grep -q '"treatment"' || { echo "smoke: no treatment in the response" >&2; exit 1; }
id=$(echo "$score" | sed -E 's/.*"decision_id":"([^"]+)".*/\1/')
curl -fsS "${auth[@]}" "http://127.0.0.1:$port/v1/decisions/$id" > /dev/null || { echo "smoke: GET decision failed" >&2; tail -5 "$work/out.log"; exit 1; }
curl -fsS "${auth[@]}" --data '{"contacts":[{"account_id":"A0000053-2","ts":"2024-12-01T15:00:00Z","channel":"sms","outcome":"delivered","promise_amount":null,"promise_date":null,"agent_id":null}]}' \
  "http://127.0.0.1:$port/v1/contacts" > /dev/null

kill -TERM "$pid"
wait "$pid"
status=$?
grep -q 'repayrisk serving on' "$work/out.log" || { cat "$work/out.log"; exit 1; }
echo "smoke: served, scored, recorded a contact, and shut down with status $status"
exit "$status"
