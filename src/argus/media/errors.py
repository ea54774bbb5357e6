"""The error raised for RTP and codec-payload bytes that cannot be read."""

from __future__ import annotations

from argus.errors import ArgusError


class RtpError(ArgusError):
    """An RTP packet, RTCP report or H.264/H.265 payload that is malformed; the message says how."""

    code = "bad_rtp"
