#!/usr/bin/env bash
# Set up and run the bot in one process: web server, event workers and scheduler,
# on SQLite and local files unless DATABASE_URL says otherwise. Settings come from the
# environment or a .env file (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export RUN_SCHEDULER=${RUN_SCHEDULER:-1}
.venv/bin/flask --app wsgi db upgrade
exec .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app "$@"
