"""The one error raised for RTSP, SDP or authentication data that cannot be used."""

from __future__ import annotations

from argus.errors import ArgusError


class RtspError(ArgusError):
    """A camera or peer sent RTSP, SDP or auth data we cannot use; the message says why."""

    code = "rtsp_error"
