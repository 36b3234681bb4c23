#!/usr/bin/env bash
# Web app on http://127.0.0.1:${PORT:-5000} plus one Huey consumer; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT
$BIN/huey_consumer platform_core.worker.huey --workers 2 --worker-type thread &
pids+=($!)
$BIN/flask --app wsgi run --host 127.0.0.1 --port "${PORT:-5000}" &
pids+=($!)
echo "Console: http://127.0.0.1:${PORT:-5000}/admin  (logins printed by 'seed demo' above)"
wait -n "${pids[@]}"
