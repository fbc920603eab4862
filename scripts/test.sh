#!/usr/bin/env bash
# The test command: lint, type-check, then the whole suite on SQLite and again on PostgreSQL.
# Creates .venv and starts Redis when needed. PostgreSQL must answer at $TEST_POSTGRES_URL
# (default postgresql+asyncpg://postgres@127.0.0.1:5432/test); SQLITE_ONLY=1 skips that pass
# on a laptop without PostgreSQL, and CI never sets it.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
cd "$ROOT"

ensure_venv
ensure_redis

POSTGRES_URL="${TEST_POSTGRES_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/test}"

postgres_answers() {
    "$VENV/bin/python" - "$POSTGRES_URL" <<'PY'
import asyncio, sys
import asyncpg
url = sys.argv[1].replace("postgresql+asyncpg://", "postgresql://")
async def main() -> None:
    connection = await asyncpg.connect(url, timeout=5)
    await connection.close()
try:
    asyncio.run(main())
except Exception as exc:
    print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
    sys.exit(1)
PY
}

if [ "${SQLITE_ONLY:-0}" != "1" ] || [ "${CI:-}" = "true" ]; then
    if ! postgres_answers; then
        if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
            say "starting PostgreSQL"
            pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
            sleep 2
        fi
        postgres_answers || die "PostgreSQL does not answer at $POSTGRES_URL; the suite runs on SQLite and PostgreSQL (SQLITE_ONLY=1 skips PostgreSQL outside CI)"
    fi
fi

say "ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
say "mypy"
"$VENV/bin/mypy"
"$VENV/bin/mypy" tests
"$VENV/bin/mypy" bench

# Most tests wait on real time (rate limits, pauses, worker processes), so four pytest-xdist
# processes share the two cores well; each has its own Redis database (TEST_REDIS_URL's and the
# three below it) and, on PostgreSQL, its own database (the named one with _gw0.._gw3 after it).
PARALLEL=(-n "${TEST_PROCESSES:-4}" --dist worksteal)

say "tests on SQLite"
TEST_DATABASE_URL="" "$VENV/bin/python" -m pytest -q -p no:cacheprovider "${PARALLEL[@]}" "$@"

if [ "${SQLITE_ONLY:-0}" != "1" ] || [ "${CI:-}" = "true" ]; then
    say "tests on PostgreSQL"
    TEST_DATABASE_URL="$POSTGRES_URL" "$VENV/bin/python" -m pytest -q -p no:cacheprovider "${PARALLEL[@]}" "$@"
fi
