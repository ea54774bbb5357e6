"""A small RTP packetizer for tests, written from RFC 6184 and RFC 7798 independently of the
depacketizers it checks: AUs (lists of NAL units) in, RTP packets (bytes) out."""

from __future__ import annotations

import struct

from argus.media.nal import BitReader, remove_emulation_prevention, split_annexb

SSRC = 0x1234ABCD


def rtp_header(seq: int, ts: int, marker: bool, pt: int = 96) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts, SSRC)


def _sps_fields(sps: bytes) -> tuple[int, int, int]:
    """(log2_max_frame_num, pic_order_cnt_type, log2_max_poc_lsb) of a Baseline/Main SPS."""
    r = BitReader(remove_emulation_prevention(sps[1:]))
    profile = r.u(8)
    r.u(16)
    r.ue()
    assert profile in (66, 77, 88), "test helper reads Baseline/Main/Extended SPS only"
    frame_bits = r.ue() + 4
    poc_type = r.ue()
    poc_bits = r.ue() + 4 if poc_type == 0 else 0
    return frame_bits, poc_type, poc_bits


def split_h264_access_units(stream: bytes) -> list[list[bytes]]:
    """Annex-B H.264 to access units (H.264 7.4.1.2.4: a new picture starts where the slice
    header's frame_num, IDR-ness, idr_pic_id, POC LSB or reference-ness changes, or where
    an AUD/SEI/SPS/PPS follows a picture's slices)."""
    aus: list[list[bytes]] = []
    current: list[bytes] = []
    previous: tuple[int, ...] | None = None
    fields = (4, 2, 0)
    for nal in split_annexb(stream):
        kind = nal[0] & 0x1F
        if kind == 7:
            fields = _sps_fields(nal)
        if kind in (1, 5):
            r = BitReader(remove_emulation_prevention(nal[1:40]))
            r.ue()
            r.ue()
            r.ue()
            frame_num = r.u(fields[0])
            idr_id = r.ue() if kind == 5 else -1
            poc = r.u(fields[2]) if fields[1] == 0 else -1
            key = (frame_num, kind, idr_id, poc, nal[0] & 0x60 == 0)
            if previous is not None and key != previous:
                aus.append(current)
                current = []
            previous = key
        elif previous is not None and kind in (6, 7, 8, 9):
            aus.append(current)
            current, previous = [], None
        current.append(nal)
    if current:
        aus.append(current)
    return aus


def _payloads(
    nals: list[bytes], mtu: int, header_len: int, aggregate: int, fragment: int
) -> list[bytes]:
    """Payloads for one AU: NALs longer than `mtu` are fragmented, small neighbours aggregated."""
    out: list[bytes] = []
    pending: list[bytes] = []

    def flush() -> None:
        if len(pending) == 1:
            out.append(pending[0])
        elif pending:
            if header_len == 1:
                nri = max(n[0] & 0x60 for n in pending)
                head = bytes([nri | aggregate])
            else:
                layer_tid = min(((n[0] & 1) << 9 | n[1]) for n in pending)
                tid = min(n[1] & 7 for n in pending)
                head = bytes([(aggregate << 1) | (layer_tid >> 8 & 1), (layer_tid & 0xF8) | tid])
            out.append(head + b"".join(struct.pack("!H", len(n)) + n for n in pending))
        pending.clear()

    for nal in nals:
        if len(nal) > mtu:
            flush()
            body = nal[header_len:]
            chunk = mtu - header_len - 1
            pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)]
            for i, piece in enumerate(pieces):
                bits = (0x80 if i == 0 else 0) | (0x40 if i == len(pieces) - 1 else 0)
                if header_len == 1:
                    head = bytes([(nal[0] & 0xE0) | fragment, bits | (nal[0] & 0x1F)])
                else:
                    kind = (nal[0] >> 1) & 0x3F
                    head = bytes([(nal[0] & 0x81) | (fragment << 1), nal[1], bits | kind])
                out.append(head + piece)
            continue
        size = header_len + sum(2 + len(n) for n in pending) + 2 + len(nal)
        if pending and size > mtu:
            flush()
        pending.append(nal)
    flush()
    return out


def packetize(
    aus: list[list[bytes]],
    *,
    mtu: int,
    h265: bool = False,
    first_seq: int = 0,
    ts_step: int = 3600,
    marker: bool = True,
) -> tuple[list[bytes], list[int]]:
    """RTP packets for the AUs, and for each packet the index of the AU it belongs to."""
    packets: list[bytes] = []
    owners: list[int] = []
    seq = first_seq
    for index, nals in enumerate(aus):
        payloads = _payloads(nals, mtu, 2, 48, 49) if h265 else _payloads(nals, mtu, 1, 24, 28)
        ts = (1000 + index * ts_step) & 0xFFFFFFFF
        for i, payload in enumerate(payloads):
            last = marker and i == len(payloads) - 1
            packets.append(rtp_header(seq, ts, last) + payload)
            owners.append(index)
            seq += 1
    return packets, owners
