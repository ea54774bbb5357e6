"""Benchmark of argus.sharing.policy.authorize against a naive scan over every agreement.

    python bench/authorize.py [--cameras 10000] [--agreements 500] [--agencies 40]
                              [--requests 20000] [--seed 7]

A seeded deployment: ``--agencies`` agencies owning ``--cameras`` cameras (skewed: a few big
owners), about three cameras per site, the standard installation purposes in realistic shares;
``--agreements`` agreements whose consumers are mostly five hub agencies (the control centre,
police, fire), with every kind of selector (district and purpose, site list, camera list,
circle, box), night and daytime windows, weekdays, the incident exception, and 15 % of them
suspended, revoked or expired. Every agreement goes through ``build_terms`` as the service does.

Requests: half pick an agreement and ask for one of its owner's cameras as a user of its
consumer (the case the index must not slow down), half are uniform (subject agency, camera,
role, capability, purpose, time of the year); 10 % carry an incident.

Baseline, in the same run and on the same requests: ``authorize`` over a snapshot whose
"index" scans the whole agreement list on every look-up (a naive scan: for each request, every
agreement is checked for its two agencies, then evaluated exactly as before). Both must give
identical decisions; the benchmark checks that.

Also timed: ``PolicySnapshot.build`` from the checked agreements, and ``build_snapshot`` from an
SQLite database holding the cameras and agreements (reading the rows and re-checking the terms).
Targets: authorize median <= 50 us, p99 <= 1 ms at 10,000 cameras and 500 agreements.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy

from argus.db import make_engine, make_sessionmaker, transaction, upgrade
from argus.identity.principal import Principal, Role
from argus.registry.models import Agency, Camera, Site
from argus.sharing.models import Agreement
from argus.sharing.policy import (
    AgreementRule,
    CameraFacts,
    Decision,
    IncidentFacts,
    PolicySnapshot,
    authorize,
)
from argus.sharing.store import build_snapshot, store_terms
from argus.sharing.terms import build_terms
from argus.sharing.vocab import AccessPurpose, AgreementStatus, Capability

PURPOSE_SHARES = [
    ("생활방범", 40),
    ("교통단속", 25),
    ("어린이보호", 12),
    ("다목적", 8),
    ("교통정보수집", 5),
    ("시설물관리", 4),
    ("재난재해", 3),
    ("쓰레기단속", 2),
    ("차량방범", 1),
]
WINDOW_SETS: list[tuple[list[dict[str, Any]], int]] = [
    ([], 45),
    ([{"start": "22:00", "end": "07:00"}], 30),
    ([{"start": "22:00", "end": "07:00", "days": ["fri", "sat"]}], 10),
    ([{"start": "06:00", "end": "09:00"}, {"start": "18:00", "end": "21:00"}], 10),
    ([{"start": "00:00", "end": "24:00", "days": ["sat", "sun"]}], 5),
]
ROLES = [Role.OPERATOR, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.RESPONDER, Role.AUDITOR]
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class World:
    agencies: list[int]
    hubs: list[int]
    districts: dict[int, str]
    sites: list[tuple[int, int, float, float]]  # id, owner, lat, lon
    cameras: list[CameraFacts]
    by_owner: dict[int, list[CameraFacts]]
    sites_by_owner: dict[int, list[int]]


def weighted(rng: random.Random, pairs: list[tuple[Any, int]]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def make_world(rng: random.Random, n_agencies: int, n_cameras: int) -> World:
    agencies = list(range(1, n_agencies + 1))
    districts = {a: f"구{a:02d}" for a in agencies}
    weights = [1.0 / (i + 1) ** 0.8 for i in range(n_agencies)]
    centres = {a: (35.05 + rng.random() * 0.3, 126.7 + rng.random() * 0.35) for a in agencies}
    sites: list[tuple[int, int, float, float]] = []
    cameras: list[CameraFacts] = []
    while len(cameras) < n_cameras:
        owner = rng.choices(agencies, weights=weights)[0]
        clat, clon = centres[owner]
        lat, lon = clat + rng.gauss(0, 0.02), clon + rng.gauss(0, 0.02)
        site_id = len(sites) + 1
        sites.append((site_id, owner, lat, lon))
        purpose = weighted(rng, PURPOSE_SHARES)
        for _ in range(min(rng.randint(1, 5), n_cameras - len(cameras))):
            cameras.append(
                CameraFacts(
                    id=len(cameras) + 1,
                    owner_agency_id=owner,
                    site_id=site_id,
                    purpose=purpose,
                    district=districts[owner],
                    lat=lat,
                    lon=lon,
                    enabled=rng.random() > 0.02,
                    region="광주광역시",
                )
            )
    by_owner: dict[int, list[CameraFacts]] = {a: [] for a in agencies}
    sites_by_owner: dict[int, list[int]] = {a: [] for a in agencies}
    for cam in cameras:
        by_owner[cam.owner_agency_id].append(cam)
    for site_id, owner, _, _ in sites:
        sites_by_owner[owner].append(site_id)
    return World(agencies, agencies[:5], districts, sites, cameras, by_owner, sites_by_owner)


def make_selector(rng: random.Random, world: World, owner: int) -> dict[str, Any]:
    own = world.by_owner[owner]
    kind = weighted(
        rng, [("district", 30), ("sites", 20), ("cameras", 20), ("circle", 15), ("box", 15)]
    )
    if kind == "district":
        chosen = sorted({weighted(rng, PURPOSE_SHARES) for _ in range(rng.randint(1, 2))})
        return {"districts": [world.districts[owner]], "purposes": chosen}
    if kind == "sites":
        pool = world.sites_by_owner[owner]
        return {"site_ids": rng.sample(pool, min(len(pool), rng.randint(5, 40)))}
    if kind == "cameras":
        return {"camera_ids": [c.id for c in rng.sample(own, min(len(own), rng.randint(10, 300)))]}
    centre = rng.choice(own)
    if kind == "circle":
        radius = rng.uniform(300, 3000)
        return {"area": {"circle": {"lat": centre.lat, "lon": centre.lon, "radius_m": radius}}}
    half = rng.uniform(0.005, 0.03)
    box = [centre.lon - half, centre.lat - half, centre.lon + half, centre.lat + half]
    return {"area": {"bbox": box}, "purposes": ["생활방범", "교통단속"]}


def make_rules(rng: random.Random, world: World, n: int) -> list[AgreementRule]:
    owners = [a for a in world.agencies if world.by_owner[a]]
    rules: list[AgreementRule] = []
    for agreement_id in range(1, n + 1):
        owner = rng.choice(owners)
        candidates = [a for a in world.agencies if a != owner]
        hubs = [a for a in world.hubs if a != owner]
        consumer = rng.choice(hubs) if rng.random() < 0.7 else rng.choice(candidates)
        capabilities = rng.sample(list(Capability), rng.randint(1, 4))
        valid_from = YEAR_START - timedelta(days=rng.randint(0, 200))
        terms = build_terms(
            owner_agency_id=owner,
            consumer_agency_id=consumer,
            selector=make_selector(rng, world, owner),
            purposes=rng.sample(list(AccessPurpose), rng.randint(1, 3)),
            capabilities=capabilities,
            ptz_priority=rng.randint(1, 100) if Capability.PTZ in capabilities else None,
            windows=weighted(rng, WINDOW_SETS),
            unless_incident=rng.random() < 0.3,
            valid_from=valid_from,
            valid_until=None
            if rng.random() < 0.5
            else valid_from + timedelta(days=rng.randint(200, 800)),
            legal_basis="개인정보 보호법 제18조제2항, 협약서",
        )
        status = weighted(
            rng,
            [
                (AgreementStatus.ACCEPTED, 85),
                (AgreementStatus.SUSPENDED, 5),
                (AgreementStatus.REVOKED, 5),
                (AgreementStatus.EXPIRED, 5),
            ],
        )
        rules.append(AgreementRule(agreement_id, status, terms))
    return rules


Request = tuple[
    Principal, CameraFacts, Capability, AccessPurpose, datetime, IncidentFacts | None, str | None
]


def make_requests(
    rng: random.Random, world: World, rules: list[AgreementRule], n: int
) -> list[Request]:
    requests: list[Request] = []
    for index in range(n):
        if index % 2 == 0:
            rule = rng.choice(rules)
            agency = rule.terms.consumer_agency_id
            camera = rng.choice(world.by_owner[rule.terms.owner_agency_id])
            role = rng.choice([Role.OPERATOR, Role.SUPERVISOR, Role.RESPONDER])
        else:
            agency = rng.choice(world.agencies)
            camera = rng.choice(world.cameras)
            role = rng.choice(ROLES)
        subject = Principal(index + 1, f"user{index}", agency, frozenset({role}))
        purpose = rng.choice(list(AccessPurpose))
        at = YEAR_START + timedelta(minutes=rng.randint(0, 365 * 24 * 60))
        incident = None
        if rng.random() < 0.1:
            incident = IncidentFacts(
                id=rng.randint(1, 50),
                open=rng.random() < 0.8,
                responding_agency_ids=frozenset({agency, rng.choice(world.agencies)}),
                camera_ids=frozenset(c.id for c in rng.sample(world.cameras, 20)) | {camera.id},
                capabilities=frozenset({Capability.LIVE, Capability.PLAYBACK}),
                purposes=frozenset({AccessPurpose.CRIME_PREVENTION, AccessPurpose.DISASTER}),
            )
        case = "2026-0001" if rng.random() < 0.9 else None
        requests.append(
            (subject, camera, rng.choice(list(Capability)), purpose, at, incident, case)
        )
    return requests


class _ScanOwners(Mapping[int, tuple[AgreementRule, ...]]):
    """owner → the rules with this consumer and owner, found by scanning every rule."""

    def __init__(self, rules: tuple[AgreementRule, ...], consumer: int) -> None:
        self._rules, self._consumer = rules, consumer

    def get(self, owner: int, default: Any = None) -> Any:
        consumer = self._consumer
        return tuple(
            r
            for r in self._rules
            if r.terms.consumer_agency_id == consumer and r.terms.owner_agency_id == owner
        )

    def __getitem__(self, owner: int) -> tuple[AgreementRule, ...]:
        return self.get(owner)  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[int]:
        return iter({r.terms.owner_agency_id for r in self._rules})

    def __len__(self) -> int:
        return len({r.terms.owner_agency_id for r in self._rules})


class ScanIndex(Mapping[int, Mapping[int, tuple[AgreementRule, ...]]]):
    """No index at all: every look-up scans the whole agreement list (the naive baseline)."""

    def __init__(self, rules: list[AgreementRule]) -> None:
        self._rules = tuple(rules)

    def get(self, consumer: int, default: Any = None) -> Any:
        return _ScanOwners(self._rules, consumer)

    def __getitem__(self, consumer: int) -> Mapping[int, tuple[AgreementRule, ...]]:
        return _ScanOwners(self._rules, consumer)

    def __iter__(self) -> Iterator[int]:
        return iter({r.terms.consumer_agency_id for r in self._rules})

    def __len__(self) -> int:
        return len({r.terms.consumer_agency_id for r in self._rules})


def naive_snapshot(rules: list[AgreementRule]) -> PolicySnapshot:
    active = [r for r in rules if r.status is AgreementStatus.ACCEPTED]
    ended = [r for r in rules if r.status is not AgreementStatus.ACCEPTED]
    return PolicySnapshot(active=ScanIndex(active), inactive=ScanIndex(ended))


def timed(requests: list[Request], policy: PolicySnapshot) -> tuple[list[float], list[Decision]]:
    times: list[float] = []
    decisions: list[Decision] = []
    clock = time.perf_counter_ns
    for subject, camera, capability, purpose, at, incident, case in requests:
        start = clock()
        decision = authorize(
            subject, camera, capability, purpose, at, incident, policy=policy, case_number=case
        )
        times.append((clock() - start) / 1000.0)
        decisions.append(decision)
    return times, decisions


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def line(name: str, values: list[float]) -> str:
    return (
        f"{name:<26} median {statistics.median(values):8.1f} us   p99 {pct(values, 99):8.1f} us"
        f"   p99.9 {pct(values, 99.9):8.1f} us   max {max(values):8.1f} us"
    )


def best_of(runs: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def database_snapshot_seconds(world: World, rules: list[AgreementRule]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        with transaction(sessions) as session:
            session.execute(
                sqlalchemy.insert(Agency),
                [{"id": a, "name": f"기관 {a:02d}", "kind": "district"} for a in world.agencies],
            )
            session.execute(
                sqlalchemy.insert(Site),
                [
                    {"id": s, "owner_id": o, "lat": la, "lon": lo, "district": world.districts[o]}
                    for s, o, la, lo in world.sites
                ],
            )
            session.execute(
                sqlalchemy.insert(Camera),
                [
                    {
                        "id": c.id,
                        "owner_id": c.owner_agency_id,
                        "site_id": c.site_id,
                        "lat": c.lat,
                        "lon": c.lon,
                        "purpose": c.purpose,
                        "enabled": c.enabled,
                    }
                    for c in world.cameras
                ],
            )
            for rule in rules:
                row = Agreement(
                    id=rule.id,
                    owner_agency_id=rule.terms.owner_agency_id,
                    consumer_agency_id=rule.terms.consumer_agency_id,
                    requested_by_agency_id=rule.terms.owner_agency_id,
                    status=rule.status.value,
                )
                store_terms(row, rule.terms)
                session.add(row)

        def build() -> None:
            with sessions() as session:
                snapshot = build_snapshot(session)
                assert snapshot.agreement_count == sum(
                    r.status is AgreementStatus.ACCEPTED for r in rules
                )

        seconds = best_of(5, build)
        engine.dispose()
        return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cameras", type=int, default=10_000)
    parser.add_argument("--agreements", type=int, default=500)
    parser.add_argument("--agencies", type=int, default=40)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    world = make_world(rng, args.agencies, args.cameras)
    t0 = time.perf_counter()
    rules = make_rules(rng, world, args.agreements)
    check_s = time.perf_counter() - t0
    requests = make_requests(rng, world, rules, args.requests)

    print(
        f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPUs"
    )
    accepted = sum(r.status is AgreementStatus.ACCEPTED for r in rules)
    pairs = {(r.terms.consumer_agency_id, r.terms.owner_agency_id) for r in rules}
    print(
        f"agencies {args.agencies}, cameras {len(world.cameras):,}, sites {len(world.sites):,}, "
        f"agreements {len(rules)} ({accepted} accepted) over {len(pairs)} agency pairs, "
        f"requests {len(requests):,} (seed {args.seed})"
    )
    build_s = best_of(5, lambda: PolicySnapshot.build(rules))
    policy = PolicySnapshot.build(rules)
    db_s = database_snapshot_seconds(world, rules)
    print(f"{'check terms of every agreement':<30} {check_s * 1000:8.1f} ms   (build_terms)")
    print(f"{'PolicySnapshot.build':<30} {build_s * 1000:8.2f} ms   (from checked agreements)")
    print(f"{'build_snapshot from SQLite':<30} {db_s * 1000:8.1f} ms   (read rows, re-check terms)")

    timed(requests[:2000], policy)  # warm-up
    times, decisions = timed(requests, policy)
    naive_times, naive_decisions = timed(requests, naive_snapshot(rules))
    assert decisions == naive_decisions, "the index and the scan disagree"
    allowed = sum(d.allowed for d in decisions)
    by_basis: dict[str, int] = {}
    for d in decisions:
        key = d.basis.value if d.basis else d.code.value
        by_basis[key] = by_basis.get(key, 0) + 1
    print()
    print(line("authorize (indexed)", times))
    print(line("naive scan baseline", naive_times))
    ratio_median = statistics.median(naive_times) / statistics.median(times)
    ratio_p99 = pct(naive_times, 99) / pct(times, 99)
    print(f"{'ratio (median, p99)':<26} x{ratio_median:.1f}, x{ratio_p99:.1f}")
    paired = times[0::2]
    print(line("  agreement-pair requests", paired))
    print(line("  uniform requests", times[1::2]))
    print(
        f"decisions: {allowed:,} allowed; "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(by_basis.items()))
    )
    median, p99 = statistics.median(times), pct(times, 99)
    verdict = "met" if median <= 50 and p99 <= 1000 else "NOT met"
    print(f"\ntargets (median <= 50 us, p99 <= 1 ms): {verdict}")


if __name__ == "__main__":
    main()
