"""Where the shared public data lives: ../shared/data beside the repository (never copied in)."""

from __future__ import annotations

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
