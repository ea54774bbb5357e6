"""Prometheus metrics of the media plane, read from the pulls' counters at scrape time.

Nothing is counted twice: ingest keeps its own counters (cheap integer additions on the hot
path) and this collector turns a snapshot of them into metric families when /metrics is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

Rows = list[dict[str, Any]]

# (snapshot key, metric name, help, counter?)
_FIELDS: tuple[tuple[str, str, str, bool], ...] = (
    ("bytes", "argus_camera_received_bytes", "Bytes received from the camera", True),
    ("packets", "argus_camera_rtp_packets", "RTP packets received", True),
    ("lost_packets", "argus_camera_lost_packets", "RTP packets lost (sequence gaps)", True),
    ("malformed_packets", "argus_camera_malformed_packets", "RTP packets not understood", True),
    ("access_units", "argus_camera_frames", "Frames (access units) received whole", True),
    ("keyframes", "argus_camera_keyframes", "Keyframes received", True),
    ("reconnects", "argus_camera_reconnects", "Reconnections after a failure", True),
    ("bitrate_bps", "argus_camera_bitrate_bits_per_second", "Recent bitrate", False),
    ("fps", "argus_camera_frames_per_second", "Recent frame rate", False),
    ("viewers", "argus_camera_viewers", "Live viewers of the stream", False),
    ("ring_bytes", "argus_camera_ring_bytes", "Bytes held in the stream's ring", False),
    ("subscriber_skips", "argus_camera_viewer_skips", "Times a slow viewer skipped ahead", True),
    ("subscribers_dropped", "argus_camera_viewers_dropped", "Viewers closed as too slow", True),
)


class MediaCollector(Collector):
    """One sample per pulled camera stream, labelled by camera and stream."""

    def __init__(self, rows: Rows) -> None:
        self._rows = rows

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        rows = self._rows
        labels = ["camera", "stream"]
        streaming = GaugeMetricFamily(
            "argus_camera_streaming", "1 while the camera stream is delivering video", labels=labels
        )
        pulled = GaugeMetricFamily("argus_camera_streams_pulled", "Camera streams pulled now")
        pulled.add_metric([], len(rows))
        families: list[CounterMetricFamily | GaugeMetricFamily] = []
        for key, name, text, counter in _FIELDS:
            family: CounterMetricFamily | GaugeMetricFamily = (
                CounterMetricFamily(name, text, labels=labels)
                if counter
                else GaugeMetricFamily(name, text, labels=labels)
            )
            for row in rows:
                value = row.get(key)
                if isinstance(value, (int, float)):
                    family.add_metric(_labels(row), float(value))
            families.append(family)
        for row in rows:
            streaming.add_metric(_labels(row), 1.0 if row.get("state") == "streaming" else 0.0)
        yield pulled
        yield streaming
        yield from families


def _labels(row: dict[str, Any]) -> list[str]:
    return [str(row.get("camera_id")), str(row.get("stream"))]


def render(rows: Rows) -> bytes:
    """The Prometheus text exposition of the media plane's pulled streams."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(MediaCollector(rows))
    return generate_latest(registry)
