"""Benchmark: import of national CCTV standard data (current 18-column layout) at scale.

    python bench/import_std.py [--rows 400000] [--database-url URL]

Writes a synthetic file of N rows spread over Korea's 17 시도 (UTF-8 with BOM, 1–3 cameras a row),
then imports it into a fresh database the way `argus import cctv-std` does, and prints the time of
each phase. Beside it, the floor measured in the same run: the same file read with the csv module
and its rows written with one executemany into a bare SQLite table (no validation, no sites, no
keys). The target is ≤ 60 s for 400,000 rows.
"""

from __future__ import annotations

import argparse
import csv
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from argus.db import make_engine, make_sessionmaker, upgrade
from argus.registry.importer import StandardDataImport
from argus.registry.stdimport import parse_file
from argus.registry.stdimport.columns import STD_18

HEADER = list(STD_18)
# (시도, a district, a centre point) — public geography, rounded
PLACES = [
    ("서울특별시", "종로구", 37.573, 126.979),
    ("부산광역시", "해운대구", 35.163, 129.164),
    ("대구광역시", "중구", 35.869, 128.606),
    ("인천광역시", "남동구", 37.447, 126.731),
    ("광주광역시", "동구", 35.146, 126.923),
    ("대전광역시", "서구", 36.355, 127.384),
    ("울산광역시", "남구", 35.544, 129.330),
    ("세종특별자치시", None, 36.480, 127.289),
    ("경기도", "수원시", 37.263, 127.029),
    ("강원특별자치도", "춘천시", 37.881, 127.730),
    ("충청북도", "청주시", 36.642, 127.489),
    ("충청남도", "천안시", 36.815, 127.114),
    ("전북특별자치도", "전주시", 35.824, 127.148),
    ("전라남도", "목포시", 34.812, 126.392),
    ("경상북도", "포항시", 36.019, 129.343),
    ("경상남도", "창원시", 35.228, 128.681),
    ("제주특별자치도", "제주시", 33.499, 126.531),
]
PURPOSES = ["생활방범", "다목적", "어린이보호", "교통단속", "시설물관리", "쓰레기단속", "기타"]


def write_file(path: Path, rows: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    cameras = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            sido, district, lat, lon = PLACES[n % len(PLACES)]
            agency = f"{sido} {district}청" if district else f"{sido}청"
            count = rng.choice((1, 1, 2, 3))
            cameras += count
            writer.writerow(
                [
                    "3000000",
                    f"B{n:07d}",
                    agency,
                    f"{sido} {district or ''} 시험로 {n % 997}",
                    f"{sido} {district or ''} 시험동 {n % 4999}-{n % 7}",
                    rng.choice(PURPOSES),
                    count,
                    "200",
                    "360도",
                    "30",
                    f"{rng.randint(2008, 2025)}-{rng.randint(1, 12):02d}",
                    "02-000-0000",
                    f"{lat + rng.uniform(-0.04, 0.04):.6f}",
                    f"{lon + rng.uniform(-0.04, 0.04):.6f}",
                    "2026-06-30",
                    "I",
                    "2026-06-30",
                    "2026-06-30",
                ]
            )
    return cameras


def floor(path: Path, db: Path) -> float:
    start = time.perf_counter()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"CREATE TABLE raw ({', '.join(f'c{i}' for i in range(len(HEADER)))})")
    with connection:
        connection.executemany(f"INSERT INTO raw VALUES ({', '.join('?' * len(HEADER))})", rows)
    connection.close()
    return time.perf_counter() - start


def run_once(path: Path, url: str) -> dict[str, float]:
    engine = make_engine(url)
    upgrade(engine)
    t0 = time.perf_counter()
    parsed = parse_file(path)
    t1 = time.perf_counter()
    with make_sessionmaker(engine)() as session:
        summary = StandardDataImport(parsed).run(session)
        session.commit()
    t2 = time.perf_counter()
    engine.dispose()
    assert not summary.rejected, summary.rejected[:3]
    return {"parse": t1 - t0, "write": t2 - t1, "total": t2 - t0, "cameras": summary.cameras}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--database-url", help="default: a new SQLite file per run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "cctv-std-18.csv"
        cameras = write_file(source, args.rows)
        print(
            f"file: {args.rows:,} rows, {cameras:,} cameras, {source.stat().st_size / 1e6:.1f} MB"
        )
        results = []
        floors = []
        for run in range(args.runs):
            url = args.database_url or f"sqlite:///{tmp}/argus-{run}.db"
            results.append(run_once(source, url))
            floors.append(floor(source, Path(tmp) / f"floor-{run}.db"))
        total = statistics.median(r["total"] for r in results)
        print(
            f"argus import: parse {statistics.median(r['parse'] for r in results):.1f} s, "
            f"write {statistics.median(r['write'] for r in results):.1f} s, "
            f"total {total:.1f} s ({args.rows / total:,.0f} rows/s) [median of {args.runs}]"
        )
        base = statistics.median(floors)
        print(f"floor (csv + one executemany, no checks): {base:.1f} s; ", end="")
        print(f"argus/floor = {total / base:.1f}x")
        met = total * 400_000 / args.rows <= 60
        print(f"target ≤ 60 s for 400,000 rows: {'met' if met else 'NOT met'}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
