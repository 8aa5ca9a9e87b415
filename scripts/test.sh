#!/usr/bin/env bash
# Runs every check: lint, the full suite on PostgreSQL, and the smoke run on SQLite.
# Installs what is missing and starts Redis/PostgreSQL if they are down.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
ensure_venv
ensure_redis
ensure_postgres
ensure_chromium
export FIREBREAK_REQUIRE_BROWSER=1  # a missing browser fails the browser tests, never skips them

log "ruff"
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet service workers tests benchmarks scripts samples

log "mypy on service/ and workers/"
.venv/bin/mypy

log "tests on PostgreSQL"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"

log "smoke tests on SQLite"
smoke_dir="$(mktemp -d)"
FIREBREAK_TEST_DATABASE_URL="sqlite:///$smoke_dir/smoke.db" \
  .venv/bin/python -m pytest -q -p no:cacheprovider -m smoke "$@"
rm -rf "$smoke_dir"
