"""The standard (areas and components) as data, seeded from a versioned file in the repo.

The letter names the three areas; their components and pass criteria are not public, so each
area starts with one component taken from the letter's own wording, for provinces or the
department to replace.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import StandardArea, StandardComponent, StandardVersion

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "data" / "standard_2560.json"


def seed_default(session: Session, path: Path = DEFAULT_FILE) -> StandardVersion | None:
    """Load the default standard once; a database that has any version is left alone."""
    if session.scalar(select(StandardVersion.id).limit(1)) is not None:
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    version = StandardVersion(code=data["code"], title=data["title"])
    session.add(version)
    for i, area_data in enumerate(data["areas"], start=1):
        area = StandardArea(
            version=version, code=area_data["code"], name_th=area_data["name_th"], position=i
        )
        session.add(area)
        for j, comp in enumerate(area_data["components"], start=1):
            session.add(
                StandardComponent(area=area, code=comp["code"], name_th=comp["name_th"], position=j)
            )
    session.flush()
    return version
