#!/usr/bin/env bash
# The benchmarks, one after the other (`make bench`); each starts and removes its own
# throwaway servers and prints its figures and targets.
# Arguments after `--` are not supported: run the scripts directly to change their options.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

# redis-server backs the rate limits and the Huey queue, as in production.
if ! command -v redis-server >/dev/null 2>&1; then
  echo "Installing Debian's redis-server" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
fi

# The figures depend on what else runs on the machine: print it with them.
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "== Public API and console card list (bench/public_api.py)"
$BIN/python bench/public_api.py
echo
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "== Email sending (bench/email_send.py)"
$BIN/python bench/email_send.py
echo
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "== Google Wallet retry with a hanging card (bench/wallet_retry.py)"
$BIN/python bench/wallet_retry.py 2>/dev/null
echo "== Email outbox under faults: Redis down, consumer killed (bench/outbox_faults.py)"
$BIN/python bench/outbox_faults.py
echo "== Points expiry at scale (bench/expiry.py)"
$BIN/python bench/expiry.py
echo "== Merchant API and webhooks (bench/merchant_api.py)"
$BIN/python bench/merchant_api.py
echo "== CSV card import (bench/card_import.py)"
$BIN/python bench/card_import.py
