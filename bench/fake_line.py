"""A fake LINE in its own process, serving the files of a folder as message content (the
message id is the file's stem), so the bot's process is measured without the fake's memory.

python -m bench.fake_line DIR  → prints the base URL, serves until stdin closes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.fakeline import FakeLine

TOKEN = "bench-access-token"


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
