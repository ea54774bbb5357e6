"""Loading a plan's cameras from the registry database (SQLite)."""

from __future__ import annotations

import shutil
from pathlib import Path

from argus.db import make_engine, make_sessionmaker, transaction
from argus.planning import load_cameras, load_owner_names
from argus.registry.models import Agency, Camera, Site


def test_load_cameras(tmp_path: Path, sqlite_template: Path) -> None:
    path = tmp_path / "argus.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        city = Agency(name="광주광역시", kind="city")
        gu = Agency(name="광주광역시 남구", kind="district", district="남구")
        s.add_all([city, gu])
        s.flush()
        site = Site(owner_id=gu.id, lat=35.13, lon=126.90, district="남구")
        other = Site(owner_id=city.id, lat=35.15, lon=126.85, district=None)
        s.add_all([site, other])
        s.flush()
        s.add_all(
            [
                Camera(
                    owner_id=gu.id, site_id=site.id, lat=35.13, lon=126.90, purpose="교통단속",
                    camera_type="ptz", resolution_mp=2.0, range_m=180.0, installed_year=2015,
                ),
                Camera(
                    owner_id=city.id, site_id=other.id, lat=35.15, lon=126.85, purpose="생활방범",
                    camera_type="fixed", azimuth_deg=45.0, fov_deg=90.0,
                ),
                Camera(
                    owner_id=city.id, site_id=other.id, lat=35.15, lon=126.85, purpose="생활방범",
                    enabled=False,
                ),
            ]
        )  # fmt: skip
    with sessions() as s:
        cams = load_cameras(s)
        assert [c.camera_type for c in cams] == ["ptz", "fixed"]
        first, second = cams
        assert (first.owner_id, first.purpose, first.range_m, first.installed_year) == (
            gu.id, "교통단속", 180.0, 2015,
        )  # fmt: skip
        assert first.district == "남구" and second.district is None
        assert (second.azimuth_deg, second.fov_deg) == (45.0, 90.0)
        assert len(load_cameras(s, include_disabled=True)) == 3
        assert [c.owner_id for c in load_cameras(s, owner_ids=[city.id])] == [city.id]
        assert load_owner_names(s) == {city.id: "광주광역시", gu.id: "광주광역시 남구"}
    engine.dispose()
