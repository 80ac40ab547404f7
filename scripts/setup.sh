#!/usr/bin/env bash
# Create .venv with Python 3.11 and install the locked dependencies (dev tools when given "dev").
# The lock files pin every package with its hashes, so pip refuses anything else
# (scripts/lock.sh regenerates them from requirements*.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "Python 3.11 is required (found: $("$PYTHON" --version))" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
lock=requirements.lock
[ "${1:-}" = dev ] && lock=requirements-dev.lock
.venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r "$lock"
