"""The stream hub: instant start from the GOP cache, shared ring, slow subscribers skip or go."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argus.media.hub import StreamHub, SubscriberClosed
from argus.media.nal import AccessUnit, ParameterSets

PS = ParameterSets(sps=b"\x67sps", pps=b"\x68pps")
GOP = 30  # 2 s at 15 fps
TICK = 6000


def au(n: int, gop: int = GOP, size: int = 100) -> AccessUnit:
    key = n % gop == 0
    payload = bytes([0x65 if key else 0x41]) + n.to_bytes(4, "big") + b"\0" * size
    return AccessUnit(n * TICK, (payload,), key, PS)


def frame_no(frame_au: AccessUnit) -> int:
    return int.from_bytes(frame_au.nal_units[0][1:5], "big")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def feed(hub: StreamHub, start: int, stop: int, gop: int = GOP) -> None:
    for n in range(start, stop):
        hub.publish(au(n, gop), n * TICK)


def test_new_subscriber_starts_at_the_latest_keyframe_at_once() -> None:
    hub = StreamHub(1)
    feed(hub, 0, 75)  # keyframes at 0, 30, 60
    sub = hub.subscribe("viewer")
    frames = sub.take()
    assert frames[0].is_keyframe
    assert [frame_no(f.au) for f in frames] == list(range(60, 75))
    hub.publish(au(75), 75 * TICK)
    assert [frame_no(f.au) for f in sub.take()] == [75]


def test_next_keyframe_start_waits_like_other_systems() -> None:
    hub = StreamHub(1)
    feed(hub, 0, 45)
    sub = hub.subscribe("peer-style", start="next_keyframe")
    assert sub.take() == []
    feed(hub, 45, 61)
    frames = sub.take()
    assert frames[0].is_keyframe and frame_no(frames[0].au) == 60


def test_subscriber_before_any_frame_starts_with_the_first_keyframe() -> None:
    hub = StreamHub(1)
    sub = hub.subscribe()
    feed(hub, 0, 3)
    assert [frame_no(f.au) for f in sub.take()] == [0, 1, 2]


def test_ring_keeps_about_two_gops_and_gop_cache_is_the_last() -> None:
    hub = StreamHub(1)
    feed(hub, 0, 100)
    # keyframes at 60 and 90: the ring holds from the previous keyframe (60) on
    assert hub.ring_frames == 40
    assert [frame_no(f.au) for f in hub.gop] == list(range(90, 100))
    assert hub.stats.frames == 100 and hub.stats.keyframes == 4


def test_ring_is_bounded_by_bytes_even_without_keyframes() -> None:
    hub = StreamHub(1, max_bytes=10_000)
    feed(hub, 0, 1000, gop=10_000)  # one keyframe, then never another
    assert hub.ring_bytes <= 10_000
    assert hub.last_keyframe_index is None  # the GOP no longer fits: no instant start
    sub = hub.subscribe()
    assert sub.take() == []
    hub.publish(au(0), 1000 * TICK)  # a keyframe at last
    assert sub.take()[0].is_keyframe


def test_slow_subscriber_skips_to_the_newest_keyframe_and_others_get_everything() -> None:
    clock = FakeClock()
    hub = StreamHub(1, clock=clock, max_skips=100)
    fast = hub.subscribe("fast")
    slow = hub.subscribe("slow")
    got_fast: list[int] = []
    got_slow: list[int] = []
    for n in range(0, 200):
        hub.publish(au(n), n * TICK)
        got_fast += [frame_no(f.au) for f in fast.take()]
        if n % 25 == 0:  # slow: one frame now and then
            got_slow += [frame_no(f.au) for f in slow.take(limit=1)]
    assert got_fast == list(range(200))
    assert slow.stats.skips >= 1 and fast.stats.skips == 0
    assert slow.closed_reason is None
    frames = slow.take()
    assert frames[0].is_keyframe and frame_no(frames[0].au) == 180
    assert slow.stats.skipped_frames > 0


def test_subscriber_that_keeps_falling_behind_is_closed() -> None:
    clock = FakeClock()
    hub = StreamHub(1, clock=clock, max_skips=3, skip_window=30)
    sub = hub.subscribe("hopeless")
    idle: list[int] = []
    hub.on_idle(lambda h: idle.append(h.camera_id))
    feed(hub, 0, 1)
    sub.take(limit=1)
    n = 1
    for _ in range(2):
        feed(hub, n, n + 60)  # the ring passes the cursor once: it skips when it comes back
        n += 60
        sub.take(limit=1)
        clock.now += 1
    feed(hub, n, n + 60)
    with pytest.raises(SubscriberClosed, match="fell behind 3 times"):
        sub.take(limit=1)
    assert hub.subscriber_count == 0
    assert hub.stats.subscribers_dropped == 1
    assert idle == [1]


def test_skips_spread_out_in_time_are_forgiven() -> None:
    clock = FakeClock()
    hub = StreamHub(1, clock=clock, max_skips=3, skip_window=30)
    sub = hub.subscribe("sometimes slow")
    feed(hub, 0, 1)
    sub.take()
    n = 1
    for _ in range(10):
        feed(hub, n, n + 60)
        n += 60
        assert sub.take(limit=1)[0].is_keyframe
        clock.now += 20
    assert sub.stats.skips == 10
    assert sub.closed_reason is None


def test_duration_follows_the_camera_frame_interval() -> None:
    hub = StreamHub(1)
    hub.publish(au(0), 0)
    f1 = hub.publish(au(1), 3000)
    f2 = hub.publish(au(2), 9000)
    assert f1.duration == 3000 and f2.duration == 6000
    # a jump (camera restarted its clock) keeps the last sane interval
    f3 = hub.publish(au(3), 9000 + 90000 * 100)
    assert f3.duration == 6000


async def test_waiting_subscribers_wake_on_publish_and_on_close() -> None:
    hub = StreamHub(1)
    subs = [hub.subscribe(str(i)) for i in range(5)]
    tasks = [asyncio.create_task(s.next_batch()) for s in subs]
    await asyncio.sleep(0)
    hub.publish(au(0), 0)
    batches = await asyncio.wait_for(asyncio.gather(*tasks), 2)
    assert all(frame_no(b[0].au) == 0 for b in batches)

    waiting = asyncio.create_task(subs[0].next_batch())
    await asyncio.sleep(0)
    hub.close("camera went offline")
    with pytest.raises(SubscriberClosed, match="offline"):
        await asyncio.wait_for(waiting, 2)
    with pytest.raises(SubscriberClosed):
        hub.subscribe()


async def test_closing_one_subscriber_ends_only_its_wait() -> None:
    hub = StreamHub(1)
    a, b = hub.subscribe("a"), hub.subscribe("b")
    ta = asyncio.create_task(a.next_batch())
    tb = asyncio.create_task(b.next_batch())
    await asyncio.sleep(0)
    a.close("revoked")
    with pytest.raises(SubscriberClosed, match="revoked"):
        await asyncio.wait_for(ta, 2)
    assert not tb.done()
    hub.publish(au(0), 0)
    assert frame_no((await asyncio.wait_for(tb, 2))[0].au) == 0


async def test_a_cancelled_waiter_does_not_break_the_others() -> None:
    hub = StreamHub(1)
    a, b = hub.subscribe("a"), hub.subscribe("b")
    ta = asyncio.create_task(a.next_batch())
    tb = asyncio.create_task(b.next_batch())
    await asyncio.sleep(0)
    ta.cancel()
    await asyncio.sleep(0)
    hub.publish(au(0), 0)
    assert len(await asyncio.wait_for(tb, 2)) == 1


@settings(max_examples=60, deadline=None)
@given(
    gop=st.integers(1, 40),
    reads=st.lists(st.tuples(st.integers(0, 120), st.integers(1, 64)), min_size=1, max_size=30),
)
def test_any_reader_sees_frames_in_order_and_each_run_starts_decodable(
    gop: int, reads: list[tuple[int, int]]
) -> None:
    """Whatever the pace, a subscriber gets increasing frames; after a gap comes a keyframe."""
    clock = FakeClock()
    hub = StreamHub(1, clock=clock, max_frames=100, max_skips=10_000)
    sub = hub.subscribe()
    n = 0
    last: int | None = None
    for publish, limit in reads:
        feed(hub, n, n + publish, gop=gop)
        n += publish
        try:
            frames = sub.take(limit)
        except SubscriberClosed as exc:
            assert exc.reason.startswith("too slow")  # stuck: the ring passed it twice
            return
        for frame in frames:
            if last is None or frame.index != last + 1:
                assert frame.is_keyframe
            assert last is None or frame.index > last
            last = frame.index


def test_a_reconnection_continues_the_timeline() -> None:
    hub = StreamHub(1)
    hub.discontinuity()
    hub.publish(au(0), 1_000_000)
    hub.publish(au(1), 1_006_000)
    hub.discontinuity()  # the camera reconnected; its RTP clock starts somewhere else
    f = hub.publish(au(0), 5)
    g = hub.publish(au(1), 6005)
    assert f.media_time == 1_012_000
    assert g.media_time == 1_018_000


def test_a_stuck_subscriber_is_closed_when_the_ring_passes_it_twice() -> None:
    hub = StreamHub(1)
    stuck = hub.subscribe("stuck in a send")
    heard: list[str] = []
    stuck.on_closed = heard.append
    stuck.take()
    feed(hub, 0, 61)  # keyframes at 0, 30, 60: the ring starts at 30, past the cursor once
    assert stuck.closed_reason is None
    feed(hub, 61, 91)  # the next keyframe (90) moves the ring past it again
    assert stuck.closed_reason is not None and "too slow" in stuck.closed_reason
    assert heard == [stuck.closed_reason]
    assert hub.stats.subscribers_dropped == 1 and hub.subscriber_count == 0


def test_a_subscriber_that_takes_between_keyframes_is_never_stuck() -> None:
    hub = StreamHub(1, max_skips=1000)
    sub = hub.subscribe()
    for start in range(0, 300, 30):
        feed(hub, start, start + 30)
        sub.take(limit=5)  # slow: it takes only a few each time, and skips
    assert sub.closed_reason is None
    assert sub.stats.skips > 0
