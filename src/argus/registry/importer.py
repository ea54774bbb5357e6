"""Writes a parsed standard-data file into the registry, in one transaction.

Rows of one site (same owner, place and address; several installation years) become one site
whose cameras keep their own years. A camera is keyed by 관리번호 where the file has it, else by
the row's content, so importing the same file twice changes nothing. Nothing already stored is
deleted: a camera that a newer file no longer lists is kept, and a warning says so.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from argus.errors import ArgusError
from argus.registry.models import Agency, Camera, Site
from argus.registry.service import IN_CHUNK, bump_revision, ids_by_source_key, insert_keyed
from argus.registry.stdimport import AgencyName, ParsedFile, RowIssue, StdRow
from argus.registry.vocab import AgencyKind

PROVENANCE = "전국CCTV표준데이터 (행정안전부) import"
# camera columns an import sets; a re-import compares exactly these
CAMERA_FIELDS = (
    "owner_id",
    "site_id",
    "name",
    "lat",
    "lon",
    "purpose",
    "purpose_raw",
    "resolution_mp",
    "resolution_raw",
    "facing",
    "retention_days",
    "installed_year",
    "installed_month",
    "manage_no",
)


class StrictImportError(ArgusError):
    """--strict and at least one row could not be used: nothing was written."""


@dataclass
class ImportSummary:
    file: str
    format: str
    encoding: str
    layout: str
    rows: int
    imported: int
    rejected: list[RowIssue]
    warnings: list[RowIssue]
    sites: int
    cameras: int
    agencies: list[str]
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    per_agency: dict[str, dict[str, int]] = field(default_factory=dict)
    dry_run: bool = False
    written: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "encoding": self.encoding,
            "layout": self.layout,
            "rows": self.rows,
            "imported": self.imported,
            "rejected": [_issue(i) for i in self.rejected],
            "warnings": [_issue(i) for i in self.warnings],
            "sites": self.sites,
            "cameras": self.cameras,
            "agencies": self.agencies,
            "per_agency": self.per_agency,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "dry_run": self.dry_run,
            "written": self.written,
        }


def _issue(issue: RowIssue) -> dict[str, Any]:
    return {"line": issue.line, "column": issue.column, "reason": issue.reason}


def _digest(*parts: object) -> str:
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha1(text.encode()).hexdigest()[:24]


def _site_identity(row: StdRow) -> tuple[str, float, float, str]:
    address = " ".join((row.lot_address or row.road_address or "").split())
    return (row.agency.canonical, round(row.lat, 6), round(row.lon, 6), address)


def _row_key(row: StdRow) -> str:
    if row.manage_no:
        return f"std:{row.authority_code or row.agency.canonical}:{row.manage_no}"
    return "std:row:" + _digest(
        row.agency.canonical,
        row.lat,
        row.lon,
        row.road_address,
        row.lot_address,
        row.purpose_raw,
        row.count,
        row.resolution_raw,
        row.facing,
        row.retention_days,
        row.installed_year,
        row.installed_month,
    )


class StandardDataImport:
    """Plans and writes one parsed file; call :meth:`run` inside a transaction."""

    def __init__(self, parsed: ParsedFile) -> None:
        self.parsed = parsed

    def run(
        self,
        session: Session,
        strict: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> ImportSummary:
        parsed = self.parsed
        rows = parsed.rows
        summary = ImportSummary(
            file=parsed.name,
            format=parsed.format,
            encoding=parsed.encoding,
            layout=parsed.layout,
            rows=parsed.total_rows,
            imported=len(rows),
            rejected=list(parsed.rejected),
            warnings=list(parsed.warnings),
            sites=len({_site_identity(r) for r in rows}),
            cameras=sum(r.count for r in rows),
            agencies=sorted({r.agency.canonical for r in rows}),
        )
        per_agency: dict[str, Counter[str]] = {}
        for row in rows:
            counts = per_agency.setdefault(row.agency.canonical, Counter())
            counts["rows"] += 1
            counts["cameras"] += row.count
        summary.per_agency = {k: dict(v) for k, v in sorted(per_agency.items())}
        if strict and parsed.rejected:
            raise StrictImportError(
                f"{len({i.line for i in parsed.rejected})} of {parsed.total_rows} rows cannot "
                "be used and --strict is set: nothing was imported"
            )
        agency_ids = self._agencies(session, rows, summary)
        site_ids = self._sites(session, rows, agency_ids, summary)
        self._cameras(session, rows, agency_ids, site_ids, summary, progress)
        if any(summary.created.values()) or any(summary.updated.values()):
            bump_revision(session)
        return summary

    # -- agencies -----------------------------------------------------------------------

    def _agencies(
        self, session: Session, rows: Sequence[StdRow], summary: ImportSummary
    ) -> dict[str, int]:
        names: dict[str, AgencyName] = {}
        for row in rows:
            names.setdefault(row.agency.canonical, row.agency)
        existing = {
            name: agency_id for agency_id, name in session.execute(select(Agency.id, Agency.name))
        }
        created = 0
        ordered = sorted(names.values(), key=lambda a: (a.parent is not None, a.canonical))
        wanted: list[tuple[str, AgencyKind, str | None, str | None, str | None]] = []
        for agency in ordered:
            if agency.parent and agency.parent not in names:
                wanted.append((agency.parent, AgencyKind.CITY, agency.region, None, None))
            wanted.append(
                (agency.canonical, agency.kind, agency.region, agency.district, agency.parent)
            )
        for name, kind, region, district, parent in wanted:
            if name in existing:
                continue
            parent_id = existing.get(parent) if parent else None
            new = Agency(
                name=name, kind=kind.value, region=region, district=district, parent_id=parent_id
            )
            session.add(new)
            session.flush()
            existing[name] = new.id
            created += 1
        summary.created["agencies"] = created
        return {name: existing[name] for name in names}

    # -- sites --------------------------------------------------------------------------

    def _sites(
        self,
        session: Session,
        rows: Sequence[StdRow],
        agency_ids: dict[str, int],
        summary: ImportSummary,
    ) -> dict[tuple[str, float, float, str], int]:
        planned: dict[str, dict[str, Any]] = {}
        keys: dict[tuple[str, float, float, str], str] = {}
        for row in rows:
            identity = _site_identity(row)
            if identity in keys:
                continue
            key = "std:site:" + _digest(*identity)
            keys[identity] = key
            planned[key] = {
                "owner_id": agency_ids[row.agency.canonical],
                "lat": row.lat,
                "lon": row.lon,
                "road_address": row.road_address,
                "lot_address": row.lot_address,
                "region": row.agency.region,
                "district": row.agency.district or _district_from_address(row),
                "source_key": key,
                "synthetic": False,
            }
        found = ids_by_source_key(session, Site, list(planned))
        new = [v for k, v in planned.items() if k not in found]
        found.update(insert_keyed(session, Site, new))
        summary.created["sites"] = len(new)
        summary.unchanged["sites"] = len(planned) - len(new)
        return {identity: found[key] for identity, key in keys.items()}

    # -- cameras ------------------------------------------------------------------------

    def _cameras(
        self,
        session: Session,
        rows: Sequence[StdRow],
        agency_ids: dict[str, int],
        site_ids: dict[tuple[str, float, float, str], int],
        summary: ImportSummary,
        progress: Callable[[int], None] | None,
    ) -> None:
        planned: dict[str, dict[str, Any]] = {}
        seen: Counter[str] = Counter()
        for row in rows:
            base = _row_key(row)
            seen[base] += 1
            if seen[base] > 1:
                base = f"{base}~{seen[base]}"  # the same row twice in one file: two entries
            site_id = site_ids[_site_identity(row)]
            label = row.lot_address or row.road_address or f"{row.lat:.5f},{row.lon:.5f}"
            for number in range(1, row.count + 1):
                planned[f"{base}#{number}"] = {
                    "owner_id": agency_ids[row.agency.canonical],
                    "site_id": site_id,
                    "name": f"{label} #{number}" if row.count > 1 else label,
                    "lat": row.lat,
                    "lon": row.lon,
                    "purpose": row.purpose.value,
                    "purpose_raw": row.purpose_raw,
                    "camera_type": "fixed",
                    "resolution_mp": row.resolution_mp,
                    "resolution_raw": row.resolution_raw,
                    "facing": row.facing,
                    "retention_days": row.retention_days,
                    "installed_year": row.installed_year,
                    "installed_month": row.installed_month,
                    "manage_no": row.manage_no,
                    "enabled": True,
                    "tags": [],
                    "synthetic": False,
                    "provenance": PROVENANCE,
                    "source_key": f"{base}#{number}",
                }
        existing = _existing_rows(session, list(planned))
        new = [v for k, v in planned.items() if k not in existing]
        changed: list[dict[str, Any]] = []
        for key, values in planned.items():
            old = existing.get(key)
            if old is None:
                continue
            diff = {f: values[f] for f in CAMERA_FIELDS if old[f] != values[f]}
            if diff:
                diff["id"] = old["id"]
                changed.append(diff)
        done = 0
        for start in range(0, len(new), IN_CHUNK):
            batch = new[start : start + IN_CHUNK]
            session.execute(insert(cast(Table, Camera.__table__)), batch)
            done += len(batch)
            if progress:
                progress(done)
        for start in range(0, len(changed), IN_CHUNK):
            # ORM bulk UPDATE by primary key, grouped by the set of columns that changed
            session.execute(update(Camera), changed[start : start + IN_CHUNK])
        summary.created["cameras"] = len(new)
        summary.updated["cameras"] = len(changed)
        summary.unchanged["cameras"] = len(existing) - len(changed)
        self._warn_dropped(session, rows, planned, existing, summary)

    def _warn_dropped(
        self,
        session: Session,
        rows: Sequence[StdRow],
        planned: dict[str, dict[str, Any]],
        existing: dict[str, dict[str, Any]],
        summary: ImportSummary,
    ) -> None:
        """A row keyed by 관리번호 that now lists fewer cameras: keep the others, say so."""
        for row in rows:
            base = _row_key(row)
            if not row.manage_no or f"{base}#1" not in existing:
                continue
            stored = session.scalars(
                select(Camera.source_key).where(Camera.source_key.like(f"{base}#%"))
            ).all()
            extra = [k for k in stored if k not in planned]
            if extra:
                summary.warnings.append(
                    RowIssue(
                        row.line,
                        "카메라대수",
                        f"관리번호 {row.manage_no} now lists {row.count} camera(s); "
                        f"{len(extra)} stored before were kept, not deleted",
                    )
                )


def _district_from_address(row: StdRow) -> str | None:
    for address in (row.lot_address, row.road_address):
        if not address:
            continue
        for word in address.split()[:3]:
            if word.endswith(("구", "군")) and len(word) >= 2:
                return word
    return None


def _existing_rows(session: Session, keys: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    columns = [Camera.id, Camera.source_key] + [getattr(Camera, f) for f in CAMERA_FIELDS]
    for start in range(0, len(keys), IN_CHUNK):
        chunk = keys[start : start + IN_CHUNK]
        for row in session.execute(select(*columns).where(Camera.source_key.in_(chunk))):
            values = row._asdict()
            found[str(values.pop("source_key"))] = values
    return found
