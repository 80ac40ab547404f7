"""Provinces, districts and subdistricts with DOPA codes, all from geothai."""

from __future__ import annotations

import re
from dataclasses import dataclass

import geothai
from pythainlp.util import collate

BANGKOK = "10"


@dataclass(frozen=True)
class Area:
    code: str
    name: str

    @property
    def level(self) -> str:
        return {2: "province", 4: "district", 6: "subdistrict"}[len(self.code)]


def provinces() -> list[Area]:
    """Every province, in Thai alphabetical order as people look for them."""
    by_name = {p.name_th: p.code for p in geothai.provinces()}
    return [Area(by_name[name], name) for name in collate(list(by_name))]


def districts(province_code: str) -> list[Area]:
    return [Area(d.code, d.name_th) for d in geothai.districts(province_code)]


def subdistricts(district_code: str) -> list[Area]:
    return [Area(s.code, s.name_th) for s in geothai.subdistricts(district_code)]


def find(code: str) -> Area | None:
    lookup = {2: geothai.province, 4: geothai.district, 6: geothai.subdistrict}.get(len(code))
    found = lookup(code) if lookup and code.isdigit() else None
    return Area(found.code, found.name_th) if found else None


def label(code: str) -> str:
    """'ต.หอคำ อ.เมืองบึงกาฬ จ.บึงกาฬ' for any level, with Bangkok's แขวง/เขต."""
    bangkok = code.startswith(BANGKOK)
    parts = []
    if len(code) >= 6 and (s := geothai.subdistrict(code[:6])):
        parts.append(_prefixed("แขวง" if bangkok else "ต.", s.name_th))
    if len(code) >= 4 and (d := geothai.district(code[:4])):
        parts.append(_prefixed("เขต" if bangkok else "อ.", d.name_th))
    if p := geothai.province(code[:2]):
        parts.append(p.name_th if bangkok else "จ." + p.name_th)
    return " ".join(parts)


# A typed prefix says which level is meant: "ต.บึงกาฬ" is the subdistrict, not the province.
LEVEL_PREFIXES = {
    "ตำบล": "subdistrict",
    "ต.": "subdistrict",
    "แขวง": "subdistrict",
    "อำเภอ": "district",
    "อ.": "district",
    "จังหวัด": "province",
    "จ.": "province",
}


def _prefixed(prefix: str, name: str) -> str:
    # Bangkok's district names already begin with เขต.
    return name if name.startswith(prefix) else prefix + name


def search(text: str, within: str = "", limit: int = 10) -> list[Area]:
    """Areas whose name fits what was typed, e.g. 'ต.หอคำ', 'เมืองบึงกาฬ' or
    'หอคำ เมืองบึงกาฬ'. `within` narrows to a province or district code."""
    text = text.strip()
    words = text.split()
    if len(words) >= 2:
        # "subdistrict district [province]": geothai.match needs whole names.
        matched = geothai.match(
            words[0], district=words[1], province=words[2] if len(words) > 2 else None
        )
        if matched:
            return [Area(a.subdistrict.code, a.subdistrict.name_th) for a in matched[:limit]]
    if len(re.sub(r"\s", "", text)) < 2:
        return []
    results = [
        Area(r.area.code, r.area.name_th)
        for r in geothai.search(text, limit=200)
        if r.area.code.startswith(within)
    ]
    level = next((lv for p, lv in LEVEL_PREFIXES.items() if text.startswith(p)), None)
    if level:
        results = [a for a in results if a.level == level] or results
    exact = [a for a in results if geothai.normalize(a.name) == geothai.normalize(text)]
    return (exact or results)[:limit]
