"""The API process's side of the media workers: start them, restart them, tell them, ask them.

Each worker is a child process (`argus media-worker`) with its own uvloop event loop, serving
its share of the cameras (WorkerPlan) on its own port. The pool restarts a worker that exits,
with a growing delay; forwards every revocation to every worker at once (a worker refuses the
revoked tokens from then on and closes their views); gives a restarted worker the revocations
still in force; and gathers the workers' stream states for the API and /metrics.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from argus.config import Settings
from argus.events import EventBus
from argus.media.front import Endpoint, endpoint_at
from argus.media.revocations import RevocationFeed
from argus.media.workers.internal import KEY_HEADER
from argus.media.workers.plan import WorkerPlan
from argus.sharing.live_grants import GrantsRevoked, LiveGrants

log = logging.getLogger(__name__)
SETTINGS_ENV = "ARGUS_WORKER_SETTINGS"
READY_TIMEOUT = 30.0


class WorkerProcess:
    """One worker: its child process and its restarts."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.ready = asyncio.Event()
        self.last_exit: int | None = None


class WorkerPool:
    """Starts `plan.count` media workers and speaks for them in the API process."""

    def __init__(
        self,
        settings: Settings,
        plan: WorkerPlan,
        key: str,
        bus: EventBus,
        grants: LiveGrants,
        *,
        command: Callable[[int, int], list[str]] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.plan = plan
        self.key = key
        self.grants = grants
        self.clock = clock
        self._command = command or _default_command
        self.workers = [WorkerProcess(i) for i in range(plan.count)]
        self._tasks: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None
        self._stopping = False
        self._feed = RevocationFeed(bus, self._forward_soon)
        self.forwarded = 0

    async def start(self) -> None:
        self._feed.attach(asyncio.get_running_loop())
        self._client = httpx.AsyncClient(headers={KEY_HEADER: self.key}, timeout=2.0)
        for worker in self.workers:
            self._tasks.append(
                asyncio.create_task(self._keep(worker), name=f"media worker {worker.index}")
            )

    async def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        await asyncio.wait_for(
            asyncio.gather(*(w.ready.wait() for w in self.workers)), timeout=timeout
        )

    async def stop(self) -> None:
        self._stopping = True
        self._feed.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for worker in self.workers:
            await _terminate(worker.process)
        if self._client is not None:
            await self._client.aclose()

    # --- what the API asks -------------------------------------------------------------------

    async def streams(self) -> list[dict[str, Any]]:
        """Every worker's pulled streams (a worker that does not answer is left out)."""
        results = await asyncio.gather(
            *(self._get(w.index, "/internal/streams") for w in self.workers),
            return_exceptions=True,
        )
        rows: list[dict[str, Any]] = []
        for index, result in enumerate(results):
            if isinstance(result, list):
                rows += [{**row, "worker": index} for row in result]
            else:
                log.warning("media worker %s did not answer: %s", index, result)
        return sorted(rows, key=lambda r: (r.get("camera_id", 0), r.get("stream", "")))

    def endpoint(self, camera_id: int, host: str, port: int, secure: bool) -> Endpoint:
        index = self.plan.worker_for(camera_id)
        rtsp = self.settings.media_rtsp_port
        rtsp_port = None if not rtsp else rtsp + index
        return endpoint_at(camera_id, index, host, self.plan.port(index), secure, rtsp_port)

    # --- revocations -------------------------------------------------------------------------

    def _forward_soon(self, event: GrantsRevoked) -> None:
        known = self.grants.revoked(self.clock())
        fallback = int(self.clock().timestamp()) + 3600
        body = {
            "revoked": {jti: known.get(jti, fallback) for jti in event.jtis},
            "cameras": list(event.cameras),
            "cause": event.cause,
            "reason": event.reason,
        }
        for worker in self.workers:
            task = asyncio.get_running_loop().create_task(self._post_revoked(worker.index, body))
            self._tasks.append(task)
            task.add_done_callback(self._tasks_done)

    def _tasks_done(self, task: asyncio.Task[None]) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    async def _post_revoked(self, index: int, body: dict[str, Any]) -> None:
        assert self._client is not None
        for attempt in range(3):
            try:
                response = await self._client.post(
                    f"{self.plan.base_url(index)}/internal/revoked", json=body
                )
                response.raise_for_status()
                self.forwarded += 1
                return
            except httpx.HTTPError as exc:
                log.warning("telling media worker %s of a revocation failed: %s", index, exc)
                await asyncio.sleep(0.2 * (attempt + 1))
        # a worker that cannot be told is restarted: it then gets every revocation in force
        await _terminate(self.workers[index].process)

    # --- keeping workers up ------------------------------------------------------------------

    async def _keep(self, worker: WorkerProcess) -> None:
        delay = 1.0
        while not self._stopping:
            worker.ready.clear()
            worker.starts += 1
            env = {**os.environ, SETTINGS_ENV: self.settings.model_dump_json()}
            env["ARGUS_WORKER_KEY"] = self.key
            worker.process = await asyncio.create_subprocess_exec(
                *self._command(worker.index, self.plan.count), env=env
            )
            try:
                await self._become_ready(worker)
                delay = 1.0
            except (TimeoutError, httpx.HTTPError, OSError) as exc:
                log.error("media worker %s did not start: %s", worker.index, exc)
                await _terminate(worker.process)
            code = await worker.process.wait()
            worker.last_exit = code
            worker.ready.clear()
            if self._stopping:
                return
            log.error(
                "media worker %s exited with %s; restarting in %.0f s", worker.index, code, delay
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def _become_ready(self, worker: WorkerProcess) -> None:
        """Wait until the worker answers, then give it the revocations in force."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        while True:
            if worker.process is not None and worker.process.returncode is not None:
                raise OSError(f"it exited with {worker.process.returncode}")
            try:
                await self._get(worker.index, "/internal/health")
                break
            except httpx.HTTPError:
                if loop.time() > deadline:
                    raise TimeoutError("no answer in 30 s") from None
                await asyncio.sleep(0.1)
        assert self._client is not None
        revoked = self.grants.revoked(self.clock())
        response = await self._client.post(
            f"{self.plan.base_url(worker.index)}/internal/revoked",
            json={"revoked": revoked, "cause": "sync"},
        )
        response.raise_for_status()
        worker.ready.set()

    async def _get(self, index: int, path: str) -> Any:
        assert self._client is not None
        response = await self._client.get(f"{self.plan.base_url(index)}{path}", timeout=1.0)
        response.raise_for_status()
        return json.loads(response.content)


def _default_command(index: int, count: int) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from argus.cli import main; main()",
        "media-worker",
        "--index",
        str(index),
        "--count",
        str(count),
    ]


async def _terminate(process: asyncio.subprocess.Process | None) -> None:
    if process is None or process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 5)
    except TimeoutError:
        process.kill()
        await process.wait()
