"""Playback in Chromium: recorded fMP4 from the playback WebSocket decoded and painted by Media
Source Extensions, over the real API server (uvicorn) and a playback token from the real API.

Chromium is the independent player here: the server's timeline (speeds, seeks, the skipped gap,
a repeated init segment after a seek) must be one a browser plays. The footage is the one of
test_playback.py: two stretches of 10 s of a real H.264 clip, 10 s apart."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.media.test_player_chromium import browser, database_url
from tests.recording.test_playback import Footage, _iso, footage

__all__ = ["browser", "database_url", "footage"]  # fixtures, used by name
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

OPEN = """async (url) => {
    const video = document.createElement('video');
    video.muted = true;
    video.width = 320;
    document.body.append(video);
    const ms = new MediaSource();
    video.src = URL.createObjectURL(ms);
    await new Promise((resolve) => ms.addEventListener('sourceopen', resolve, { once: true }));
    const log = { positions: [], gaps: [], inits: 0, seeked: null, end: null, error: null };
    let sb = null;
    let pendingSeek = null;
    const queue = [];
    const pump = () => { if (sb && !sb.updating && queue.length) sb.appendBuffer(queue.shift()); };
    // a seek is applied once its fragment is in the buffer: before that, the media element
    // would clamp it to what is buffered
    const settle = () => {
        const b = video.buffered;
        for (let i = 0; pendingSeek !== null && i < b.length; i += 1) {
            if (b.start(i) <= pendingSeek && pendingSeek < b.end(i)) {
                video.currentTime = pendingSeek;
                pendingSeek = null;
            }
        }
    };
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (event) => {
        if (typeof event.data !== 'string') { queue.push(event.data); pump(); return; }
        const m = JSON.parse(event.data);
        if (m.type === 'init') {
            log.inits += 1;
            if (!sb) {
                sb = ms.addSourceBuffer(m.mime);
                sb.addEventListener('updateend', () => { settle(); pump(); });
                sb.addEventListener('error', () => { log.error = 'SourceBuffer error'; });
            }
        } else if (m.type === 'position') log.positions.push(m);
        else if (m.type === 'gap') log.gaps.push(m);
        else if (m.type === 'seeked') { log.seeked = m; pendingSeek = m.media_time; }
        else if (m.type === 'end') log.end = m;
    };
    ws.onclose = (event) => { log.closed = event.code; };
    video.addEventListener('error', () => { log.error = video.error && video.error.message; });
    window.pb = { video, ws, log };
    video.play().catch(() => {});
}"""

STATE = """() => {
    const { video, log } = window.pb;
    const canvas = document.createElement('canvas');
    canvas.width = 64; canvas.height = 36;
    const g = canvas.getContext('2d');
    g.drawImage(video, 0, 0, 64, 36);
    const px = g.getImageData(0, 0, 64, 36).data;
    let sum = 0, sq = 0, n = 0;
    for (let i = 0; i < px.length; i += 4) {
        const y = 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
        sum += y; sq += y * y; n += 1;
    }
    const mean = sum / n;
    const q = video.getVideoPlaybackQuality();
    return {
        currentTime: video.currentTime, width: video.videoWidth, height: video.videoHeight,
        frames: q.totalVideoFrames, spread: Math.sqrt(Math.max(0, sq / n - mean * mean)),
        log,
    };
}"""


@pytest.fixture
def page(browser: Browser, footage: Footage) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{footage.base}/player/")  # same origin, the player page's strict CSP
    try:
        yield page
    finally:
        context.close()


def state(page: Page) -> dict[str, Any]:
    value = page.evaluate(STATE)
    assert isinstance(value, dict)
    return value


def shown_wall(s: dict[str, Any], speed: int) -> datetime:
    """The recorded time of the picture on screen, from the position messages."""
    now = s["currentTime"]
    before = [p for p in s["log"]["positions"] if p["media_time"] <= now + 1e-3]
    last = before[-1]
    return datetime.fromisoformat(last["wall"]) + timedelta(
        seconds=(now - last["media_time"]) * speed
    )


def test_chromium_plays_recorded_video_and_seeks(footage: Footage, page: Page) -> None:
    token = footage.token("buk-operator")
    end = footage.b0 + timedelta(seconds=10)
    page.evaluate(OPEN, footage.url(token, footage.a0, end))
    page.wait_for_function("() => window.pb && window.pb.video.currentTime > 1.5", timeout=10000)
    first = state(page)
    assert first["log"]["error"] is None
    assert (first["width"], first["height"]) == (320, 180)
    assert first["spread"] > 5  # a picture, not a uniform frame
    assert abs((shown_wall(first, 1) - footage.a0).total_seconds() - first["currentTime"]) < 0.5
    # seek into the second stretch, past the gap: the picture is there within a second
    target = footage.b0 + timedelta(seconds=4.5)
    page.evaluate("(to) => window.pb.ws.send(JSON.stringify({ type: 'seek', to }))", _iso(target))
    page.wait_for_function(
        "() => window.pb.log.seeked && window.pb.video.currentTime > "
        "window.pb.log.seeked.media_time + 1.0",
        timeout=10000,
    )
    after = state(page)
    assert after["log"]["error"] is None and after["frames"] > first["frames"]
    assert after["spread"] > 5
    shown = (shown_wall(after, 1) - target).total_seconds()
    assert 0.5 < shown < 4.0, shown  # playing on from the target, not from before it


def test_chromium_plays_keyframes_at_x8_to_the_end_of_the_range(
    footage: Footage, page: Page
) -> None:
    token = footage.token("buk-operator")
    end = footage.b0 + timedelta(seconds=10)
    page.evaluate(OPEN, footage.url(token, footage.a0, end, speed="8"))
    # 20 s of footage at x8: 2.5 s of video, one keyframe a second of footage
    page.wait_for_function(
        "() => window.pb && window.pb.log.end && window.pb.video.currentTime > 2.2",
        timeout=10000,
    )
    s = state(page)
    assert s["log"]["error"] is None and s["log"]["gaps"] and s["spread"] > 5
    assert abs(s["log"]["end"]["media_time"] - 2.5) < 0.01
