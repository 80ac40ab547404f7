#!/usr/bin/env bash
# Set up and run the tests (SQLite; set TEST_DATABASE_URL for PostgreSQL). Extra
# arguments go to pytest, e.g. `bash scripts/test.sh -k registration`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
exec .venv/bin/python -m pytest "$@"
