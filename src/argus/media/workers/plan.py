"""Which worker serves which camera, and where each worker listens."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WorkerPlan:
    """`count` workers on `host`, worker i on `base_port + i`; a camera's streams go to one."""

    count: int
    host: str
    base_port: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("a worker plan needs at least one worker")

    def worker_for(self, camera_id: int) -> int:
        """The worker of a camera: its main and sub streams, live views and HLS all go there."""
        return camera_id % self.count

    def port(self, index: int) -> int:
        return self.base_port + index

    def base_url(self, index: int) -> str:
        return f"http://{self.host}:{self.port(index)}"
