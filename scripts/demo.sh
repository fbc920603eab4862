#!/usr/bin/env bash
# The main job: Broadcast Panel end to end on the embedded defaults (SQLite file, local Redis,
# the Telegram simulator). Creates .venv and starts Redis when needed.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
cd "$ROOT"
ensure_venv
ensure_redis
exec "$VENV/bin/broadcast" demo "$@"
