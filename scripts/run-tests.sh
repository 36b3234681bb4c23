#!/usr/bin/env bash
# The whole suite: once against a throwaway PostgreSQL (everything), once against SQLite
# (everything but the PostgreSQL-only, browser and slow whole-stack tests). The server is stopped whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

# Debian packages the suite drives for real: chromium (browser tests), redis-server
# (the production-stack test). Installed only when missing.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi

pgdir=$(mktemp -d /tmp/loyalty-pg.XXXXXX)
cleanup() { scripts/pg-throwaway.sh stop "$pgdir" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
dsn=$(scripts/pg-throwaway.sh start "$pgdir")

echo "== PostgreSQL run"
TEST_DATABASE_URL="$dsn" $BIN/pytest -p no:cacheprovider "$@"
echo "== SQLite run"
$BIN/pytest -p no:cacheprovider -m "not browser and not slow" "$@"
