"""Tables of PTZ: the owner's tours of each camera (an enforcement tour and an idle patrol).

A camera has at most one tour of each kind. ``stops`` is the ordered list of presets with their
dwell times; ``revisit_delay_s`` is set for enforcement tours only (300–600 s, see
``argus.ptz.tours``). Like recording plans, tours carry no foreign key to the camera.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from argus.db import Base, utcnow

TOUR_KINDS = ("enforcement", "patrol")


class PtzTour(Base):
    __tablename__ = "ptz_tours"

    camera_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    # [{"preset": "1", "dwell_s": 20}, …] in tour order
    stops: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    revisit_delay_s: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("kind in ('enforcement','patrol')", name="tour_kind"),
        CheckConstraint(
            "(kind = 'patrol' and revisit_delay_s is null) or "
            "(kind = 'enforcement' and revisit_delay_s between 300 and 600)",
            name="tour_revisit",
        ),
    )
