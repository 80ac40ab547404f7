"""Entry point for `gunicorn wsgi:app` and `flask --app wsgi ...`.

Background workers are started by `gunicorn.conf.py` in each worker process after it forks
(threads do not survive a fork), or by `flask --app wsgi worker` as a process of their own.
"""

import sys

from bot import ConfigError, create_app

try:
    app = create_app()
except ConfigError as exc:
    print(f"configuration error: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
