"""A fake LINE in its own process, serving the files of a folder as message content (the
message id is the file's stem), so the bot's process is measured without the fake's memory.

python -m bench.fake_line DIR [USER N]  → prints the base URL (and, given a user, a line with N
reply tokens issued for that user, as JSON), serves until stdin closes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fakeline import FakeLine

TOKEN = "bench-access-token"
reply_tokens: list[str] = []  # filled by `running` when asked for


@contextmanager
def running(content: Path, *tokens_for: str | int) -> Iterator[str]:
    """This fake in a process of its own, serving `content`; yields its base URL. Given
    (user id, count), `reply_tokens` then holds that many valid reply tokens for the user."""
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
        yield base_url
    finally:
        fake.stdin.close()  # type: ignore[union-attr]
        fake.wait(10)


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
    sys.stdin.read()
    fake.stop()


if __name__ == "__main__":
    main()
