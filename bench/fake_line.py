"""A fake LINE in its own process, serving the files of a folder as message content (the
message id is the file's stem), so the bot's process is measured without the fake's memory.

python -m bench.fake_line [--token T] [--derive] DIR [USER N]  → prints the base URL (and, given
a user, a line with N reply tokens issued for that user, as JSON), then the URL of its control
server, and serves until stdin closes. `--token` sets the access token it accepts (default
TOKEN). With `--derive`, a numeric message id it does not hold is served as one of DIR's JPEGs
(chosen by the id) with the id's digits appended after the image's end marker: every photo a
load sends is distinct (no duplicate skipped) without the fake holding each one in memory.

The control server lets a benchmark in another process read what the fake received and when
(`GET /requests?since=N`) and have reply tokens issued for many users at once (`POST /tokens`).
Its fault switch (`POST /fault`, `DELETE /fault`; `set_fault` below) makes chosen endpoints
answer 500, or 429 with Retry-After, or hang, or (content) trickle their body, for a while.
"""

from __future__ import annotations

import http
import json
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from werkzeug.wrappers import Response

from fakeline import FakeLine
from fakeline.server import Recorded

TOKEN = "bench-access-token"
reply_tokens: list[str] = []  # filled by `running` when asked for
control_url = ""  # set by `running`: the fake's control server


@contextmanager
def running(
    content: Path, *tokens_for: str | int, token: str = TOKEN, derive: bool = False
) -> Iterator[str]:
    """This fake in a process of its own, serving `content`; yields its base URL. Given
    (user id, count), `reply_tokens` then holds that many valid reply tokens for the user.
    `token` is the access token it accepts; `derive` serves distinct photos made from the
    folder's JPEGs for any numeric message id (see the module's docstring)."""
    global control_url
    root = Path(__file__).resolve().parents[1]
    flags = ["--token", token] + (["--derive"] if derive else [])
    fake = subprocess.Popen(
        [sys.executable, "-m", "bench.fake_line", *flags, str(content), *map(str, tokens_for)],
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
            if self.path == "/fault" and isinstance(fake, FaultyLine):
                asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                self._send(200, fake.set_fault(Fault.from_json(asked)))
                return
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

        def do_DELETE(self) -> None:
            if self.path != "/fault" or not isinstance(fake, FaultyLine):
                self._send(404, {"message": "Not found"})
                return
            self._send(200, fake.set_fault(None))

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


FAULT_MODES = ("500", "429", "hang", "slow")


@dataclass(frozen=True)
class Fault:
    """What the fault switch does to requests for `endpoints` arriving before `until`
    (`time.monotonic()` of the fake's process): "500" and "429" answer at once with LINE's
    error JSON (429 with Retry-After: `retry_after`), "hang" waits `seconds` and then answers
    as usual (LINE slow, the request still goes through), "slow" answers as usual but sends
    the body in pieces over `seconds` (content being downloaded)."""

    endpoints: frozenset[str]
    mode: str
    until: float
    seconds: float = 0.0
    retry_after: int | None = None

    @classmethod
    def from_json(cls, asked: dict[str, Any]) -> Fault:
        mode = str(asked["mode"])
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}")
        retry_after = asked.get("retry_after")
        return cls(
            frozenset(asked["endpoints"]),
            mode,
            time.monotonic() + float(asked["duration"]),
            float(asked.get("seconds", 0.0)),
            int(retry_after) if retry_after is not None else None,
        )


class FaultyLine(FakeLine):
    """The fake with a fault switch; without a fault set it is the plain FakeLine."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._fault: Fault | None = None
        self._fault_lock = threading.Lock()
        self.faulted: Counter[str] = Counter()  # "endpoint mode" -> requests it touched

    def set_fault(self, fault: Fault | None) -> dict[str, Any]:
        """Replace the fault (None: none); returns how many requests the one replaced touched."""
        with self._fault_lock:
            self._fault = fault
            touched = dict(self.faulted)
            self.faulted.clear()
            return {"faulted": touched}

    def _active(self, endpoint: str) -> Fault | None:
        with self._fault_lock:
            fault = self._fault
            if fault is None or endpoint not in fault.endpoints:
                return None
            if time.monotonic() >= fault.until:
                return None
            self.faulted[f"{endpoint} {fault.mode}"] += 1
            return fault

    def _answer(self, record: Recorded, args: dict[str, str], request_id: str) -> Response:
        fault = self._active(record.endpoint)
        if fault is None:
            return super()._answer(record, args, request_id)
        if fault.mode in ("500", "429"):
            status = int(fault.mode)
            headers = {}
            if status == 429 and fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            body = json.dumps({"message": http.HTTPStatus(status).phrase})
            return Response(body, status, headers, content_type="application/json")
        if fault.mode == "hang":
            time.sleep(fault.seconds)
            return super()._answer(record, args, request_id)
        response = super()._answer(record, args, request_id)
        return _trickle(response, fault.seconds)


def _trickle(response: Response, seconds: float, pieces: int = 20) -> Response:
    """The same answer with its body sent in `pieces` spread over `seconds`."""
    data = response.get_data()
    step = max(len(data) // pieces, 1)

    def body() -> Iterator[bytes]:
        for start in range(0, len(data), step):
            time.sleep(seconds / pieces)
            yield data[start : start + step]

    slow = Response(body(), response.status_code, content_type=response.content_type)
    slow.headers["Content-Length"] = str(len(data))
    return slow


def set_fault(
    control: str,
    endpoints: list[str],
    mode: str,
    duration: float,
    seconds: float = 0.0,
    retry_after: int | None = None,
) -> dict[str, Any]:
    """Switch a fault on in the fake whose control server is at `control` (see `Fault`)."""
    asked = {
        "endpoints": endpoints,
        "mode": mode,
        "duration": duration,
        "seconds": seconds,
        "retry_after": retry_after,
    }
    request = urllib.request.Request(
        f"{control}/fault",
        json.dumps(asked).encode(),
        {"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return dict(json.loads(answer.read()))


def clear_fault(control: str) -> dict[str, Any]:
    """Switch the fault off; returns how many requests each fault touched."""
    request = urllib.request.Request(f"{control}/fault", method="DELETE")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return dict(json.loads(answer.read()))


class DerivedContent(FaultyLine):
    """A fake that also serves photos derived from a few JPEG templates: message id N (digits
    only, not added otherwise) is template N mod len(templates) with N's digits appended."""

    def __init__(self, templates: list[bytes], **options: Any) -> None:
        super().__init__(**options)
        self.templates = templates

    def _content(self, record: Recorded, args: dict[str, str]) -> Response:
        message_id = args["message_id"]
        if self.content(message_id) is None and message_id.isdigit() and self.templates:
            data = self.templates[int(message_id) % len(self.templates)] + message_id.encode()
            return Response(data, 200, content_type="image/jpeg")
        return super()._content(record, args)


def main() -> None:
    argv = sys.argv[1:]
    token, derive = TOKEN, False
    while argv and argv[0].startswith("--"):
        flag = argv.pop(0)
        if flag == "--token":
            token = argv.pop(0)
        elif flag == "--derive":
            derive = True
        else:
            raise SystemExit(f"unknown option {flag}")
    paths = sorted(Path(argv[0]).iterdir())
    if derive:
        templates = [path.read_bytes() for path in paths if path.suffix == ".jpg"]
        fake: FakeLine = DerivedContent(templates, access_token=token, schema_path=None)
    else:
        fake = FaultyLine(access_token=token, schema_path=None)
    for path in paths:
        kind = "video/mp4" if path.suffix == ".mp4" else "image/jpeg"
        fake.add_content(path.stem, path.read_bytes(), kind)
    fake.start()
    print(fake.base_url, flush=True)
    if len(argv) == 3:
        user, count = argv[1], int(argv[2])
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
