"""The Gwangju scenario written into the registry: counts, idempotence, stream URLs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from argus.config import Settings
from argus.db import make_sessionmaker, transaction
from argus.registry.models import Agency, Camera, Site
from argus.scenario import plan_gwangju
from argus.scenario.writer import write_plan


@pytest.mark.slow
def test_scenario_lands_once(engine: Engine, settings: Settings, shared_data: Path) -> None:
    plan = plan_gwangju(shared_data, seed=2026)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        first = write_plan(session, plan, settings)
    assert first["created"] == {"agencies": 9, "sites": 2827, "cameras": 8484}
    with transaction(sessions) as session:
        again = write_plan(session, plan, settings)
    assert again["created"] == {"agencies": 0, "sites": 0, "cameras": 0}
    with sessions() as session:
        per_owner = dict(
            session.execute(
                select(Agency.name, func.count(Camera.id))
                .join(Camera, Camera.owner_id == Agency.id)
                .group_by(Agency.name)
            ).all()
        )
        districts = {k: v for k, v in per_owner.items() if k != "광주광역시"}
        assert per_owner["광주광역시"] == 7134
        assert sum(districts.values()) == 1350 and len(districts) == 5
        district_sites = session.scalar(
            select(func.count(func.distinct(Site.id)))
            .join(Agency, Site.owner_id == Agency.id)
            .where(Agency.kind == "district")
        )
        assert district_sites == 348
        synthetic = Counter(session.execute(select(Camera.synthetic, Camera.purpose)).all())
        assert synthetic == {(False, "생활방범"): 7134, (True, "교통단속"): 1350}
        kinds = Counter(session.scalars(select(Agency.kind)))
        assert kinds == {"city": 1, "district": 5, "police": 1, "fire": 1, "disaster": 1}
        without_cameras = session.scalars(
            select(Agency.name).where(Agency.kind.in_(["police", "fire", "disaster"]))
        ).all()
        for name in without_cameras:
            assert name not in per_owner
        for camera_id, url in session.execute(select(Camera.id, Camera.main_stream_url)).all():
            assert url == f"rtsp://127.0.0.1:{settings.simulator_port}/cameras/{camera_id}/main"
