"""The production puller factory: each camera stream pulled over RTSP by a CameraPuller."""

from __future__ import annotations

from collections.abc import Callable

from argus.media.hub import Codec
from argus.media.ingest import CameraPuller, PullState
from argus.media.nal import AccessUnit
from argus.media.streams import StreamSource


def rtsp_puller_factory(
    source: StreamSource,
    on_access_unit: Callable[[AccessUnit, int, float | None], None],
    on_connected: Callable[[Codec], None],
    on_state: Callable[[str, str | None], None],
) -> CameraPuller:
    def state_changed(state: PullState, error: str | None) -> None:
        on_state(state.value, error)

    return CameraPuller(
        source.camera_id,
        source.url,
        username=source.username,
        password=source.password,
        transport=source.transport,
        on_access_unit=on_access_unit,
        on_connected=on_connected,
        on_state=state_changed,
    )
