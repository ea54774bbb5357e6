"""Benchmark: recording many RTSP cameras (issue #5) beside ffmpeg's segment muxer.

    python bench/recording.py [--counts 500] [--workers 2] [--seconds 20] [--warmup 8]
                              [--ffmpeg 40]

What runs, all on 127.0.0.1 in this one run (as bench/ingest.py, whose children it mirrors):
- the camera simulator (argus.media.simulator) in its own process: H.264 1280x720, 1 Mbit/s,
  15 fps, a keyframe every 2 s, over RTSP/TCP-interleaved;
- Argus "ingest only": --workers processes (uvloop each), cameras sharded by id, every camera
  pulled always-on by the production CameraPuller into a StreamHub;
- Argus "ingest + record": the same worker processes, each also running the production
  RecordingService against one SQLite database (migrated as `argus db upgrade` does) with a
  continuous recording plan for every camera: one CameraRecorder (a hub subscriber) per camera
  and one DiskWriter thread per process (write, syncfs every second, then one index commit),
  default settings (60 s segments, parts of at most 1 s). Both modes import the same modules,
  so the difference is what the recorders cost while they run, not the size of the code;
- the baseline most NVRs use: one `ffmpeg -rtsp_transport tcp -i URL -c copy -f segment` process
  per camera writing fragmented MP4 segments of 60 s (fragments at keyframes and at most 1 s,
  as Argus writes), for --ffmpeg cameras (one process per camera for all of them would need
  too much memory), per stream figures. ffmpeg never fsyncs; Argus makes its bytes durable
  every second.

Writes go to a folder under /var/tmp (the real disk, not a tmpfs), removed afterwards. After the
recording run `argus check` (deep: every fragment parsed, every closed segment's SHA-256 compared)
verifies the index against the files.

CPU is % of one core over the measured window (from /proc/PID/stat, all threads of the process;
the kernel's own writeback threads are not in it: "machine" is the whole machine's busy time
from /proc/stat in the same window, with whatever else runs on it; "kthreads" the kernel's own
threads -- writeback, the ext4 journal, kworkers -- whoever caused their work), memory is PSS
(/proc/PID/smaps_rollup), "written" is how much the segment files grew in the window.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from mediabench import TICKS, cpu_seconds, pss_bytes

EXPECTED_BPS = 1_000_000  # the simulator's main stream: 1 Mbit/s
FPS = 15
MIB = 1024 * 1024
SCRATCH_PARENT = Path("/var/tmp")  # on the disk; /tmp may be a tmpfs on other machines

# --- child: the simulator ----------------------------------------------------------------------


async def run_simulator(port: int, cache: Path) -> None:
    from argus.media.simulator import Simulator

    async with Simulator(host="127.0.0.1", port=port, cache_dir=cache, label=False) as sim:
        await sim.prepare([1], ["main"])
        print("ready", flush=True)
        await asyncio.Event().wait()


# --- child: Argus ingest, with or without recording --------------------------------------------


async def run_worker(port: int, ids: list[int], seconds: float, data_dir: str | None) -> None:
    """Pull `ids` always-on; with a data folder, also record them with the RecordingService."""
    from argus.config import Settings
    from argus.db import make_engine, make_sessionmaker
    from argus.media.pulling import rtsp_puller_factory
    from argus.media.streams import StreamManager, StreamName, StreamSource
    from argus.recording.recorder import CameraRecorder
    from argus.recording.service import RecordingService

    async def lookup(camera_id: int, stream: StreamName) -> StreamSource:
        url = f"rtsp://127.0.0.1:{port}/cameras/{camera_id}/{stream}"
        return StreamSource(camera_id, stream, url)

    manager = StreamManager(lookup, rtsp_puller_factory, always_on=[(i, "main") for i in ids])
    began = time.monotonic()
    await manager.start_always_on()
    recording: RecordingService | None = None
    recorders: list[CameraRecorder] = []
    if data_dir is not None:
        settings = Settings(data_dir=Path(data_dir))
        sessions = make_sessionmaker(make_engine(settings.db_url))
        mine = set(ids)
        recording = RecordingService(settings, sessions, manager, lambda c: c in mine)
        await recording.start()
        # the plan loop's first refresh starts the recorders; wait for all of them
        deadline = time.monotonic() + 30
        while len(recording._running) < len(ids) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        recorders = [r.recorder for r in recording._running.values()]
    print("ready", flush=True)
    peak_queued = 0
    series: list[float] = []  # the disk queue every 2 s, MiB
    end = time.monotonic() + seconds
    next_sample = time.monotonic()
    while time.monotonic() < end:
        await asyncio.sleep(min(0.25, max(0.0, end - time.monotonic())))
        if recording is not None:
            queued = recording.disk.stats.queued_bytes
            peak_queued = max(peak_queued, queued)
            if time.monotonic() >= next_sample:
                series.append(round(queued / 1024 / 1024, 1))
                next_sample += 2.0
    rows = manager.snapshot()
    elapsed = time.monotonic() - began
    totals: dict[str, Any] = {
        "expected_frames": len(ids) * FPS * elapsed,
        "cameras": len(rows),
        "streaming": sum(r.get("state") == "streaming" for r in rows),
        "lost_packets": sum(r.get("lost_packets", 0) for r in rows),
        "malformed": sum(r.get("malformed_packets", 0) for r in rows),
        "reconnects": sum(r.get("reconnects", 0) for r in rows),
        "frames": sum(r.get("hub_frames", 0) for r in rows),
        "pulled_bytes": sum(r.get("bytes", 0) for r in rows),
        "subscriber_skips": sum(r.get("subscriber_skips", 0) for r in rows),
        "subscribers_dropped": sum(r.get("subscribers_dropped", 0) for r in rows),
    }
    if recording is not None:
        totals["recorders"] = len(recorders)
        totals["disk_queued_at_end"] = recording.disk.stats.queued_bytes
        # time the two halves of the stop: the recorders (all at once), then the disk
        disk = recording.disk
        disk_stop = disk.stop
        disk_began = [0.0]

        def timed_stop(timeout: float = 30.0) -> bool:
            disk_began[0] = time.monotonic()
            return disk_stop(timeout)

        disk.stop = timed_stop  # type: ignore[method-assign]
        stopping = time.monotonic()
        await recording.stop()  # closes every open segment, then the disk thread's last commit
        stopped = time.monotonic()
        totals["stop_recorders_seconds"] = disk_began[0] - stopping
        totals["stop_disk_seconds"] = stopped - disk_began[0]
        totals["disk_thread_alive_after_stop"] = sum(
            t.name == "recording disk" and t.is_alive() for t in threading.enumerate()
        )
        # what was pulled while the recorders ran (they record until each one is stopped)
        totals["pulled_bytes_at_stop"] = sum(r.get("bytes", 0) for r in manager.snapshot())
        states: Counter[str] = Counter(r.stats.state for r in recorders)
        for name in ("segments", "parts", "frames", "bytes", "dropped_parts", "breaks", "failures"):
            totals[f"rec_{name}"] = sum(getattr(r.stats, name) for r in recorders)
        totals["rec_states"] = dict(states)
        written = disk.stats
        totals.update(
            {
                "disk_parts": written.parts,
                "disk_bytes": written.bytes,
                "disk_syncs": written.syncs,
                "disk_commits": written.commits,
                "disk_refused_parts": written.refused_parts,
                "disk_write_errors": written.write_errors,
                "disk_peak_queued": peak_queued,
                "disk_queue_mib": [series],
            }
        )
    print(json.dumps(totals), flush=True)
    await manager.close()


# --- parent: measuring -------------------------------------------------------------------------


def spawn(*args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != "ready":
        proc.kill()
        raise RuntimeError(f"child {args[:1]} did not start: {line!r}")
    return proc


def machine_ticks() -> tuple[int, int, int]:
    """(busy, iowait, total) jiffies of all CPUs so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal
    return total - idle - iowait, iowait, total


def block_writes(pid: int) -> int:
    """Bytes the process caused to be written to storage (/proc/PID/io write_bytes)."""
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def kernel_thread_seconds() -> float:
    """CPU time so far of the kernel's own threads (writeback, journal, kworkers: children of
    kthreadd), which /proc/PID/stat of the writing processes does not include."""
    total = 0.0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == "2":  # parent is kthreadd
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def tree_bytes(root: Path) -> tuple[int, int]:
    """(files, bytes) of the .mp4 files under a folder."""
    files = size = 0
    for folder, _dirs, names in os.walk(root):
        for name in names:
            if name.endswith(".mp4"):
                try:
                    size += os.stat(os.path.join(folder, name)).st_size
                except FileNotFoundError:
                    continue
                files += 1
    return files, size


@dataclass
class Window:
    """What a group of processes used over the measured window."""

    seconds: float
    cpu: float  # % of one core, the processes together
    pss: int  # bytes, at the end of the window
    written: int  # bytes the files under the watched folder grew by
    block_written: int  # bytes the processes sent to storage (page cache writeback included)
    simulator_cpu: float
    kernel_threads_cpu: float  # % of one core
    machine_cpu: float  # % of one core, the whole machine
    machine_iowait: float  # % of one core


def measure(pids: list[int], sim: int, watch: Path | None, seconds: float) -> Window:
    everyone = [*pids, sim]
    before = {pid: cpu_seconds(pid) for pid in everyone}
    io_before = sum(block_writes(pid) for pid in pids)
    written_before = tree_bytes(watch)[1] if watch is not None else 0
    busy0, wait0, total0 = machine_ticks()
    kernel0 = kernel_thread_seconds()
    start = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - start
    after = {pid: cpu_seconds(pid) for pid in everyone}
    busy1, wait1, total1 = machine_ticks()
    kernel1 = kernel_thread_seconds()
    written_after = tree_bytes(watch)[1] if watch is not None else 0
    io_after = sum(block_writes(pid) for pid in pids)
    cores = (os.cpu_count() or 1) * 100
    span = max(1, total1 - total0)
    return Window(
        seconds=elapsed,
        cpu=sum(after[p] - before[p] for p in pids) / elapsed * 100,
        pss=sum(pss_bytes(pid) for pid in pids),
        written=written_after - written_before,
        block_written=io_after - io_before,
        simulator_cpu=(after[sim] - before[sim]) / elapsed * 100,
        kernel_threads_cpu=(kernel1 - kernel0) / elapsed * 100,
        machine_cpu=(busy1 - busy0) / span * cores,
        machine_iowait=(wait1 - wait0) / span * cores,
    )


@dataclass
class Result:
    name: str
    cameras: int  # cameras measured (alive processes for ffmpeg)
    window: Window
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cpu_per_camera(self) -> float:
        return self.window.cpu / max(1, self.cameras)

    @property
    def pss_per_camera(self) -> float:
        """MiB"""
        return self.window.pss / max(1, self.cameras) / MIB

    @property
    def written_per_camera(self) -> float:
        """bytes per second"""
        return self.window.written / self.window.seconds / max(1, self.cameras)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cameras": self.cameras,
            **asdict(self.window),
            "cpu_per_camera": self.cpu_per_camera,
            "pss_mib_per_camera": self.pss_per_camera,
            "written_bps_per_camera": self.written_per_camera * 8,
            **self.extra,
        }


# --- parent: Argus -----------------------------------------------------------------------------


def prepare_database(data_dir: Path, count: int) -> None:
    """A migrated SQLite database with a continuous recording plan for every camera."""
    from argus.config import Settings
    from argus.db import make_engine, transaction, upgrade
    from argus.db import make_sessionmaker as sessions_of
    from argus.recording.models import RecordingPlan

    engine = make_engine(Settings(data_dir=data_dir).db_url)
    try:
        upgrade(engine)
        with transaction(sessions_of(engine)) as session:
            for camera_id in range(1, count + 1):
                session.add(RecordingPlan(camera_id=camera_id, mode="continuous", stream="main"))
    finally:
        engine.dispose()


def verify_recording(data_dir: Path) -> dict[str, Any]:
    """The segment index after the run and what `argus check --deep` says of it."""
    from sqlalchemy import func, select

    from argus.config import Settings
    from argus.db import make_engine, make_sessionmaker
    from argus.recording.check import check
    from argus.recording.models import Segment
    from argus.recording.volumes import volumes_of

    settings = Settings(data_dir=data_dir)
    engine = make_engine(settings.db_url)
    try:
        sessions = make_sessionmaker(engine)
        with sessions() as session:
            states = dict(
                session.execute(select(Segment.state, func.count()).group_by(Segment.state)).all()
            )
            indexed_bytes, indexed_frames, cameras = session.execute(
                select(
                    func.coalesce(func.sum(Segment.bytes), 0),
                    func.coalesce(func.sum(Segment.frames), 0),
                    func.count(func.distinct(Segment.camera_id)),
                )
            ).one()
        began = time.monotonic()
        report = check(sessions, volumes_of(settings), deep=True)
        took = time.monotonic() - began
    finally:
        engine.dispose()
    kinds = Counter(p.kind for p in report.problems)
    return {
        "index_rows": sum(states.values()),
        "index_states": {str(k): int(v) for k, v in states.items()},
        "index_cameras": int(cameras),
        "index_bytes": int(indexed_bytes),
        "index_frames": int(indexed_frames),
        "check_ok": report.ok,
        "check_segments": report.segments,
        "check_files": report.files,
        "check_problems": dict(kinds),
        "check_first_problems": [p.message for p in report.problems[:5]],
        "check_seconds": took,
    }


def bench_argus(
    port: int,
    count: int,
    workers: int,
    warmup: float,
    seconds: float,
    sim: int,
    data_dir: Path | None,
) -> Result:
    ids = list(range(1, count + 1))
    shards = [[i for i in ids if i % workers == w] for w in range(workers)]
    lifetime = str(warmup + seconds + 2)
    mode = [str(data_dir)] if data_dir is not None else []
    procs = [
        spawn("--worker", str(port), ",".join(map(str, shard)), lifetime, *mode)
        for shard in shards
        if shard
    ]
    try:
        time.sleep(warmup)
        watch = data_dir / "recordings" if data_dir is not None else None
        window = measure([p.pid for p in procs], sim, watch, seconds)
        results = []
        for proc in procs:
            assert proc.stdout is not None
            results.append(json.loads(proc.stdout.readline()))
            proc.wait(120)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    total: dict[str, Any] = {}
    for r in results:
        for key, value in r.items():
            if isinstance(value, list):
                total[key] = total.get(key, []) + value
            elif key.startswith("stop_") or key == "disk_peak_queued":
                total[key] = max(total.get(key, 0), value)
            elif isinstance(value, dict):
                merged: Counter[str] = Counter(total.get(key, {}))
                merged.update(value)
                total[key] = dict(merged)
            else:
                total[key] = total.get(key, 0) + value
    total["frames_ratio"] = total["frames"] / total.pop("expected_frames")
    name = "argus ingest + record" if data_dir is not None else "argus ingest only"
    if data_dir is not None:
        total.update(verify_recording(data_dir))
    return Result(name, count, window, total)


# --- parent: ffmpeg ----------------------------------------------------------------------------


def ffmpeg_command(url: str, folder: Path) -> list[str]:
    return [
        "ffmpeg",
        "-nostdin",
        "-loglevel",
        "error",
        "-rtsp_transport",
        "tcp",
        "-i",
        url,
        "-c",
        "copy",
        "-f",
        "segment",
        "-segment_time",
        "60",
        "-segment_format",
        "mp4",
        "-segment_format_options",
        "movflags=+frag_keyframe+empty_moov+default_base_moof:frag_duration=1000000",
        "-reset_timestamps",
        "1",
        str(folder / "%05d.mp4"),
    ]


def probe(path: Path) -> str:
    """What ffprobe reads in one of ffmpeg's files: its brands, fragments and video frames."""
    if not path.is_file():
        return f"{path.name} missing"
    data = path.read_bytes()
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-count_packets",
            "-show_entries",
            "stream=codec_name,nb_read_packets",
            "-of",
            "csv=p=0",
            str(path),
        ],
        capture_output=True,
        text=True,
    )
    fragmented = "fragmented" if b"moof" in data else "not fragmented"
    return f"{out.stdout.strip() or out.stderr.strip()} packets, {fragmented}, {len(data)} bytes"


def bench_ffmpeg(
    port: int, count: int, warmup: float, seconds: float, sim: int, root: Path
) -> Result:
    procs = []
    for camera_id in range(1, count + 1):
        folder = root / str(camera_id)
        folder.mkdir(parents=True)
        url = f"rtsp://127.0.0.1:{port}/cameras/{camera_id}/main"
        procs.append(
            subprocess.Popen(
                ffmpeg_command(url, folder),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        time.sleep(warmup)
        alive = [p for p in procs if p.poll() is None]
        window = measure([p.pid for p in alive], sim, root, seconds)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        errors = []
        for p in procs:
            try:
                _, err = p.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                _, err = p.communicate()
            if err and err.strip():
                errors.append(err.strip().splitlines()[-1])
    files, size = tree_bytes(root)
    extra = {
        "processes": count,
        "files": files,
        "bytes": size,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "probe": probe(root / "1" / "00000.mp4"),
    }
    return Result("ffmpeg -f segment (fMP4)", len(alive), window, extra)


# --- parent: report ----------------------------------------------------------------------------


def table(rows: list[Result]) -> str:
    head = (
        f"{'':26} {'cameras':>7} {'CPU %':>7} {'%/camera':>9} {'PSS MiB':>8} "
        f"{'MiB/camera':>10} {'written':>10} {'/camera':>12} {'kthreads %':>10} {'machine %':>9} "
        f"{'iowait %':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        w = r.window
        rate = f"{r.written_per_camera * 8 / 1e6:.3f} Mb/s" if w.written else "-"
        lines.append(
            f"{r.name:26} {r.cameras:>7} {w.cpu:>7.1f} {r.cpu_per_camera:>9.4f} "
            f"{w.pss / MIB:>8.0f} {r.pss_per_camera:>10.3f} "
            f"{w.written / w.seconds / 1e6:>7.2f} MB/s {rate:>12} "
            f"{w.kernel_threads_cpu:>10.1f} {w.machine_cpu:>9.0f} {w.machine_iowait:>8.1f}"
        )
    return "\n".join(lines)


def compare(ingest: Result, record: Result, ffmpeg: Result | None) -> tuple[str, dict[str, Any]]:
    added_cpu = record.cpu_per_camera - ingest.cpu_per_camera
    added_pss = record.pss_per_camera - ingest.pss_per_camera
    x = record.extra
    lines = [
        f"recorder added per camera: CPU {added_cpu:+.4f} % "
        f"({added_cpu / ingest.cpu_per_camera:.2f}x the ingest's "
        f"{ingest.cpu_per_camera:.4f} %; record/ingest "
        f"{record.window.cpu / ingest.window.cpu:.2f}x), PSS {added_pss * 1024:+.0f} KiB "
        f"({added_pss / ingest.pss_per_camera:.2f}x the "
        f"ingest's {ingest.pss_per_camera * 1024:.0f} KiB)",
        f"recorder within budget (added <= ingest): CPU "
        f"{'yes' if added_cpu <= ingest.cpu_per_camera else 'NO'}, memory "
        f"{'yes' if added_pss <= ingest.pss_per_camera else 'NO'}",
        f"written {record.window.written / record.window.seconds / 1e6:.2f} MB/s = "
        f"{record.written_per_camera * 8 / 1e6:.3f} Mbit/s per camera (expected "
        f"{EXPECTED_BPS / 1e6:.3f}: {record.written_per_camera * 8 / EXPECTED_BPS * 100:.1f} %); "
        f"to storage (write_bytes, incl. database) "
        f"{record.window.block_written / record.window.seconds / 1e6:.2f} MB/s; "
        f"recorded {x['disk_bytes'] / max(1, x['pulled_bytes_at_stop']) * 100:.1f} % of the bytes "
        "pulled",
        f"recorders {x['recorders']}/{record.cameras}, states {x['rec_states']}; segments "
        f"{x['rec_segments']}, parts {x['rec_parts']}, frames {x['rec_frames']}, dropped parts "
        f"{x['rec_dropped_parts']}, breaks {x['rec_breaks']}, failures {x['rec_failures']}; disk "
        f"syncs {x['disk_syncs']}, index commits {x['disk_commits']}, refused parts "
        f"{x['disk_refused_parts']}, write errors {x['disk_write_errors']}, peak queue "
        f"{x['disk_peak_queued'] / MIB:.1f} MiB (of one process), at the end "
        f"{x['disk_queued_at_end'] / MIB:.1f} MiB (all), stop took "
        f"{x['stop_recorders_seconds']:.1f} s (recorders) + {x['stop_disk_seconds']:.1f} s (disk), "
        f"disk threads still alive after it {x['disk_thread_alive_after_stop']}",
        f"disk queue per process every 2 s, MiB: {x['disk_queue_mib']}",
        f"index: {x['index_rows']} rows {x['index_states']} for {x['index_cameras']} cameras, "
        f"{x['index_bytes'] / 1e6:.0f} MB, {x['index_frames']} frames; argus check --deep: "
        f"{'ok' if x['check_ok'] else 'PROBLEMS'}, {x['check_segments']} segments, "
        f"{x['check_files']} files, problems {x['check_problems'] or 'none'} "
        f"({x['check_seconds']:.1f} s)",
    ]
    for message in x["check_first_problems"]:
        lines.append(f"  check: {message}")
    for r in (ingest, record):
        e = r.extra
        lines.append(
            f"{r.name}: streaming {e['streaming']}/{r.cameras}, sequence gaps "
            f"{e['lost_packets']}, reconnects {e['reconnects']}, frames "
            f"{e['frames_ratio'] * 100:.1f} % of expected, subscriber skips "
            f"{e['subscriber_skips']}; simulator {r.window.simulator_cpu:.0f} %"
        )
    ratios: dict[str, Any] = {
        "added_cpu_per_camera": added_cpu,
        "added_pss_mib_per_camera": added_pss,
        "added_over_ingest_cpu": added_cpu / ingest.cpu_per_camera,
        "added_over_ingest_pss": added_pss / ingest.pss_per_camera,
        "within_budget_cpu": added_cpu <= ingest.cpu_per_camera,
        "within_budget_pss": added_pss <= ingest.pss_per_camera,
    }
    if ffmpeg is not None and ffmpeg.cameras:
        cpu_x = ffmpeg.cpu_per_camera / record.cpu_per_camera
        mem_x = ffmpeg.pss_per_camera / record.pss_per_camera
        lines.append(
            f"per camera, argus ingest + record vs ffmpeg -f segment: CPU "
            f"{record.cpu_per_camera:.4f} % vs {ffmpeg.cpu_per_camera:.4f} % (ffmpeg {cpu_x:.1f}x)"
            f", PSS {record.pss_per_camera:.3f} MiB vs {ffmpeg.pss_per_camera:.3f} MiB "
            f"(ffmpeg {mem_x:.1f}x), written {record.written_per_camera * 8 / 1e6:.3f} vs "
            f"{ffmpeg.written_per_camera * 8 / 1e6:.3f} Mbit/s"
        )
        ratios.update({"ffmpeg_over_argus_cpu": cpu_x, "ffmpeg_over_argus_pss": mem_x})
    return "\n".join(lines), ratios


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--counts", default="500")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=8)
    parser.add_argument("--ffmpeg", type=int, default=40)
    parser.add_argument("--port", type=int, default=18554)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print("command: python bench/recording.py " + " ".join(sys.argv[1:]), flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="argus-bench-recording-", dir=SCRATCH_PARENT))
    rows: list[Result] = []
    summary: dict[str, Any] = {"args": vars(args), "scratch": str(scratch), "runs": []}
    try:
        with tempfile.TemporaryDirectory() as cache:
            sim = spawn("--simulator", str(args.port), cache)
            try:
                ffmpeg = None
                if args.ffmpeg:
                    ffmpeg = bench_ffmpeg(
                        args.port, args.ffmpeg, args.warmup, args.seconds, sim.pid, scratch / "ff"
                    )
                    rows.append(ffmpeg)
                    summary["ffmpeg"] = ffmpeg.as_json()
                    print(
                        f"{ffmpeg.name}: {ffmpeg.cameras}/{args.ffmpeg} processes alive, "
                        f"{ffmpeg.extra['files']} files, errors {ffmpeg.extra['errors']}"
                        + (f" ({ffmpeg.extra['first_error']})" if ffmpeg.extra["errors"] else "")
                        + f"; camera 1's file: {ffmpeg.extra['probe']}",
                        flush=True,
                    )
                    shutil.rmtree(scratch / "ff", ignore_errors=True)
                for count in [int(c) for c in args.counts.split(",")]:
                    common = (args.port, count, args.workers, args.warmup, args.seconds, sim.pid)
                    ingest = bench_argus(*common, None)
                    data_dir = scratch / f"argus-{count}"
                    prepare_database(data_dir, count)
                    record = bench_argus(*common, data_dir)
                    shutil.rmtree(data_dir, ignore_errors=True)
                    rows += [ingest, record]
                    text, ratios = compare(ingest, record, ffmpeg)
                    print(f"\n{count} cameras, {args.workers} workers:\n{text}", flush=True)
                    summary["runs"].append(
                        {"ingest": ingest.as_json(), "record": record.as_json(), **ratios}
                    )
            finally:
                sim.terminate()
                sim.wait(10)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print()
    print(table(rows))
    print(json.dumps(summary))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--simulator":
        import uvloop

        uvloop.run(run_simulator(int(sys.argv[2]), Path(sys.argv[3])))
    elif len(sys.argv) > 1 and sys.argv[1] == "--worker":
        import uvloop

        ids = [int(i) for i in sys.argv[3].split(",")]
        data = sys.argv[5] if len(sys.argv) > 5 else None
        uvloop.run(run_worker(int(sys.argv[2]), ids, float(sys.argv[4]), data))
    else:
        main()
