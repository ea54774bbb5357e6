"""Benchmark of argus.registry.spatial.SpatialIndex against a brute-force haversine scan.

    python bench/spatial.py [--n 400000] [--queries 2000] [--baseline-queries 200] [--seed 7]

Points are spread like South Korea's centre-linked cameras: clustered around the centres of
real cities (coordinates of city halls, rounded), in proportion to population, each city made of
neighbourhood clusters, plus a rural tail. Queries sit where incidents happen: near cameras
(80 %) or anywhere in a city (20 %). Everything is seeded.

The baseline is the same query answered by a numpy scan over every point (haversine with the
trigonometry of the points precomputed, then a mask and a sort, or an argpartition for
nearest-k), measured in the same run on the first ``--baseline-queries`` queries; the answers of
both are compared. Targets: within-500 m p99 <= 2 ms, build <= 5 s (400,000 points).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from argus.registry.spatial import EARTH_RADIUS_M, SpatialIndex

FloatArray = npt.NDArray[np.float64]

# (name, lat, lon, population in thousands, roughly 2020)
CITIES: list[tuple[str, float, float, int]] = [
    ("Seoul", 37.5665, 126.9780, 9_600),
    ("Busan", 35.1796, 129.0756, 3_350),
    ("Incheon", 37.4563, 126.7052, 2_950),
    ("Daegu", 35.8714, 128.6014, 2_400),
    ("Daejeon", 36.3504, 127.3845, 1_450),
    ("Gwangju", 35.1595, 126.8526, 1_440),
    ("Suwon", 37.2636, 127.0286, 1_190),
    ("Ulsan", 35.5384, 129.3114, 1_130),
    ("Yongin", 37.2411, 127.1776, 1_080),
    ("Goyang", 37.6584, 126.8320, 1_080),
    ("Changwon", 35.2280, 128.6811, 1_030),
    ("Seongnam", 37.4200, 127.1267, 930),
    ("Hwaseong", 37.1995, 126.8312, 860),
    ("Cheongju", 36.6424, 127.4890, 850),
    ("Bucheon", 37.5034, 126.7660, 820),
    ("Namyangju", 37.6360, 127.2165, 710),
    ("Jeonju", 35.8242, 127.1480, 650),
    ("Cheonan", 36.8151, 127.1139, 650),
    ("Ansan", 37.3219, 126.8309, 650),
    ("Anyang", 37.3943, 126.9568, 550),
    ("Gimhae", 35.2285, 128.8894, 540),
    ("Pohang", 36.0190, 129.3435, 500),
    ("Jeju", 33.4996, 126.5312, 490),
    ("Uijeongbu", 37.7381, 127.0337, 460),
    ("Siheung", 37.3799, 126.8029, 500),
    ("Paju", 37.7600, 126.7800, 450),
    ("Gimpo", 37.6152, 126.7156, 470),
    ("Gumi", 36.1195, 128.3446, 420),
    ("Pyeongtaek", 36.9921, 127.1129, 530),
    ("Jinju", 35.1800, 128.1076, 350),
    ("Wonju", 37.3422, 127.9202, 350),
    ("Asan", 36.7898, 127.0018, 320),
    ("Iksan", 35.9483, 126.9577, 280),
    ("Sejong", 36.4800, 127.2890, 350),
    ("Suncheon", 34.9506, 127.4872, 280),
    ("Chuncheon", 37.8813, 127.7298, 280),
    ("Gyeongsan", 35.8251, 128.7415, 270),
    ("Gunsan", 35.9676, 126.7366, 270),
    ("Yeosu", 34.7604, 127.6622, 280),
    ("Gyeongju", 35.8562, 129.2247, 250),
    ("Mokpo", 34.8118, 126.3922, 230),
    ("Geoje", 34.8806, 128.6211, 240),
    ("Gangneung", 37.7519, 128.8761, 210),
    ("Chungju", 36.9910, 127.9259, 210),
    ("Andong", 36.5684, 128.7294, 160),
    ("Seosan", 36.7848, 126.4503, 170),
    ("Tongyeong", 34.8544, 128.4332, 130),
    ("Jecheon", 37.1326, 128.1910, 130),
    ("Naju", 35.0160, 126.7108, 115),
    ("Sokcho", 38.2070, 128.5918, 80),
]

RURAL_SHARE = 0.08
QUERIES_NEAR_CAMERA = 0.8


def km_to_deg(
    lat: float, d_lat_km: FloatArray, d_lon_km: FloatArray
) -> tuple[FloatArray, FloatArray]:
    return d_lat_km / 111.195, d_lon_km / (111.195 * math.cos(math.radians(lat)))


def korean_points(n: int, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """``n`` (lat, lon) points clustered like Korean street cameras."""
    pops = np.array([c[3] for c in CITIES], dtype=np.float64)
    n_rural = int(n * RURAL_SHARE)
    per_city = rng.multinomial(n - n_rural, pops / pops.sum())
    lats: list[FloatArray] = []
    lons: list[FloatArray] = []
    for (_, lat0, lon0, pop), m in zip(CITIES, per_city, strict=True):
        spread_km = 1.5 + 2.4 * math.sqrt(pop / 1000.0)  # Seoul ~9 km, Sokcho ~2 km
        n_hoods = max(3, int(8 * math.sqrt(pop / 100.0)))  # Seoul ~78 neighbourhoods
        hood_lat, hood_lon = km_to_deg(
            lat0, rng.normal(0, spread_km, n_hoods), rng.normal(0, spread_km, n_hoods)
        )
        hood_w = rng.gamma(2.0, 1.0, n_hoods)
        which = rng.choice(n_hoods, size=m, p=hood_w / hood_w.sum())
        hood_km = rng.uniform(0.4, 1.5, n_hoods)[which]
        d_lat, d_lon = km_to_deg(lat0, rng.normal(0, 1, m) * hood_km, rng.normal(0, 1, m) * hood_km)
        lats.append(lat0 + hood_lat[which] + d_lat)
        lons.append(lon0 + hood_lon[which] + d_lon)
    # rural tail: villages and roads within ~25 km of some city
    home = rng.choice(len(CITIES), size=n_rural, p=pops**0.5 / (pops**0.5).sum())
    lat0s = np.array([CITIES[i][1] for i in home])
    lon0s = np.array([CITIES[i][2] for i in home])
    d_lat, d_lon = km_to_deg(36.0, rng.normal(0, 12, n_rural), rng.normal(0, 12, n_rural))
    lats.append(lat0s + d_lat)
    lons.append(lon0s + d_lon)
    return np.concatenate(lats), np.concatenate(lons)


def query_points(
    n: int, lats: FloatArray, lons: FloatArray, rng: np.random.Generator
) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for _ in range(n):
        if rng.random() < QUERIES_NEAR_CAMERA:
            i = int(rng.integers(len(lats)))
            d_lat, d_lon = km_to_deg(float(lats[i]), rng.normal(0, 0.2, 1), rng.normal(0, 0.2, 1))
            out.append((float(lats[i] + d_lat[0]), float(lons[i] + d_lon[0])))
        else:
            _, lat0, lon0, pop = CITIES[int(rng.integers(len(CITIES)))]
            spread = 1.5 + 2.4 * math.sqrt(pop / 1000.0)
            d_lat, d_lon = km_to_deg(lat0, rng.normal(0, spread, 1), rng.normal(0, spread, 1))
            out.append((lat0 + float(d_lat[0]), lon0 + float(d_lon[0])))
    return out


class BruteForce:
    """The baseline: a vectorised haversine over every point, per query."""

    def __init__(self, ids: npt.NDArray[np.int64], lats: FloatArray, lons: FloatArray) -> None:
        self.ids = ids
        self.phi = np.radians(lats)
        self.lam = np.radians(lons)
        self.cos = np.cos(self.phi)

    def _dist(self, lat: float, lon: float) -> FloatArray:
        phi, lam = math.radians(lat), math.radians(lon)
        a = np.sin((self.phi - phi) * 0.5) ** 2 + math.cos(phi) * self.cos * (
            np.sin((self.lam - lam) * 0.5) ** 2
        )
        d: FloatArray = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
        return d

    def within(self, lat: float, lon: float, radius_m: float) -> list[tuple[int, float]]:
        d = self._dist(lat, lon)
        hit = np.flatnonzero(d <= radius_m)
        order = hit[np.lexsort((self.ids[hit], d[hit]))]
        return list(zip(self.ids[order].tolist(), d[order].tolist(), strict=True))

    def nearest(self, lat: float, lon: float, k: int) -> list[tuple[int, float]]:
        d = self._dist(lat, lon)
        part = np.argpartition(d, k)[: k + 1] if k < len(d) else np.arange(len(d))
        order = part[np.lexsort((self.ids[part], d[part]))][:k]
        return list(zip(self.ids[order].tolist(), d[order].tolist(), strict=True))


def timed(
    fn: Callable[[float, float], list[tuple[int, float]]], queries: list[tuple[float, float]]
) -> tuple[FloatArray, list[list[tuple[int, float]]]]:
    """Per-query wall time in milliseconds, and the answers."""
    times = np.empty(len(queries), dtype=np.float64)
    answers: list[list[tuple[int, float]]] = []
    for j, (lat, lon) in enumerate(queries):
        t0 = time.perf_counter_ns()
        answers.append(fn(lat, lon))
        times[j] = (time.perf_counter_ns() - t0) / 1e6
    return times, answers


def same(a: list[list[tuple[int, float]]], b: list[list[tuple[int, float]]]) -> bool:
    return all(
        [i for i, _ in x] == [i for i, _ in y]
        and np.allclose([d for _, d in x], [d for _, d in y], atol=1e-6)
        for x, y in zip(a, b, strict=False)
    )


def pct(times: FloatArray) -> str:
    return f"p50 {np.percentile(times, 50):8.3f} ms   p99 {np.percentile(times, 99):8.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=400_000, help="points (default 400,000)")
    parser.add_argument("--queries", type=int, default=2_000, help="queries per kind")
    parser.add_argument(
        "--baseline-queries", type=int, default=200, help="of those, how many the scan answers"
    )
    parser.add_argument("--updates", type=int, default=2_000, help="moves before the last test")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    lats, lons = korean_points(args.n, rng)
    ids = np.arange(1, args.n + 1, dtype=np.int64)
    queries = query_points(args.queries, lats, lons, rng)
    n_base = min(args.baseline_queries, args.queries)

    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPUs"
    )
    print(f"points {args.n:,}, queries {args.queries:,} per kind, baseline on {n_base:,}")

    t0 = time.perf_counter()
    index = SpatialIndex.build(ids, lats, lons)
    build_s = time.perf_counter() - t0
    print(f"build                {build_s:8.3f} s   (target <= 5 s)")

    brute = BruteForce(ids, lats, lons)
    for lat, lon in queries[:50]:  # warm caches and allocators
        index.within(lat, lon, 500.0)
        index.nearest(lat, lon, 10)

    print()
    print(f"{'query':<20} {'index':<34} {'brute-force scan':<34} ratio (p50, p99)")
    for name, run_index, run_brute in (
        (
            "within 500 m",
            lambda la, lo: index.within(la, lo, 500.0),
            lambda la, lo: brute.within(la, lo, 500.0),
        ),
        (
            "nearest 10",
            lambda la, lo: index.nearest(la, lo, 10),
            lambda la, lo: brute.nearest(la, lo, 10),
        ),
    ):
        t_idx, a_idx = timed(run_index, queries)
        t_bf, a_bf = timed(run_brute, queries[:n_base])
        ok = same(a_idx[:n_base], a_bf)
        sizes = np.array([len(a) for a in a_idx])
        print(
            f"{name:<20} {pct(t_idx):<34} {pct(t_bf):<34} "
            f"x{np.percentile(t_bf, 50) / np.percentile(t_idx, 50):.0f}, "
            f"x{np.percentile(t_bf, 99) / np.percentile(t_idx, 99):.0f}"
            f"   answers identical: {'yes' if ok else 'NO'}"
        )
        if name.startswith("within"):
            print(
                f"{'':<20} results per query: mean {sizes.mean():.0f}, "
                f"p99 {np.percentile(sizes, 99):.0f}, max {sizes.max()}"
            )

    # Updates: move some points and delete others, then query with the delta pending.
    moved = rng.choice(ids, size=min(args.updates, args.n), replace=False)
    t0 = time.perf_counter()
    for i in moved.tolist():
        j = int(rng.integers(args.n))
        index.upsert(i, float(lats[j]) + rng.normal(0, 0.001), float(lons[j]))
    for i in rng.choice(ids, size=min(args.updates // 4, args.n), replace=False).tolist():
        index.remove(i)
    upd_s = time.perf_counter() - t0
    n_upd = len(moved) + min(args.updates // 4, args.n)
    t_dyn, _ = timed(lambda la, lo: index.within(la, lo, 500.0), queries)
    print()
    print(
        f"after {n_upd:,} updates ({upd_s / n_upd * 1e6:.1f} us each incl. "
        f"{index.rebuilds} rebuilds; {index.pending:,} pending):"
    )
    print(f"{'within 500 m':<20} {pct(t_dyn)}")
    t0 = time.perf_counter()
    index.rebuild()
    print(f"{'rebuild':<20} {time.perf_counter() - t0:8.3f} s")

    p99 = float(np.percentile(timed(lambda la, lo: index.within(la, lo, 500.0), queries)[0], 99))
    verdict = "met" if p99 <= 2.0 and build_s <= 5.0 else "NOT met"
    print(f"\ntargets (within-500 m p99 <= 2 ms, build <= 5 s): {verdict}")


if __name__ == "__main__":
    main()
