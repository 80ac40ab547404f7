"""A fake LINE in its own process, serving the files of a folder as message content (the
message id is the file's stem), so the bot's process is measured without the fake's memory.

python -m bench.fake_line DIR  → prints the base URL, serves until stdin closes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.fakeline import FakeLine

TOKEN = "bench-access-token"


@contextmanager
def running(content: Path) -> Iterator[str]:
    """This fake in a process of its own, serving `content`; yields its base URL."""
    root = Path(__file__).resolve().parents[1]
    fake = subprocess.Popen(
        [sys.executable, "-m", "bench.fake_line", str(content)],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield fake.stdout.readline().strip()  # type: ignore[union-attr]
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
    sys.stdin.read()
    fake.stop()


if __name__ == "__main__":
    main()
