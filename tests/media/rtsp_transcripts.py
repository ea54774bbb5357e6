"""Where the RTSP camera transcripts of shared/ are, read at test time (never copied)."""

from __future__ import annotations

from pathlib import Path

from tests.shared import SHARED_DATA


def transcripts_dir() -> Path:
    return SHARED_DATA / "rtsp-camera-transcripts"


def transcript_files() -> list[Path]:
    base = transcripts_dir()
    return sorted([*base.glob("client/testdata/*"), *base.glob("rtsp/testdata/*")])


def read(name: str) -> bytes:
    base = transcripts_dir()
    for sub in ("client/testdata", "rtsp/testdata"):
        path = base / sub / name
        if path.is_file():
            return path.read_bytes()
    raise FileNotFoundError(name)
