#!/usr/bin/env bash
# Refresh requirements.lock: every package that the project and its dev and bench extras install,
# pinned, with hashes, for Linux, macOS and Windows on Python 3.11+. Run it after changing the
# dependencies in pyproject.toml and commit both files together. Pins already in the lock are kept
# unless asked: `scripts/lock.sh --upgrade` (everything) or `--upgrade-package NAME`.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
cd "$ROOT"

tools="$(mktemp -d)"
trap 'rm -rf "$tools"' EXIT
say "installing uv into a throw-away environment"
"$PYTHON" -m venv "$tools"
"$tools/bin/python" -m pip install --quiet --disable-pip-version-check uv

say "resolving requirements.lock"
UV_CUSTOM_COMPILE_COMMAND="scripts/lock.sh" "$tools/bin/uv" pip compile pyproject.toml \
    --extra dev --extra bench --universal --python-version 3.11 --generate-hashes --quiet \
    --output-file requirements.lock "$@"
