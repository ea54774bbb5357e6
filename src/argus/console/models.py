"""The console's own table: each user's video wall, as they left it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from argus.db import Base, utcnow


class WallLayout(Base):
    """One user's wall: its size, the camera of each tile, the purpose, a sequence."""

    __tablename__ = "console_walls"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    # {"size": 4, "tiles": [12, null, …], "purpose": "crime_prevention",
    #  "sequence": {"tile": 0, "cameras": [1, 2], "seconds": 10} | null}
    layout: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
