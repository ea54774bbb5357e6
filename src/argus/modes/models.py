"""Tables of camera modes: one schedule per camera (a camera without one has no mode).

``windows`` holds ``[{"start": "07:00", "end": "22:00", "days": null, "mode": "enforcement"}]``
(local times in ``timezone``); ``otherwise`` is the mode outside them. Like recording plans,
schedules carry no foreign key to the camera.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from argus.db import Base, utcnow


class CameraModeSchedule(Base):
    __tablename__ = "camera_mode_schedules"

    camera_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    windows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    otherwise: Mapped[str] = mapped_column(String(20), default="crime_prevention")
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Seoul")
    updated_by: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("otherwise in ('enforcement','crime_prevention')", name="mode_otherwise"),
    )
