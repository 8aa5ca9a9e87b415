#!/usr/bin/env bash
# Shared set-up for the demo and the tests: a virtualenv with the project installed, and the
# local services started (installed with apt-get where missing). Idempotent and quiet.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root for: $*"; return 1; fi
}

apt_install() {
  log "installing $* with apt-get"
  if [ -z "${_APT_UPDATED:-}" ]; then as_root apt-get update -qq >/dev/null; _APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

ensure_venv() {
  local py="${PYTHON:-python3}"
  if [ ! -x .venv/bin/python ]; then
    log "creating .venv"
    "$py" -m venv .venv
  fi
  local stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    log "installing Python dependencies"
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]" 2>&1 \
      | grep -v -E "^WARNING: Location|^$" >&2 || true
    .venv/bin/python -c "import service, flask_smorest, rq, twilio, vaderSentiment" \
      || { log "dependency installation failed"; exit 1; }
    rm -f .venv/.installed-*
    touch "$stamp"
  fi
}

ensure_chromium() {
  # the browser tests drive Debian's Chromium with Playwright (nothing is downloaded at run time)
  command -v chromium >/dev/null && return 0
  apt_install chromium fonts-liberation
}

redis_up() { .venv/bin/python -c "import redis; redis.Redis(socket_connect_timeout=1).ping()" 2>/dev/null; }

ensure_redis() {
  redis_up && return 0
  command -v redis-server >/dev/null || apt_install redis-server
  log "starting redis-server on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 50); do redis_up && return 0; sleep 0.2; done
  log "redis did not start"; exit 1
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

ensure_postgres() {
  if ! command -v pg_ctlcluster >/dev/null; then apt_install postgresql; fi
  if ! pg_up; then
    local version
    version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    log "starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 50); do pg_up && break; sleep 0.2; done
    pg_up || { log "PostgreSQL did not start"; exit 1; }
  fi
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atqc "select 1" >/dev/null 2>&1; then
    # a fresh apt install asks for passwords on TCP: trust local connections, as the tests expect
    local hba
    hba="$(as_root runuser -u postgres -- psql -Atqc 'show hba_file')"
    log "allowing trusted local TCP connections in $hba"
    as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
    as_root runuser -u postgres -- psql -Atqc "select pg_reload_conf()" >/dev/null
  fi
  if [ "$(psql -h 127.0.0.1 -U postgres -d postgres -Atqc \
        "select 1 from pg_database where datname='test'")" != "1" ]; then
    log "creating database test"
    psql -h 127.0.0.1 -U postgres -d postgres -qc "create database test" >/dev/null
  fi
}
