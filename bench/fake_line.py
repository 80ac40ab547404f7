"""A fake LINE in its own process, serving the files of a folder as message content (the
message id is the file's stem), so the bot's process is measured without the fake's memory.

python -m bench.fake_line DIR [USER N]  → prints the base URL (and, given a user, a line with N
reply tokens issued for that user, as JSON), then the URL of its control server, and serves
until stdin closes.

The control server lets a benchmark in another process read what the fake received and when
(`GET /requests?since=N`) and have reply tokens issued for many users at once (`POST /tokens`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fakeline import FakeLine

TOKEN = "bench-access-token"
reply_tokens: list[str] = []  # filled by `running` when asked for
control_url = ""  # set by `running`: the fake's control server


@contextmanager
def running(content: Path, *tokens_for: str | int) -> Iterator[str]:
    """This fake in a process of its own, serving `content`; yields its base URL. Given
    (user id, count), `reply_tokens` then holds that many valid reply tokens for the user."""
    global control_url
    root = Path(__file__).resolve().parents[1]
    fake = subprocess.Popen(
        [sys.executable, "-m", "bench.fake_line", str(content), *map(str, tokens_for)],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = fake.stdout.readline().strip()  # type: ignore[union-attr]
        if tokens_for:
            reply_tokens[:] = json.loads(fake.stdout.readline())  # type: ignore[union-attr]
        control_url = fake.stdout.readline().strip()  # type: ignore[union-attr]
        yield base_url
    finally:
        fake.stdin.close()  # type: ignore[union-attr]
        fake.wait(10)


def records(fake: FakeLine, since: int) -> dict[str, Any]:
    """Requests from index `since` on, as JSON-able dicts with the time each arrived (the
    fake's `time.time()`). `next` stops at the first request still being answered, so that a
    caller asking again from `next` sees each request once, with its final status."""
    found = fake.requests[since:]
    done = []
    for record in found:
        if record.status == 0:
            break
        done.append(
            {
                "endpoint": record.endpoint,
                "status": record.status,
                "time": record.time,
                "json": record.json,
            }
        )
    return {"next": since + len(done), "requests": done}


def _control(fake: FakeLine) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path != "/requests":
                self._send(404, {"message": "Not found"})
                return
            since = int(parse_qs(url.query).get("since", ["0"])[0])
            self._send(200, records(fake, since))

        def do_POST(self) -> None:
            if self.path != "/tokens":
                self._send(404, {"message": "Not found"})
                return
            asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            ttl = float(asked.get("ttl", 600))
            tokens = {
                user: [fake.issue_reply_token(user, ttl) for _ in range(int(asked["count"]))]
                for user in asked["users"]
            }
            self._send(200, tokens)

        def _send(self, status: int, payload: Any) -> None:
            body = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per poll would drown the benchmark's own output

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True, name="control").start()
    return server


def main() -> None:
    fake = FakeLine(access_token=TOKEN, schema_path=None)
    for path in sorted(Path(sys.argv[1]).iterdir()):
        kind = "video/mp4" if path.suffix == ".mp4" else "image/jpeg"
        fake.add_content(path.stem, path.read_bytes(), kind)
    fake.start()
    print(fake.base_url, flush=True)
    if len(sys.argv) == 4:
        user, count = sys.argv[2], int(sys.argv[3])
        # As LINE's, valid for the webhook's events; long-lived so set-up time does not count.
        tokens = [fake.issue_reply_token(user, ttl_seconds=600) for _ in range(count)]
        print(json.dumps(tokens), flush=True)
    control = _control(fake)
    print(f"http://127.0.0.1:{control.server_port}", flush=True)
    sys.stdin.read()
    control.shutdown()
    fake.stop()


if __name__ == "__main__":
    main()
