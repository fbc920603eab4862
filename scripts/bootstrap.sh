#!/usr/bin/env bash
# Shared set-up for scripts/demo.sh and scripts/test.sh: a virtual environment with the project
# installed, and a Redis that answers on 127.0.0.1:6379 (started, and installed, if need be).
# Sourced, not run: it defines functions and sets VENV.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"
REDIS_HOST=127.0.0.1
REDIS_PORT=6379

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating the virtual environment in .venv"
        "$PYTHON" -m venv "$VENV" || die "could not create a virtual environment with $PYTHON (Python 3.11+ with venv is needed)"
    fi
    # Reinstall when either file changes: requirements.lock pins every dependency (with hashes),
    # pyproject.toml says what the project itself is (scripts/lock.sh refreshes the lock from it).
    local stamp="$VENV/.installed" digest
    digest="$(cat "$ROOT/pyproject.toml" "$ROOT/requirements.lock" | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
        say "installing Broadcast Panel and its dependencies"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/requirements.lock"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$ROOT"
        echo "$digest" > "$stamp"
    fi
}

redis_answers() {
    # PING over bash's /dev/tcp: works before redis-cli is installed.
    (exec 3<>"/dev/tcp/$REDIS_HOST/$REDIS_PORT" && printf 'PING\r\n' >&3 && timeout 2 head -c 5 <&3 | grep -q PONG) 2>/dev/null
}

ensure_redis() {
    redis_answers && return 0
    if ! command -v redis-server >/dev/null 2>&1; then
        say "installing redis-server with apt-get"
        command -v apt-get >/dev/null 2>&1 || die "Redis does not answer on $REDIS_HOST:$REDIS_PORT and apt-get is not available to install it"
        local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
        $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null \
            || die "apt-get could not install redis-server"
    fi
    say "starting redis-server on $REDIS_HOST:$REDIS_PORT"
    local dir="$ROOT/var/redis"; mkdir -p "$dir"
    redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" --save "" --appendonly no \
        --dir "$dir" --logfile "$dir/redis.log" || die "redis-server did not start (see $dir/redis.log)"
    for _ in $(seq 1 50); do redis_answers && return 0; sleep 0.1; done
    die "Redis was started but does not answer on $REDIS_HOST:$REDIS_PORT (see $dir/redis.log)"
}
