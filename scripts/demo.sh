#!/usr/bin/env bash
# The firestorm demo on the embedded default: SQLite + local Redis, a web process and a worker.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
ensure_venv
ensure_redis
exec .venv/bin/python scripts/demo.py "$@"
