"""Standard-data import into the database: counts, one transaction, idempotence, updates."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from argus.db import make_sessionmaker
from argus.registry.importer import StandardDataImport, StrictImportError
from argus.registry.models import Agency, Camera, Site
from argus.registry.stdimport import parse_bytes, parse_file
from tests.stdlayouts import STD_18 as HEADER_18


def row18(
    no: str,
    count: str = "2",
    lat: str = "35.1468",
    lon: str = "126.9222",
    agency: str = "광주광역시 동구청",
    purpose: str = "교통단속",
    year: str = "2019-03",
) -> list[str]:
    return [
        "3590000",
        no,
        agency,
        "광주광역시 동구 서남로 1",
        "광주광역시 동구 불로동 1",
        purpose,
        count,
        "200",
        "360도",
        "30",
        year,
        "062-608-2114",
        lat,
        lon,
        "2026-06-30",
        "I",
        "2026-06-30",
        "2026-06-30",
    ]


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER_18)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def counts(session: Session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(Agency)) or 0,
        session.scalar(select(func.count()).select_from(Site)) or 0,
        session.scalar(select(func.count()).select_from(Camera)) or 0,
    )


def do_import(engine: Engine, data: bytes, strict: bool = False) -> dict[str, Any]:
    sessions = make_sessionmaker(engine)
    with sessions() as session, session.begin():
        return (
            StandardDataImport(parse_bytes(data, "test.csv")).run(session, strict=strict).as_json()
        )


@pytest.mark.slow
def test_seoul_old_layout_lands_with_per_agency_counts(engine: Engine, shared_data: Path) -> None:
    parsed = parse_file(shared_data / "seoul-cctv-std-2020" / "CCTV_서울.csv")
    sessions = make_sessionmaker(engine)
    with sessions() as session, session.begin():
        summary = StandardDataImport(parsed).run(session)
    expected: Counter[str] = Counter()
    for row in parsed.rows:
        expected[row.agency.canonical] += row.count
    with sessions() as session:
        stored = dict(
            session.execute(
                select(Agency.name, func.count(Camera.id))
                .join(Camera, Camera.owner_id == Agency.id)
                .group_by(Agency.name)
            ).all()
        )
        assert stored == dict(expected)
        assert counts(session)[2] == summary.cameras == sum(expected.values())
        assert counts(session)[1] == summary.sites == _seoul_sites_by_hand(shared_data, parsed)
        # a site's cameras keep their own installation years
        years = session.execute(
            select(Camera.site_id, func.count(func.distinct(Camera.installed_year)))
            .group_by(Camera.site_id)
            .having(func.count(func.distinct(Camera.installed_year)) > 1)
        ).all()
        assert years, "no site with cameras of several years: rows of one site were not merged"
    again = do_import_parsed(engine, parsed)
    assert again["created"] == {"agencies": 0, "sites": 0, "cameras": 0}
    assert again["updated"] == {"cameras": 0}


def _seoul_sites_by_hand(shared_data: Path, parsed: Any) -> int:
    """Distinct (provider, coordinates, address) among the usable rows, read with csv alone."""
    path = shared_data / "seoul-cctv-std-2020" / "CCTV_서울.csv"
    rejected = {issue.line for issue in parsed.rejected}
    sites = set()
    with path.open(encoding="cp949", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            if line in rejected:
                continue
            address = " ".join((row["소재지지번주소"] or row["소재지도로명주소"]).split())
            sites.add((row["제공기관명"], float(row["위도"]), float(row["경도"]), address))
    assert len(sites) == 5726
    return len(sites)


def do_import_parsed(engine: Engine, parsed: object) -> dict[str, Any]:
    sessions = make_sessionmaker(engine)
    with sessions() as session, session.begin():
        return StandardDataImport(parsed).run(session).as_json()  # type: ignore[arg-type]


def test_gwangju_geojson_merges_repeated_site_rows(engine: Engine, shared_data: Path) -> None:
    parsed = parse_file(shared_data / "gwangju-cctv-dongmyeong-firelane" / "cctv_points.geojson")
    summary = do_import_parsed(engine, parsed)
    assert summary["rows"] == 53 and summary["sites"] == 29
    assert summary["agencies"] == ["광주광역시"]
    with make_sessionmaker(engine)() as session:
        assert counts(session)[1] == 29
        assert counts(session)[2] == summary["cameras"]
        districts = set(session.scalars(select(Site.district)))
        assert districts == {"동구"}


def test_idempotent_and_updates_by_manage_no(engine: Engine) -> None:
    first = do_import(engine, csv_bytes([row18("A-1"), row18("A-2", count="1", lat="35.1470")]))
    assert first["created"]["cameras"] == 3
    second = do_import(engine, csv_bytes([row18("A-1"), row18("A-2", count="1", lat="35.1470")]))
    assert second["created"] == {"agencies": 0, "sites": 0, "cameras": 0}
    assert second["updated"] == {"cameras": 0}
    # a newer release changes A-1's purpose and drops a camera: updated, nothing deleted
    third = do_import(engine, csv_bytes([row18("A-1", count="1", purpose="생활방범")]))
    assert third["updated"]["cameras"] == 1
    assert any("kept, not deleted" in w["reason"] for w in third["warnings"])
    with make_sessionmaker(engine)() as session:
        assert counts(session)[2] == 3
        purposes = Counter(session.scalars(select(Camera.purpose)))
        assert purposes == {"생활방범": 1, "교통단속": 2}


def test_strict_refuses_the_whole_file(engine: Engine) -> None:
    data = csv_bytes([row18("B-1"), row18("B-2", count="두대")])
    with pytest.raises(StrictImportError, match="nothing was imported"):
        do_import(engine, data, strict=True)
    with make_sessionmaker(engine)() as session:
        assert counts(session) == (0, 0, 0)
    summary = do_import(engine, data)
    assert summary["imported"] == 1
    assert [(r["line"], r["column"]) for r in summary["rejected"]] == [(3, "카메라대수")]


def test_failure_mid_write_leaves_nothing(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    data = csv_bytes([row18(f"C-{i}", lat=f"35.{1400 + i}") for i in range(50)])
    calls = {"n": 0}

    def explode(done: int) -> None:
        calls["n"] += 1
        raise RuntimeError("disk full")

    sessions = make_sessionmaker(engine)
    with pytest.raises(RuntimeError, match="disk full"), sessions() as session, session.begin():
        StandardDataImport(parse_bytes(data, "c.csv")).run(session, progress=explode)
    assert calls["n"] == 1
    with sessions() as session:
        assert counts(session) == (0, 0, 0)


good_row = st.builds(
    lambda no, count, dlat, dlon: row18(
        no, str(count), f"{35.15 + dlat:.6f}", f"{126.9 + dlon:.6f}"
    ),
    st.text("ABC123-", min_size=1, max_size=8),
    st.integers(1, 5),
    st.floats(-0.03, 0.03),
    st.floats(-0.03, 0.03),
)
bad_row = st.builds(
    lambda base, column, value: [*base[:column], value, *base[column + 1 :]],
    good_row,
    st.sampled_from([6, 12, 13]),  # 카메라대수, latitude, longitude
    st.sampled_from(["", "x", "-1", "0", "1e9", "NaN", "999", "서울"]),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(good_row, bad_row), min_size=1, max_size=30))
def test_random_rows_land_whole_or_are_listed(engine: Engine, rows: list[list[str]]) -> None:
    parsed = parse_bytes(csv_bytes(rows), "random.csv")
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        summary = StandardDataImport(parsed).run(session)
        rejected_lines = {r.line for r in parsed.rejected}
        assert len(parsed.rows) + len(rejected_lines) == len(rows)
        assert counts(session)[2] == summary.cameras == sum(r.count for r in parsed.rows)
        session.rollback()
        assert counts(session) == (0, 0, 0)
