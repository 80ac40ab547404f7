"""The app under the real gunicorn, with the project's gunicorn.conf.py, for tests of what only
a server shows (worker processes, the master's inbox writer, SIGKILL)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app_config: dict, **env: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """gunicorn serving `app_config` (plus `env`), ready; yields it and its base URL. Whatever
    of its process group still runs afterwards is SIGKILLed."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env={
            **os.environ,
            **{k: str(v) for k, v in app_config.items()},
            "BIND": f"127.0.0.1:{port}",
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{url}/healthz", timeout=5)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield server, url
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
