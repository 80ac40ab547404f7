"""The standard (areas and components) as data, loaded from versioned files in the repo.

The letter names the three areas; their components and pass criteria are not public, so each
area starts with one component taken from the letter's own wording, for provinces or the
department to replace per fiscal year with `flask --app wsgi standard load FILE --year 2570`.
A plan keeps the edition it was written against; a new edition only applies to new plans.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import StandardArea, StandardComponent, StandardVersion
from bot.services import fiscal

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "data" / "standard_2560.json"
CODE_MAX, NAME_MAX, TITLE_MAX = 32, 200, 200


class StandardError(ValueError):
    """A standard file that cannot be used; the message lists every problem found."""


@dataclass(frozen=True)
class Component:
    code: str
    name_th: str


@dataclass(frozen=True)
class Area:
    code: str
    name_th: str
    components: tuple[Component, ...]


@dataclass(frozen=True)
class Spec:
    code: str
    title: str
    areas: tuple[Area, ...]

    @property
    def content_hash(self) -> str:
        canonical = [
            (a.code, a.name_th, [(c.code, c.name_th) for c in a.components]) for a in self.areas
        ]
        blob = json.dumps([self.title, canonical], ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()


def _text(value: Any, where: str, limit: int, problems: list[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: must be non-empty text")
        return ""
    if len(value.strip()) > limit:
        problems.append(f"{where}: longer than {limit} characters")
    return value.strip()


def parse(data: Any) -> Spec:
    """Validate a standard file's JSON; raise StandardError listing every problem."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise StandardError("the file must hold a JSON object with code, title and areas")
    code = _text(data.get("code"), "code", CODE_MAX, problems)
    title = _text(data.get("title"), "title", TITLE_MAX, problems)
    raw_areas = data.get("areas")
    if not isinstance(raw_areas, list) or not raw_areas:
        problems.append("areas: must be a non-empty list")
        raw_areas = []
    areas: list[Area] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_areas):
        where = f"areas[{i}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be an object")
            continue
        area_code = _text(raw.get("code"), f"{where}.code", CODE_MAX, problems)
        name = _text(raw.get("name_th"), f"{where}.name_th", NAME_MAX, problems)
        raw_components = raw.get("components")
        if not isinstance(raw_components, list) or not raw_components:
            problems.append(f"{where}.components: must be a non-empty list")
            raw_components = []
        components = []
        for j, comp in enumerate(raw_components):
            cwhere = f"{where}.components[{j}]"
            if not isinstance(comp, dict):
                problems.append(f"{cwhere}: must be an object")
                continue
            comp_code = _text(comp.get("code"), f"{cwhere}.code", CODE_MAX, problems)
            if comp_code and comp_code in seen:
                problems.append(f"{cwhere}.code: {comp_code!r} is used twice")
            seen.add(comp_code)
            components.append(
                Component(
                    comp_code, _text(comp.get("name_th"), f"{cwhere}.name_th", NAME_MAX, problems)
                )
            )
        if area_code and area_code in seen:
            problems.append(f"{where}.code: {area_code!r} is used twice")
        seen.add(area_code)
        areas.append(Area(area_code, name, tuple(components)))
    if problems:
        raise StandardError("\n".join(problems))
    return Spec(code, title, tuple(areas))


def read(path: Path) -> Spec:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise StandardError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise StandardError(f"{path} is not valid JSON: {exc}") from None
    return parse(data)


def spec_of(version: StandardVersion) -> Spec:
    return Spec(
        version.code,
        version.title,
        tuple(
            Area(a.code, a.name_th, tuple(Component(c.code, c.name_th) for c in a.components))
            for a in version.areas
        ),
    )


def diff(old: Spec | None, new: Spec) -> list[str]:
    """What changes from one edition to the next, one line per change."""
    if old is None:
        return [
            f"new: {len(new.areas)} areas, {sum(len(a.components) for a in new.areas)} components"
        ]
    lines = []
    if old.title != new.title:
        lines.append(f"title: {old.title!r} -> {new.title!r}")
    before = {a.code: a for a in old.areas} | {c.code: c for a in old.areas for c in a.components}
    after = {a.code: a for a in new.areas} | {c.code: c for a in new.areas for c in a.components}
    for code, item in after.items():
        kind = "area" if isinstance(item, Area) else "component"
        if code not in before:
            lines.append(f"+ {kind} {code}: {item.name_th}")
        elif before[code].name_th != item.name_th:
            lines.append(f"~ {kind} {code}: {before[code].name_th!r} -> {item.name_th!r}")
    for code, item in before.items():
        if code not in after:
            kind = "area" if isinstance(item, Area) else "component"
            lines.append(f"- {kind} {code}: {item.name_th}")
    return lines


def _store(session: Session, spec: Spec) -> StandardVersion:
    _editions.clear()
    version = StandardVersion(code=spec.code, title=spec.title, content_hash=spec.content_hash)
    session.add(version)
    for i, area_spec in enumerate(spec.areas, start=1):
        area = StandardArea(
            version=version, code=area_spec.code, name_th=area_spec.name_th, position=i
        )
        session.add(area)
        for j, comp in enumerate(area_spec.components, start=1):
            session.add(
                StandardComponent(area=area, code=comp.code, name_th=comp.name_th, position=j)
            )
    session.flush()
    return version


@dataclass(frozen=True)
class Edition:
    """A stored edition with its ids, read once per process: editions never change."""

    id: int
    code: str
    title: str
    areas: tuple[EditionArea, ...]

    def component(self, component_id: int) -> tuple[EditionArea, EditionComponent] | None:
        for area in self.areas:
            for component in area.components:
                if component.id == component_id:
                    return area, component
        return None

    def area(self, area_id: int) -> EditionArea | None:
        return next((a for a in self.areas if a.id == area_id), None)


@dataclass(frozen=True)
class EditionComponent:
    id: int
    code: str
    name_th: str


@dataclass(frozen=True)
class EditionArea:
    id: int
    code: str
    name_th: str
    components: tuple[EditionComponent, ...]


# Editions are never changed once stored and their ids are never reused, so one read per
# process is enough; storing a new edition clears the cache all the same.
_editions: dict[int, Edition] = {}


def version(session: Session, version_id: int) -> Edition:
    """The edition by id, with its areas and components."""
    if version_id not in _editions:
        row = session.get(StandardVersion, version_id)
        if row is None:
            raise StandardError(f"edition {version_id} does not exist")
        _editions[version_id] = Edition(
            row.id,
            row.code,
            row.title,
            tuple(
                EditionArea(
                    a.id,
                    a.code,
                    a.name_th,
                    tuple(EditionComponent(c.id, c.code, c.name_th) for c in a.components),
                )
                for a in row.areas
            ),
        )
    return _editions[version_id]


def for_year(session: Session, year_be: int) -> StandardVersion:
    """The edition new plans of this fiscal year are written against."""
    row = fiscal.ensure(session, year_be)
    version = session.get(StandardVersion, row.standard_version_id)
    if version is None:
        raise StandardError("no standard is loaded: run `flask --app wsgi db upgrade`")
    return version


def load_for_year(session: Session, spec: Spec, year_be: int) -> tuple[StandardVersion, list[str]]:
    """Make `spec` the edition of a fiscal year. Returns it and the changes from the edition
    the year had. Plans already written keep theirs."""
    existing = session.scalar(select(StandardVersion).where(StandardVersion.code == spec.code))
    if existing is not None and spec_of(existing) != spec:
        raise StandardError(
            f"edition {spec.code!r} is already loaded with different content; "
            "give the changed file a new code"
        )
    has_any = session.scalar(select(StandardVersion.id).limit(1)) is not None
    current = for_year(session, year_be) if has_any else None
    changes = diff(spec_of(current) if current else None, spec)
    version = existing or _store(session, spec)
    fiscal.ensure(session, year_be).standard_version_id = version.id
    session.flush()
    return version, changes


def seed_default(session: Session, path: Path = DEFAULT_FILE) -> StandardVersion | None:
    """Load the default edition once; a database that has any edition is left alone."""
    if session.scalar(select(StandardVersion.id).limit(1)) is not None:
        return None
    return _store(session, read(path))
