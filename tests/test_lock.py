"""The lock files install exactly what requirements*.txt pin, every package with hashes
(setup.sh installs with --require-hashes; scripts/lock.sh regenerates them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s\\;]+)", re.MULTILINE)


def pins(text: str) -> dict[str, str]:
    return {name.lower().replace("_", "-"): version for name, version in PIN.findall(text)}


@pytest.mark.parametrize(
    ("direct", "lock"),
    [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")],
)
def test_the_lock_matches_the_pins_and_hashes_everything(direct, lock):
    wanted = pins((ROOT / direct).read_text())
    if direct == "requirements-dev.txt":
        wanted |= pins((ROOT / "requirements.txt").read_text())
    locked_text = (ROOT / lock).read_text()
    locked = pins(locked_text)
    stale = {name: (v, locked.get(name)) for name, v in wanted.items() if locked.get(name) != v}
    assert not stale, f"run scripts/lock.sh: {lock} is out of date for {stale}"
    entries = re.split(r"\n(?=[A-Za-z0-9])", locked_text.split("\n\n", 1)[-1])
    unhashed = [e.split()[0] for e in entries if PIN.match(e) and "--hash=sha256:" not in e]
    assert not unhashed, unhashed
