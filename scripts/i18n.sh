#!/usr/bin/env bash
# Bring the translation catalogs (panel/locales/*/LC_MESSAGES/messages.po) in step with
# panel/texts.py, and list the messages still to translate. `--check` only checks.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
cd "$ROOT"
ensure_venv
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" "$VENV/bin/python" scripts/i18n.py "$@"
