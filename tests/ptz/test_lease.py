"""Control leases over a fake clock: first come first served, pre-emption, expiry, release."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argus.ptz.arbitration import PriorityClass, Requester, RequesterKind
from argus.ptz.lease import (
    EndCause,
    Granted,
    LeaseEnded,
    Leases,
    NotHolding,
    Preempted,
    Refusal,
)
from tests.ptz.fakes import START, VirtualTime

CAMERA = 12


def user(
    user_id: int,
    priority_class: PriorityClass = PriorityClass.OPERATOR,
    agency: str = "광주광역시 통합관제센터",
    reason: str = "watching a crowd",
    priority: int | None = None,
) -> Requester:
    return Requester(
        RequesterKind.USER,
        f"user{user_id}",
        user_id * 10,
        agency,
        priority_class,
        reason,
        user_id=user_id,
        agreement_priority=priority,
    )


TOUR = Requester(
    RequesterKind.TOUR,
    "enforcement tour of camera 12",
    3,
    "광주광역시 북구",
    PriorityClass.ENFORCEMENT_TOUR,
    "parking enforcement tour",
    owner=True,
)


@pytest.fixture
def clock() -> VirtualTime:
    return VirtualTime(START)


@pytest.fixture
def leases(clock: VirtualTime) -> Leases:
    return Leases(clock, idle_release=timedelta(seconds=15), max_hold=timedelta(minutes=10))


def later(clock: VirtualTime, seconds: float) -> None:
    clock.now += timedelta(seconds=seconds)


def test_equal_priority_first_come_first_served_with_a_clear_refusal(
    leases: Leases, clock: VirtualTime
) -> None:
    first = leases.acquire(CAMERA, user(1))
    assert isinstance(first, Granted) and first.preempted is None
    later(clock, 5)
    second = leases.acquire(CAMERA, user(2))
    assert isinstance(second, Refusal)
    assert second.holder.user_id == 1 and second.equal_rank
    assert second.idle_expires_at == START + timedelta(seconds=15)
    assert second.frees_by == START + timedelta(minutes=10)
    text = second.message()
    assert "user1 (광주광역시 통합관제센터, centre operator)" in text
    assert "'watching a crowd'" in text
    assert "equal priority, first come first served" in text
    assert "01:00:15 UTC" in text and "at the latest at 01:10:00 UTC" in text
    held = leases.lease(CAMERA)
    assert held is not None and held.holder.user_id == 1  # nothing changed


def test_a_lower_priority_is_refused_and_a_higher_one_preempts_and_the_loser_is_told(
    leases: Leases, clock: VirtualTime
) -> None:
    assert isinstance(leases.acquire(CAMERA, user(1)), Granted)
    low = leases.acquire(CAMERA, user(2, priority=1, reason="curious"))
    assert isinstance(low, Refusal) and not low.equal_rank
    later(clock, 3)
    police = user(3, PriorityClass.INCIDENT, "광주북부경찰서", "incident 12: assault")
    taken = leases.acquire(CAMERA, police)
    assert isinstance(taken, Granted)
    assert taken.preempted is not None and taken.preempted.previous.user_id == 1
    events = leases.drain()
    assert len(events) == 1 and isinstance(events[0], Preempted)
    notice = events[0]
    assert notice.by.name == "user3" and notice.by.agency_name == "광주북부경찰서"
    assert notice.by.priority_class is PriorityClass.INCIDENT
    assert notice.by.reason == "incident 12: assault"
    assert "taken over at 01:00:03 UTC by user3 (광주북부경찰서, incident link)" in notice.message()
    # the one who lost it hears the same when they try again
    refused = leases.command(CAMERA, user(1).key)
    assert isinstance(refused, NotHolding) and refused.taken_over == notice
    assert "no longer control camera 12" in refused.message()
    assert "incident 12: assault" in refused.message()


def test_commands_keep_the_lease_until_it_is_idle_then_it_ends_by_itself(
    leases: Leases, clock: VirtualTime
) -> None:
    leases.acquire(CAMERA, user(1))
    for _ in range(4):
        later(clock, 10)
        assert not isinstance(leases.command(CAMERA, user(1).key), NotHolding)
    later(clock, 14.9)
    assert leases.expire_due() == []
    later(clock, 0.1)
    ended = leases.expire_due()
    assert [e.cause for e in ended] == [EndCause.IDLE]
    assert ended[0].at == START + timedelta(seconds=55)
    assert leases.lease(CAMERA) is None
    assert isinstance(leases.acquire(CAMERA, user(2)), Granted)


def test_a_lease_ends_at_its_maximum_hold_however_busy(leases: Leases, clock: VirtualTime) -> None:
    leases.acquire(CAMERA, user(1))
    for _ in range(60):
        later(clock, 10)
        leases.command(CAMERA, user(1).key)
    assert leases.lease(CAMERA) is None
    ended = [e for e in leases.drain() if isinstance(e, LeaseEnded)]
    assert [e.cause for e in ended] == [EndCause.MAX_HOLD]
    assert ended[0].at == START + timedelta(minutes=10)


def test_only_the_holder_releases_and_the_camera_returns_to_its_tour(leases: Leases) -> None:
    leases.set_background(CAMERA, TOUR)
    assert leases.controller(CAMERA) == TOUR
    granted = leases.acquire(CAMERA, user(1))
    assert isinstance(granted, Granted) and granted.preempted is not None
    assert granted.preempted.previous == TOUR
    refused = leases.release(CAMERA, user(2).key)
    assert isinstance(refused, NotHolding) and refused.holder is not None
    assert "controlled by user1" in refused.message()
    ended = leases.release(CAMERA, user(1).key)
    assert isinstance(ended, LeaseEnded) and ended.cause is EndCause.RELEASED
    assert ended.returns_to == TOUR
    assert leases.controller(CAMERA) == TOUR


def test_taking_it_again_renews_and_keeps_the_first_moment(
    leases: Leases, clock: VirtualTime
) -> None:
    leases.acquire(CAMERA, user(1))
    later(clock, 12)
    again = leases.acquire(CAMERA, user(1, reason="following a car"))
    assert isinstance(again, Granted) and again.renewed
    assert again.lease.acquired_at == START
    assert again.lease.idle_expires_at == START + timedelta(seconds=27)
    assert again.lease.holder.reason == "following a car"


def test_a_tour_ahead_of_people_refuses_them_while_it_runs(clock: VirtualTime) -> None:
    from argus.ptz.arbitration import parse_order

    order = parse_order("enforcement_tour,incident,supervisor,operator,idle_patrol")
    leases = Leases(clock, order)
    leases.set_background(CAMERA, TOUR)
    refused = leases.acquire(CAMERA, user(1))
    assert isinstance(refused, Refusal) and refused.idle_expires_at is None
    assert "while nobody with a higher priority" in refused.message()


def test_settings_are_checked(clock: VirtualTime) -> None:
    with pytest.raises(ValueError):
        Leases(clock, idle_release=timedelta(0))
    with pytest.raises(ValueError):
        Leases(clock, idle_release=timedelta(seconds=30), max_hold=timedelta(seconds=10))


actions = st.lists(
    st.tuples(
        st.sampled_from(["acquire", "command", "release", "wait"]),
        st.integers(1, 4),  # who
        st.sampled_from(list(PriorityClass)[:3]),
        st.integers(0, 20),  # seconds passing first
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(actions)
def test_one_controller_at_a_time_and_only_a_higher_rank_takes_over(
    steps: list[tuple[str, int, PriorityClass, int]],
) -> None:
    clock = VirtualTime(START)
    leases = Leases(clock, idle_release=timedelta(seconds=15), max_hold=timedelta(minutes=2))
    for action, who, cls, wait in steps:
        clock.now += timedelta(seconds=wait)
        before = leases.lease(CAMERA)
        requester = user(who, cls)
        if action == "acquire":
            result = leases.acquire(CAMERA, requester)
            after = leases.lease(CAMERA)
            if before is None or before.holder.key == requester.key:
                assert isinstance(result, Granted)
            elif leases.arbitration.outranks(requester, before.holder):
                assert isinstance(result, Granted) and result.preempted is not None
                assert result.preempted.previous == before.holder
            else:
                assert isinstance(result, Refusal) and after == before
        elif action == "command":
            result_c = leases.command(CAMERA, requester.key)
            holds = before is not None and before.holder.key == requester.key
            assert isinstance(result_c, NotHolding) is not holds
        elif action == "release":
            leases.release(CAMERA, requester.key)
        current = leases.lease(CAMERA)
        if current is not None:
            assert current.expires_at > clock.now
            assert current.expires_at <= current.acquired_at + timedelta(minutes=2)
