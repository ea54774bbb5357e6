"""The Gwangju reference deployment, planned from real public data (no database).

Gwangju's CCTV Integrated Control Centre links the city's crime-prevention cameras with
**1,350 illegal-parking-enforcement cameras at 348 sites** run by its five districts (동구, 서구,
남구, 북구, 광산구). :func:`plan_gwangju` plans that deployment: who owns what, where, with which
cameras. Everything real is marked ``synthetic=False``; everything generated is marked
``synthetic=True`` and says in its provenance where it stands and which seed made it.

Agencies
    광주광역시 (city); 광주광역시 동구, 서구, 남구, 북구, 광산구 (districts, parent the city);
    광주경찰청 112치안종합상황실 (police), 광주소방안전본부 119종합상황실 (fire) and
    광주광역시 재난안전상황실 (disaster, parent the city). The last three own no cameras: they
    receive video under incidents and agreements.

City crime-prevention cameras (real sites)
    The 2,479 sites and 7,134 cameras of ``gwangju-cctv-safewalk/cctv.csv``, re-aggregated from
    행정안전부 전국CCTV표준데이터 by the Gwangju_Safe_Walk project. They cover 동구, 서구 and 북구
    only: the city's cameras in 남구 and 광산구 are not in the data and none are invented. Site
    district is the file's 구 column (16 sites stand outside it, as published); the lot address is
    the published one with its city prefix made "광주광역시 " (a road-name address found in that
    column becomes the road address). Each camera: purpose 생활방범, 2.0 MP (the Gwangju release
    says 200만 화소), 30-day retention. The data says the site faces 360° but not which kind of
    cameras it has, so this ASSUMPTION is made and written into every camera's provenance: camera 1
    of each site is a PTZ unit (azimuth none, 360° pan); the others are fixed cameras with a 90°
    field of view (a typical 2 MP 3.6 mm lens), spread evenly round the compass from a seeded
    random start, so that a site with several cameras still sees all round. Range and
    installation date are unknown and left empty.

District parking-enforcement cameras (generated, at real places)
    Exactly 348 sites and 1,350 PTZ cameras, purpose 교통단속, 2.0 MP, 30-day retention, 360°
    pan, plate-reading range 150–250 m, installed 2012–2022 (all seeded), tag
    ``parking-enforcement``. Each site stands at a real place where a district would enforce
    parking: a 행정안전부 school zone (어린이보호구역, 601 in Gwangju, 2020) or a 도로교통공단
    fatal-crash point (732 in Gwangju, 2012–2019).

    - Sites per district are proportional to the district's school zones (counted by polygon;
      largest remainder): 동구 31, 서구 61, 남구 34, 북구 105, 광산구 117. Cameras per district
      are proportional to its sites: 120, 237, 132, 407, 454. Within a district each site gets
      1–8 cameras (seeded), summing exactly.
    - About 60 % of a district's sites are school zones, 40 % crash points.
    - A site's district is the district polygon (``gwangju-boundaries/districts.geojson``) that
      strictly contains it, and a district's sites are only placed inside its own polygon.
    - No two district sites are closer than 50 m (near-duplicate places are skipped).
    - A quarter of all district sites (87) are **co-located** with a city site, as Gwangju's
      relocation plan found: a demand point with a city site of the same district within 150 m
      is moved next to it, 5–25 m away on the side of the demand point. The 87 are shared over
      the districts that have city sites (동구 14, 서구 27, 북구 46) in proportion to their
      sites. Every other district site is more than 30 m from any city site, so "within 25 m"
      separates the two kinds cleanly.

Determinism
    Keys are stable: ``gwangju:city:site:<lat>,<lon>`` (5 decimals, as published) and
    ``gwangju:<district>:pe:site:<NNN>``, with ``:cam:<n>`` for cameras. The same seed gives the
    identical plan; another seed moves the district sites (and re-draws the assumed azimuths of
    city cameras) but keeps every key, count and city site. Randomness comes from
    :class:`random.Random` seeded with strings (hashed with SHA-512, stable across runs).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argus.registry.spatial import EARTH_RADIUS_M, SpatialIndex, haversine_m
from argus.registry.vocab import AgencyKind, CameraType, Purpose
from argus.scenario.model import (
    Colocation,
    PlannedAgency,
    PlannedCamera,
    PlannedSite,
    ScenarioPlan,
)
from argus.scenario.sources import (
    CITY_SITES_CSV,
    FATAL_CRASHES_DIR,
    GWANGJU_DISTRICTS_GEOJSON,
    SCHOOL_ZONES_CSV,
    CitySiteRow,
    DataError,
    Districts,
    FatalCrash,
    SchoolZone,
    normalise_gwangju_address,
    read_city_sites,
    read_fatal_crashes,
    read_school_zones,
)

__all__ = [
    "CITY",
    "DISTRICTS",
    "Colocation",
    "PlannedAgency",
    "PlannedCamera",
    "PlannedSite",
    "ScenarioPlan",
    "district_agency",
    "plan_gwangju",
]

CITY = "광주광역시"
DISTRICTS: tuple[str, ...] = ("동구", "서구", "남구", "북구", "광산구")
POLICE = "광주경찰청 112치안종합상황실"
FIRE = "광주소방안전본부 119종합상황실"
DISASTER = "광주광역시 재난안전상황실"

PE_SITES = 348
PE_CAMERAS = 1350
COLOCATED_SHARE = 0.25
SCHOOL_ZONE_SHARE = 0.6
MIN_SPACING_M = 50.0
ANCHOR_SEARCH_M = 150.0
SNAP_MIN_M = 5.0
SNAP_MAX_M = 25.0
CLEAR_OF_CITY_M = 30.0
MAX_CAMERAS_PER_SITE = 8
PE_RANGE_M = (150, 250)
PE_INSTALLED_YEARS = (2012, 2022)
RESOLUTION_MP = 2.0
RETENTION_DAYS = 30
FIXED_FOV_DEG = 90.0
PTZ_FOV_DEG = 360.0

CITY_SOURCE = "행정안전부 전국CCTV표준데이터 via Gwangju_Safe_Walk cctv.csv"
SCHOOL_ZONE_SOURCE = "행정안전부 전국어린이보호구역표준데이터 2020"
CRASH_SOURCE = "도로교통공단 교통사망사고정보"

_SNAP_TRIES = 8


def district_agency(district: str) -> str:
    """The agency name of a Gwangju district, e.g. "광주광역시 동구"."""
    return f"{CITY} {district}"


@dataclass(frozen=True)
class _Demand:
    """A real place where a district might enforce parking."""

    source: str  # "school_zone" or "fatal_crash"
    district: str
    lat: float
    lon: float
    name: str | None
    lot_address: str | None
    road_address: str | None
    label: str
    anchor: int | None  # nearest city site of the same district within ANCHOR_SEARCH_M
    city_min_m: float  # distance to the nearest city site of any district


@dataclass(frozen=True)
class _Placed:
    lat: float
    lon: float
    demand: _Demand
    anchor: int | None
    anchor_m: float | None


def plan_gwangju(data_dir: Path, seed: int = 2026) -> ScenarioPlan:
    """Plan the Gwangju reference deployment from the shared public data in ``data_dir``."""
    districts = Districts.read(data_dir / GWANGJU_DISTRICTS_GEOJSON)
    missing = [d for d in DISTRICTS if d not in districts.names]
    if missing:
        raise DataError(f"{GWANGJU_DISTRICTS_GEOJSON}: no polygon for {', '.join(missing)}")
    city_rows = read_city_sites(data_dir / CITY_SITES_CSV)
    zones = read_school_zones(data_dir / SCHOOL_ZONES_CSV, CITY)
    crashes = read_fatal_crashes(data_dir / FATAL_CRASHES_DIR, "광주")

    city_sites, city_cameras = _city_layer(city_rows, seed)
    city_index = SpatialIndex.build(
        list(range(len(city_rows))), [r.lat for r in city_rows], [r.lon for r in city_rows]
    )
    in_polygon = districts.locate([r.lat for r in city_rows], [r.lon for r in city_rows])
    # A city site can anchor a co-located district site only where its published district and
    # its position agree.
    anchor_ok = [in_polygon[i] == row.district for i, row in enumerate(city_rows)]

    demand = _demand_points(zones, crashes, districts, city_index, anchor_ok, city_rows)
    zones_per_district = Counter(p.district for p in demand if p.source == "school_zone")
    site_quota = _largest_remainder(PE_SITES, {d: zones_per_district[d] for d in DISTRICTS})
    camera_quota = _largest_remainder(PE_CAMERAS, {d: site_quota[d] for d in DISTRICTS})
    can_colocate = {
        d for d in DISTRICTS if any(p.anchor is not None for p in demand if p.district == d)
    }
    colocated_quota = _largest_remainder(
        math.floor(COLOCATED_SHARE * PE_SITES + 0.5),
        {d: site_quota[d] if d in can_colocate else 0 for d in DISTRICTS},
    )

    placed_index = SpatialIndex()
    district_sites: list[PlannedSite] = []
    district_cameras: list[PlannedCamera] = []
    colocations: list[Colocation] = []
    per_district: dict[str, dict[str, int]] = {}
    for district in DISTRICTS:
        rng = random.Random(f"argus:gwangju:{seed}:pe:{district}")
        placed = _place_district(
            district,
            site_quota[district],
            colocated_quota[district],
            [p for p in demand if p.district == district],
            city_rows,
            districts,
            placed_index,
            rng,
        )
        sites, cameras, colocs = _district_layer(
            district, placed, camera_quota[district], city_sites, seed, rng
        )
        district_sites += sites
        district_cameras += cameras
        colocations += colocs
        kinds = Counter(p.demand.source for p in placed)
        per_district[district] = {
            "sites": len(sites),
            "cameras": len(cameras),
            "colocated": len(colocs),
            "school_zone": kinds["school_zone"],
            "fatal_crash": kinds["fatal_crash"],
        }

    sites = city_sites + district_sites
    cameras = city_cameras + district_cameras
    summary: dict[str, Any] = {
        "seed": seed,
        "sources": {
            "city_sites": len(city_rows),
            "city_cameras": sum(r.count for r in city_rows),
            "school_zones": len(zones),
            "fatal_crashes": len(crashes),
            "demand_points_in_districts": len(demand),
        },
        "allocation": "district sites ∝ school zones per district polygon; cameras ∝ sites",
        "school_zones_per_district": {d: zones_per_district[d] for d in DISTRICTS},
        "district_sites": per_district,
        "sites_per_owner": dict(Counter(s.owner for s in sites)),
        "cameras_per_owner": dict(Counter(c.owner for c in cameras)),
        "colocated_share": round(len(colocations) / max(1, len(district_sites)), 4),
    }
    return ScenarioPlan(
        agencies=_agencies(),
        sites=sites,
        cameras=cameras,
        colocated_sites=len(colocations),
        colocations=colocations,
        summary=summary,
    )


# -- agencies ------------------------------------------------------------------------------


def _agencies() -> list[PlannedAgency]:
    out = [PlannedAgency(CITY, AgencyKind.CITY, CITY, None, None)]
    out += [
        PlannedAgency(district_agency(d), AgencyKind.DISTRICT, CITY, d, CITY) for d in DISTRICTS
    ]
    out += [
        PlannedAgency(POLICE, AgencyKind.POLICE, CITY, None, None),
        PlannedAgency(FIRE, AgencyKind.FIRE, CITY, None, None),
        PlannedAgency(DISASTER, AgencyKind.DISASTER, CITY, None, CITY),
    ]
    return out


# -- the city's real sites -----------------------------------------------------------------


def city_site_key(row: CitySiteRow) -> str:
    return f"gwangju:city:site:{row.lat:.5f},{row.lon:.5f}"


def _city_layer(
    rows: Sequence[CitySiteRow], seed: int
) -> tuple[list[PlannedSite], list[PlannedCamera]]:
    rng = random.Random(f"argus:gwangju:{seed}:city")
    sites: list[PlannedSite] = []
    cameras: list[PlannedCamera] = []
    camera_provenance = (
        f"{CITY_SOURCE} (site, count, 200만 화소, 360도, 30일); assumed: camera 1 PTZ, "
        f"others fixed {FIXED_FOV_DEG:.0f}° at seeded azimuths (seed {seed})"
    )
    seen: set[str] = set()
    for row in rows:
        key = city_site_key(row)
        if key in seen:
            raise DataError(f"{CITY_SITES_CSV}, line {row.line}: a second site at {key}")
        seen.add(key)
        lot, road = normalise_gwangju_address(row.address)
        sites.append(
            PlannedSite(
                key=key,
                owner=CITY,
                lat=row.lat,
                lon=row.lon,
                lot_address=lot,
                road_address=road,
                region=CITY,
                district=row.district,
                name=None,
                synthetic=False,
                provenance=f"{CITY_SOURCE}, line {row.line}",
            )
        )
        label = (lot or road or row.address).removeprefix(f"{CITY} ")
        start = rng.uniform(0.0, 360.0)
        n_fixed = row.count - 1
        for n in range(1, row.count + 1):
            ptz = n == 1
            azimuth = None if ptz else round((start + (n - 2) * 360.0 / n_fixed) % 360.0, 1)
            cameras.append(
                PlannedCamera(
                    key=f"{key}:cam:{n}",
                    site_key=key,
                    owner=CITY,
                    name=f"{label} 방범 {n}",
                    purpose=Purpose.CRIME_PREVENTION,
                    camera_type=CameraType.PTZ if ptz else CameraType.FIXED,
                    resolution_mp=RESOLUTION_MP,
                    range_m=None,
                    azimuth_deg=None if azimuth is None else azimuth % 360.0,
                    fov_deg=PTZ_FOV_DEG if ptz else FIXED_FOV_DEG,
                    retention_days=RETENTION_DAYS,
                    installed_year=None,
                    installed_month=None,
                    tags=("crime-prevention",),
                    synthetic=False,
                    provenance=camera_provenance,
                )
            )
    return sites, cameras


# -- demand points: where parking enforcement would stand ---------------------------------


def _demand_points(
    zones: Sequence[SchoolZone],
    crashes: Sequence[FatalCrash],
    districts: Districts,
    city_index: SpatialIndex,
    anchor_ok: Sequence[bool],
    city_rows: Sequence[CitySiteRow],
) -> list[_Demand]:
    raw: list[tuple[str, float, float, str | None, str | None, str | None, str]] = []
    for z in zones:
        raw.append(
            (
                "school_zone",
                z.lat,
                z.lon,
                z.name or None,
                z.lot_address,
                z.road_address,
                f"school zone {z.name} ({SCHOOL_ZONE_SOURCE}, row {z.row})",
            )
        )
    for c in crashes:
        raw.append(
            (
                "fatal_crash",
                c.lat,
                c.lon,
                None,
                None,
                None,
                f"fatal-crash point ({CRASH_SOURCE} {c.year}, row {c.row})",
            )
        )
    where = districts.locate([r[1] for r in raw], [r[2] for r in raw])
    out: list[_Demand] = []
    for (source, lat, lon, name, lot, road, label), district in zip(raw, where, strict=True):
        if district is None or district not in DISTRICTS:
            continue  # outside the city
        anchor: int | None = None
        for i, _ in city_index.within(lat, lon, ANCHOR_SEARCH_M):
            if anchor_ok[i] and city_rows[i].district == district:
                anchor = i
                break
        nearest = city_index.nearest(lat, lon, 1)
        out.append(
            _Demand(
                source=source,
                district=district,
                lat=lat,
                lon=lon,
                name=name,
                lot_address=lot,
                road_address=road,
                label=label,
                anchor=anchor,
                city_min_m=nearest[0][1] if nearest else math.inf,
            )
        )
    return out


# -- placing a district's sites ------------------------------------------------------------


def _place_district(
    district: str,
    n_sites: int,
    n_colocated: int,
    demand: Sequence[_Demand],
    city_rows: Sequence[CitySiteRow],
    districts: Districts,
    placed_index: SpatialIndex,
    rng: random.Random,
) -> list[_Placed]:
    n_school = math.floor(SCHOOL_ZONE_SHARE * n_sites + 0.5)
    school_colocated = math.floor(SCHOOL_ZONE_SHARE * n_colocated + 0.5)
    school_clear = max(0, n_school - school_colocated)
    wants = {
        (True, "school_zone"): school_colocated,
        (True, "fatal_crash"): n_colocated - school_colocated,
        (False, "school_zone"): school_clear,
        (False, "fatal_crash"): n_sites - n_colocated - school_clear,
    }
    pools: dict[tuple[bool, str], list[_Demand]] = {}
    for colocated, source in wants:
        pool = [
            p
            for p in demand
            if p.source == source
            and (p.anchor is not None if colocated else p.city_min_m > CLEAR_OF_CITY_M)
        ]
        rng.shuffle(pool)
        pools[colocated, source] = pool
    used: set[_Demand] = set()  # demand points already turned into a site
    placed: list[_Placed] = []

    def take(colocated: bool, source: str, want: int) -> int:
        pool = pools[colocated, source]
        got = 0
        while got < want and pool:
            point = pool.pop()
            if point in used:
                continue
            site = (
                _snap_next_to_city(point, city_rows, districts, placed_index, rng)
                if colocated
                else _keep_in_place(point, placed_index)
            )
            if site is None:
                continue
            used.add(point)
            placed_index.upsert(len(placed_index), site.lat, site.lon)
            placed.append(site)
            got += 1
        return got

    for colocated in (True, False):
        first, second = (colocated, "school_zone"), (colocated, "fatal_crash")
        short = wants[first] - take(*first, wants[first])
        short = wants[second] + short - take(*second, wants[second] + short)
        short -= take(*first, short)  # the school zones may cover for missing crash points
        if short > 0:
            kind = "co-located" if colocated else "stand-alone"
            raise DataError(
                f"{district}: {short} {kind} parking-enforcement sites could not be placed "
                "at distinct real places"
            )
    placed.sort(key=lambda s: (s.lat, s.lon))
    return placed


def _keep_in_place(point: _Demand, placed_index: SpatialIndex) -> _Placed | None:
    if placed_index.within(point.lat, point.lon, MIN_SPACING_M):
        return None
    return _Placed(point.lat, point.lon, point, None, None)


def _snap_next_to_city(
    point: _Demand,
    city_rows: Sequence[CitySiteRow],
    districts: Districts,
    placed_index: SpatialIndex,
    rng: random.Random,
) -> _Placed | None:
    """A place 5–25 m from the demand point's city site, on the demand point's side."""
    assert point.anchor is not None
    city = city_rows[point.anchor]
    toward = (
        initial_bearing(city.lat, city.lon, point.lat, point.lon)
        if haversine_m(city.lat, city.lon, point.lat, point.lon) >= 1.0
        else rng.uniform(0.0, 360.0)
    )
    for attempt in range(_SNAP_TRIES):
        spread = 40.0 if attempt < _SNAP_TRIES // 2 else 180.0
        bearing = toward + rng.uniform(-spread, spread)
        distance = rng.uniform(SNAP_MIN_M + 0.5, SNAP_MAX_M - 0.5)
        lat, lon = destination(city.lat, city.lon, bearing, distance)
        lat, lon = round(lat, 7), round(lon, 7)
        actual = haversine_m(city.lat, city.lon, lat, lon)
        if not SNAP_MIN_M <= actual <= SNAP_MAX_M:
            continue
        if not districts.contains(point.district, lat, lon):
            continue
        if placed_index.within(lat, lon, MIN_SPACING_M):
            continue
        return _Placed(lat, lon, point, point.anchor, actual)
    return None


# -- the district layer --------------------------------------------------------------------


def _district_layer(
    district: str,
    placed: Sequence[_Placed],
    n_cameras: int,
    city_sites: Sequence[PlannedSite],
    seed: int,
    rng: random.Random,
) -> tuple[list[PlannedSite], list[PlannedCamera], list[Colocation]]:
    owner = district_agency(district)
    counts = _split_cameras(n_cameras, len(placed), rng)
    sites: list[PlannedSite] = []
    cameras: list[PlannedCamera] = []
    colocations: list[Colocation] = []
    for number, (site, count) in enumerate(zip(placed, counts, strict=True), start=1):
        key = f"gwangju:{district}:pe:site:{number:03d}"
        provenance = f"generated: Gwangju scenario seed {seed} at {site.demand.label}"
        if site.anchor is not None and site.anchor_m is not None:
            other = city_sites[site.anchor].key
            provenance += f"; {site.anchor_m:.1f} m from city site {other.rsplit(':', 1)[1]}"
            colocations.append(Colocation(key, other, site.anchor_m))
        sites.append(
            PlannedSite(
                key=key,
                owner=owner,
                lat=site.lat,
                lon=site.lon,
                lot_address=site.demand.lot_address,
                road_address=site.demand.road_address,
                region=CITY,
                district=district,
                name=site.demand.name,
                synthetic=True,
                provenance=provenance,
            )
        )
        year = rng.randint(*PE_INSTALLED_YEARS)
        month = rng.randint(1, 12)
        for n in range(1, count + 1):
            cameras.append(
                PlannedCamera(
                    key=f"{key}:cam:{n}",
                    site_key=key,
                    owner=owner,
                    name=f"{district} 주정차단속 {number:03d}-{n}",
                    purpose=Purpose.TRAFFIC_ENFORCEMENT,
                    camera_type=CameraType.PTZ,
                    resolution_mp=RESOLUTION_MP,
                    range_m=float(rng.randint(*PE_RANGE_M)),
                    azimuth_deg=None,
                    fov_deg=PTZ_FOV_DEG,
                    retention_days=RETENTION_DAYS,
                    installed_year=year,
                    installed_month=month,
                    tags=("parking-enforcement",),
                    synthetic=True,
                    provenance=provenance,
                )
            )
    return sites, cameras, colocations


def _split_cameras(total: int, n_sites: int, rng: random.Random) -> list[int]:
    """``n_sites`` counts of 1..MAX_CAMERAS_PER_SITE summing to ``total``, seeded."""
    if not n_sites <= total <= MAX_CAMERAS_PER_SITE * n_sites:
        raise DataError(f"{total} cameras cannot be spread over {n_sites} sites")
    counts = [1] * n_sites
    open_sites = list(range(n_sites))
    for _ in range(total - n_sites):
        i = rng.randrange(len(open_sites))
        counts[open_sites[i]] += 1
        if counts[open_sites[i]] == MAX_CAMERAS_PER_SITE:
            open_sites[i] = open_sites[-1]
            open_sites.pop()
    return counts


# -- small helpers -------------------------------------------------------------------------


def _largest_remainder(total: int, weights: Mapping[str, float]) -> dict[str, int]:
    """Integer shares of ``total`` proportional to ``weights`` (Hamilton's method).

    Ties in the remainders go to the key that comes first in ``weights``.
    """
    weight_sum = sum(weights.values())
    if total and weight_sum <= 0:
        raise DataError("nothing to allocate over")
    exact = {k: total * w / weight_sum if weight_sum else 0.0 for k, w in weights.items()}
    shares = {k: math.floor(v) for k, v in exact.items()}
    order = list(weights)
    by_remainder = sorted(order, key=lambda k: (-(exact[k] - shares[k]), order.index(k)))
    for k in by_remainder[: total - sum(shares.values())]:
        shares[k] += 1
    return shares


def initial_bearing(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial great-circle bearing in degrees from point 1 to point 2."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


def destination(
    lat: float, lon: float, bearing_deg: float, distance_m: float
) -> tuple[float, float]:
    """The point ``distance_m`` from (lat, lon) along ``bearing_deg`` on the sphere."""
    delta = distance_m / EARTH_RADIUS_M
    theta = math.radians(bearing_deg)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(
        math.sin(p1) * math.cos(delta) + math.cos(p1) * math.sin(delta) * math.cos(theta)
    )
    l2 = l1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(p1),
        math.cos(delta) - math.sin(p1) * math.sin(p2),
    )
    return math.degrees(p2), (math.degrees(l2) + 540.0) % 360.0 - 180.0
