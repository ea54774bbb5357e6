"""Turn the many spellings of a 관리기관명 into one canonical agency name.

"광주광역시 동구청", "광주광역시동구청", "광주 동구" and "동구청" (with a Gwangju address as a
hint) all become "광주광역시 동구". Department suffixes are dropped ("광주광역시 사회재난과" is
"광주광역시"); police and fire bodies keep their own name behind the 시도 ("서울특별시
강북경찰서"). Results are cached: an importer calls this for every row.

Canonical names:
- a 시/도 body: the full 시도 name ("광주광역시"), kind CITY;
- a 시/군/구 body: "{시도} {시군구}" ("경기도 수원시 장안구"), kind DISTRICT, or just the
  시군구 when its 시도 cannot be told ("동구");
- police, fire and other bodies: "{시도} {시군구 named in it} {the rest as written}", with the
  parts that are known ("서울특별시 강북경찰서", "경상북도 강남동 주민자치센터").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from argus.registry.stdimport import regions as r
from argus.registry.stdimport.records import AgencyName
from argus.registry.vocab import AgencyKind

_ALL_SIDOS = frozenset(r.SIDO_NAMES)

# Bare short forms that are NOT the 시도 when "시" follows: "광주시" is 경기도 광주시 and
# "제주시" is a city inside 제주특별자치도.
_BARE_NOT_BEFORE_SI = frozenset({"광주", "제주"})

_OFFICE_WORDS = ("시청", "도청", "군청", "구청", "청")
_DEPARTMENT_ENDINGS = (
    "과",
    "팀",
    "국",
    "실",
    "담당관",
    "관제센터",
    "운영센터",
    "상황실",
    "본부",
)
_NOT_DEPARTMENT = ("공사", "공단", "학교", "대학", "병원", "재단", "교육청", "경찰", "소방")
_POLICE_WORDS = ("경찰", "지구대", "파출소")
_FIRE_WORDS = ("소방", "119")
_SEPARATORS = str.maketrans({"_": " ", "(": " ", ")": " ", "[": " ", "]": " "})


class _Role(Enum):
    BODY = "body"  # the 시도 or 시군구 itself (or one of its departments)
    POLICE = "police"
    FIRE = "fire"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class _Place:
    """A 시도 / 시군구 prefix found at the start of a name or address."""

    sidos: frozenset[str]  # the 시도 it can be in; empty when no place was found
    districts: Mapping[str, str]  # 시도 → canonical 시군구 part, for each possible 시도
    written_district: str | None  # the 시군구 as written, used when the 시도 stays unknown
    consumed: int  # characters of the space-less text that the place took
    gwangju_si: bool  # a bare "광주시": 경기도 광주시 unless a hint says 광주광역시


_NO_PLACE = _Place(frozenset(), {}, None, 0, False)


@dataclass(frozen=True, slots=True)
class _Entry:
    sido: str
    district: str
    subs: tuple[str, ...]


def _by_length(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted(names, key=len, reverse=True))


_SIDO_ALIAS_ORDER = _by_length(list(r.SIDO_ALIASES))
_SHORT_SIDO_ALIASES = frozenset(r.SIDO_ALIASES) - _ALL_SIDOS


def _build_tables() -> tuple[
    dict[str, list[tuple[str, _Entry]]], dict[str, list[_Entry]], tuple[str, ...]
]:
    per_sido: dict[str, list[tuple[str, _Entry]]] = {}
    global_index: dict[str, list[_Entry]] = {}
    for sido, entries in r.SIGUNGU.items():
        names: list[tuple[str, _Entry]] = []
        for name, subs in entries.items():
            entry = _Entry(sido, name, subs)
            names.append((name, entry))
            global_index.setdefault(name, []).append(entry)
            for sub in subs:
                global_index.setdefault(sub, []).append(_Entry(sido, f"{name} {sub}", ()))
        per_sido[sido] = names
    for (old_sido, old_name), (new_sido, new_name) in r.LEGACY_SIGUNGU.items():
        subs = r.SIGUNGU[new_sido][new_name]
        per_sido[old_sido].append((old_name, _Entry(new_sido, new_name, subs)))
    for names in per_sido.values():
        names.sort(key=lambda item: len(item[0]), reverse=True)
    return per_sido, global_index, _by_length(list(global_index))


_PER_SIDO, _GLOBAL, _GLOBAL_ORDER = _build_tables()


def _with_sub(entry: _Entry, after: str) -> tuple[str, int]:
    """The district with a 구 of its 시 appended when one follows, and the characters taken."""
    for sub in _by_length(entry.subs):
        if after.startswith(sub):
            return f"{entry.district} {sub}", len(sub)
    return entry.district, 0


def _place_in_sido(alias_len: int, sido: str, text: str) -> _Place:
    rest = text[alias_len:]
    for name, entry in _PER_SIDO[sido]:
        if rest.startswith(name):
            district, extra = _with_sub(entry, rest[len(name) :])
            return _Place(
                frozenset({entry.sido}),
                {entry.sido: district},
                district,
                alias_len + len(name) + extra,
                False,
            )
    for name, entry in _PER_SIDO[sido]:
        # "경기 광주", "경남 고성": a 시군구 written without its 시/군/구 ending, nothing after.
        if len(name) >= 3 and rest == name[:-1]:
            return _Place(
                frozenset({entry.sido}),
                {entry.sido: entry.district},
                entry.district,
                len(text),
                False,
            )
    return _Place(frozenset({sido}), {}, None, alias_len, False)


def _place_without_sido(text: str) -> _Place:
    for name in _GLOBAL_ORDER:
        if not text.startswith(name):
            continue
        after = text[len(name) :]
        entries = _GLOBAL[name]
        if name == "광주시":
            # "광주시 동구" is 광주광역시 동구: 경기도 광주시 has no 구.
            for gu in _by_length(r.GWANGJU_DISTRICTS):
                if after.startswith(gu):
                    return _Place(
                        frozenset({r.GWANGJU}), {r.GWANGJU: gu}, gu, len(name) + len(gu), False
                    )
        if len(entries) == 1:
            district, extra = _with_sub(entries[0], after)
            return _Place(
                frozenset({entries[0].sido}),
                {entries[0].sido: district},
                district,
                len(name) + extra,
                name == "광주시",
            )
        return _Place(
            frozenset(e.sido for e in entries),
            {e.sido: e.district for e in entries},
            name,
            len(name),
            False,
        )
    return _NO_PLACE


@lru_cache(maxsize=65536)
def _find_place(text: str) -> _Place:
    """The place a space-less name or address starts with (the longest reading wins)."""
    best = _place_without_sido(text)
    for alias in _SIDO_ALIAS_ORDER:
        if not text.startswith(alias):
            continue
        if alias in _BARE_NOT_BEFORE_SI and text[len(alias) : len(alias) + 1] == "시":
            continue
        with_sido = _place_in_sido(len(alias), r.SIDO_ALIASES[alias], text)
        if with_sido.consumed >= best.consumed:
            best = with_sido
        break
    return best


def _clean(raw: str) -> str:
    text = unicodedata.normalize("NFC", raw).translate(_SEPARATORS)
    return " ".join(text.split())


def _is_department(unit: str) -> bool:
    return (
        bool(unit)
        and unit.endswith(_DEPARTMENT_ENDINGS)
        and not any(word in unit for word in _NOT_DEPARTMENT)
    )


def _role(rest: str, has_place: bool) -> _Role:
    if any(word in rest for word in _POLICE_WORDS):
        return _Role.POLICE
    if any(word in rest for word in _FIRE_WORDS):
        return _Role.FIRE
    if not has_place:
        return _Role.OTHER
    if rest in _OFFICE_WORDS or rest == "" or _is_department(rest):
        return _Role.BODY
    for word in _OFFICE_WORDS:
        if rest.startswith(word) and _is_department(rest[len(word) :]):
            return _Role.BODY
    return _Role.OTHER


@dataclass(frozen=True, slots=True)
class _ParsedName:
    place: _Place
    rest: str  # what follows the place, spacing as written
    role: _Role


@lru_cache(maxsize=16384)
def _parse_name(raw: str) -> _ParsedName:
    cleaned = _clean(raw)
    compact = cleaned.replace(" ", "")
    place = _find_place(compact)
    start = len(cleaned)
    if place.consumed >= len(compact):
        rest = ""
    else:
        # Map the position in the space-less text back to the cleaned text.
        seen = 0
        for index, char in enumerate(cleaned):
            if char == " ":
                continue
            if seen == place.consumed:
                start = index
                break
            seen += 1
        rest = cleaned[start:].strip()
    role = _role(rest.replace(" ", ""), place.consumed > 0)
    glued = bool(rest) and place.consumed > 0 and cleaned[start - 1] != " "
    if (
        role is not _Role.BODY
        and glued
        and not place.districts
        and compact[: place.consumed] in _SHORT_SIDO_ALIASES
    ):
        # "광주동부경찰서", "인천국제공항공사": the short 시도 name is part of the body's own name.
        rest = cleaned
    return _ParsedName(place, rest, role)


def _hint_key(hint: str) -> str:
    return " ".join(hint.split(None, 2)[:2])


@lru_cache(maxsize=65536)
def _hint_sidos(key: str) -> frozenset[str]:
    place = _find_place(_clean(key).replace(" ", ""))
    if place.gwangju_si:
        return frozenset({r.GYEONGGI})
    return place.sidos


def _choose_sido(parsed: _ParsedName, hints: Sequence[str | None]) -> str | None:
    place = parsed.place
    candidates = place.sidos or _ALL_SIDOS
    if place.gwangju_si:
        candidates = frozenset({r.GYEONGGI, r.GWANGJU})
    for hint in hints:
        if not hint:
            continue
        found = _hint_sidos(_hint_key(hint))
        common = candidates & found
        if len(common) == 1:
            return next(iter(common))
        if common:
            candidates = common
    if place.gwangju_si:
        return r.GYEONGGI
    return next(iter(candidates)) if len(candidates) == 1 else None


_KIND_OF_ROLE = {
    _Role.POLICE: AgencyKind.POLICE,
    _Role.FIRE: AgencyKind.FIRE,
    _Role.OTHER: AgencyKind.OTHER,
}


@lru_cache(maxsize=16384)
def _agency(raw: str, sido: str | None) -> AgencyName:
    parsed = _parse_name(raw)
    place = parsed.place
    district = place.districts.get(sido) if sido is not None else place.written_district
    if parsed.role is _Role.BODY and (district or sido):
        if district:
            canonical = f"{sido} {district}" if sido else district
            return AgencyName(canonical, AgencyKind.DISTRICT, sido, district, sido, raw)
        assert sido is not None
        return AgencyName(sido, AgencyKind.CITY, sido, None, None, raw)
    kind = _KIND_OF_ROLE.get(parsed.role, AgencyKind.OTHER)
    canonical = " ".join(part for part in (sido, district, parsed.rest) if part)
    return AgencyName(canonical, kind, sido, district, None, raw)


def normalize_agency(raw: str, hints: Sequence[str | None] = ()) -> AgencyName:
    """Read an agency name; `hints` (제공기관명, addresses, ...) tell the 시도 when it lacks one.

    Hints are tried in order; the first that narrows the possible 시도 to one decides. A name
    that states its 시도, or a 시군구 found in only one 시도, ignores the hints.
    """
    parsed = _parse_name(raw)
    place = parsed.place
    if len(place.sidos) == 1 and not place.gwangju_si:
        return _agency(raw, next(iter(place.sidos)))
    return _agency(raw, _choose_sido(parsed, hints))
