"""Helpers shared by the media benchmarks: processes, CPU and memory of a process, fMP4 stamps."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from argus.media.sei import Stamp, read_stamp_annexb

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def pss_bytes(pid: int) -> int:
    """Proportional set size: the process's fair share of the memory it maps."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_percent(pids: list[int], seconds: float) -> float:
    """% of one core the processes used together over the next `seconds`."""
    before = {pid: cpu_seconds(pid) for pid in pids}
    start = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - start
    return sum(cpu_seconds(pid) - before[pid] for pid in pids) / elapsed * 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn_ready(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start a child that prints "ready" on its first line once it serves."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != "ready":
        proc.kill()
        raise RuntimeError(f"{args[:4]} did not start: {line!r}")
    return proc


def fragment_stamps(message: bytes) -> list[Stamp]:
    """The stamp SEI of every sample in a message of fMP4 fragments (moof + mdat pairs)."""
    stamps: list[Stamp] = []
    at = 0
    sizes: list[int] = []
    while at + 8 <= len(message):
        size = int.from_bytes(message[at : at + 4], "big")
        kind = message[at + 4 : at + 8]
        if size < 8:
            break
        if kind == b"moof":
            sizes = _trun_sizes(message[at : at + size])
        elif kind == b"mdat":
            pos = at + 8
            for sample_size in sizes:
                stamp = read_stamp_annexb("h264", message[pos : pos + sample_size])
                if stamp is not None:
                    stamps.append(stamp)
                pos += sample_size
        at += size
    return stamps


def _trun_sizes(moof: bytes) -> list[int]:
    """Sample sizes from the trun box of a moof (our writer always writes sizes)."""
    at = moof.find(b"trun")
    if at < 0:
        return []
    flags = int.from_bytes(moof[at + 5 : at + 8], "big")
    count = int.from_bytes(moof[at + 8 : at + 12], "big")
    pos = at + 12
    if flags & 0x1:
        pos += 4
    if flags & 0x4:
        pos += 4
    per = sum(4 for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit)
    sizes = []
    for _ in range(count):
        entry = pos
        if flags & 0x100:
            entry += 4
        sizes.append(int.from_bytes(moof[entry : entry + 4], "big") if flags & 0x200 else 0)
        pos += per
    return sizes
