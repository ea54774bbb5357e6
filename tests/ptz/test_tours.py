"""Tours: checking what an owner sets, and the enforcement schedule step by step."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from argus.errors import FieldError
from argus.ptz.tours import (
    MissedRevisit,
    Step,
    Tour,
    TourEngine,
    TourKind,
    Visit,
    VisitKind,
    Wait,
    build_tour,
)
from tests.ptz.fakes import START


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def stops(*dwells: int) -> list[dict[str, Any]]:
    return [{"preset": f"p{i}", "dwell_s": d} for i, d in enumerate(dwells)]


def run_until(engine: TourEngine, seconds: float) -> list[Step]:
    """Every step started up to ``seconds`` after START, each run to its end."""
    steps: list[Step] = []
    now = START if engine.current is None else engine.current.ends_at
    while now <= at(seconds):
        step = engine.advance(now)
        steps.append(step)
        now = step.ends_at
    return steps


def test_build_tour_checks_every_field() -> None:
    tour = build_tour(5, "enforcement", stops(20, 30), 360)
    assert tour.kind is TourKind.ENFORCEMENT and tour.revisit_delay_s == 360
    assert build_tour(5, "enforcement", stops(20)).revisit_delay_s == 300
    assert build_tour(5, "patrol", stops(20, 20)).revisit_delay_s is None
    bad: list[tuple[dict[str, Any], str]] = [
        ({"kind": "sightseeing"}, "kind"),
        ({"stops": []}, "stops"),
        ({"stops": [{"preset": "", "dwell_s": 10}]}, "stops[0].preset"),
        ({"stops": [*stops(10), {"preset": "x", "dwell_s": 0}]}, "stops[1].dwell_s"),
        ({"stops": [{"preset": "a", "dwell_s": 301}]}, "stops[0].dwell_s"),
        ({"stops": [{"preset": "a", "dwell_s": "ten"}]}, "stops[0].dwell_s"),
        ({"stops": [{"preset": "a", "dwell_s": 5}] * 2}, "stops[1].preset"),
        ({"revisit_delay_s": 299}, "revisit_delay_s"),
        ({"revisit_delay_s": 601}, "revisit_delay_s"),
        ({"kind": "patrol", "revisit_delay_s": 300}, "revisit_delay_s"),
    ]  # fmt: skip
    for change, field in bad:
        args: dict[str, Any] = {"kind": "enforcement", "stops": stops(10, 10), **change}
        with pytest.raises(FieldError) as caught:
            build_tour(5, args["kind"], args["stops"], args.get("revisit_delay_s"))
        assert caught.value.field == field, change
    # a patrol may pass a spot twice
    assert len(build_tour(5, "patrol", [{"preset": "a", "dwell_s": 5}] * 2).stops) == 2


def test_a_batch_of_first_photos_then_its_revisits_exactly_the_delay_later() -> None:
    tour = build_tour(1, "enforcement", stops(100, 120, 90, 60), 300)
    steps = run_until(TourEngine(tour), 700)
    plan = [
        (s.kind.value, s.preset, (s.started_at - START).total_seconds())
        if isinstance(s, Visit)
        else ("wait", "", (s.started_at - START).total_seconds())
        for s in steps
    ]
    # p0 0–100, p1 100–220 fit before p0's revisit opens at 300; p2 (ends 310) does not
    assert plan[:7] == [
        ("first", "p0", 0.0),
        ("first", "p1", 100.0),
        ("wait", "", 220.0),
        ("revisit", "p0", 300.0),
        ("revisit", "p1", 400.0),
        ("first", "p2", 520.0),
        ("first", "p3", 610.0),
    ]


def test_a_takeover_pauses_the_tour_and_it_resumes_where_it_left_off() -> None:
    tour = build_tour(1, "enforcement", stops(60, 60, 60), 300)
    engine = TourEngine(tour)
    run_until(engine, 60)  # p0 done at 60, p1 running until 120
    engine.pause(at(90), "taken over by kim")
    assert engine.current is None and [r.preset for r in engine.pending] == ["p0"]
    assert engine.resume(at(200)) == []
    step = engine.advance(at(200))
    assert isinstance(step, Visit) and step.preset == "p1" and step.kind is VisitKind.FIRST


def test_revisits_that_fell_due_come_first_and_passed_ones_are_reported() -> None:
    tour = build_tour(1, "enforcement", stops(60, 60, 60, 60), 300)
    engine = TourEngine(tour)
    run_until(engine, 180)  # p0 0, p1 60, p2 120, p3 180 (ends 240)
    engine.pause(at(250), "taken over by the police")
    # p0's window closed at 600, p1's at 660; p2's and p3's (720, 780) are still open
    missed = engine.resume(at(700))
    assert [m.preset for m in missed] == ["p0", "p1"]
    assert all(isinstance(m, MissedRevisit) for m in missed)
    assert missed[0].closes_at == at(600) and missed[0].first_at == at(0)
    assert missed[0].cause.startswith("taken over by the police (")
    assert engine.take_missed() == missed
    first = engine.advance(at(700))
    assert isinstance(first, Visit) and (first.kind, first.preset) == (VisitKind.REVISIT, "p2")
    second = engine.advance(first.ends_at)
    assert isinstance(second, Visit) and (second.kind, second.preset) == (VisitKind.REVISIT, "p3")
    assert second.started_at <= at(780)
    third = engine.advance(second.ends_at)
    assert isinstance(third, Visit) and third.kind is VisitKind.FIRST and third.preset == "p0"


def test_a_revisit_cut_short_is_made_again_after_the_takeover() -> None:
    tour = build_tour(1, "enforcement", stops(30), 300)
    engine = TourEngine(tour)
    steps = run_until(engine, 300)
    assert isinstance(steps[-1], Visit) and steps[-1].kind is VisitKind.REVISIT
    engine.pause(at(310), "taken over")
    engine.resume(at(400))
    again = engine.advance(at(400))
    assert isinstance(again, Visit) and again.kind is VisitKind.REVISIT
    assert again.first_at == at(0)


def test_a_failed_stop_is_skipped_and_a_failed_revisit_reported() -> None:
    tour = build_tour(1, "enforcement", stops(30, 30), 300)
    engine = TourEngine(tour)
    engine.advance(at(0))
    engine.skip_current(at(1), "camera error")
    step = engine.advance(at(1))
    assert isinstance(step, Visit) and step.preset == "p1"
    again = engine.advance(step.ends_at)  # p0 once more: it fits before p1's revisit
    assert isinstance(again, Visit) and again.preset == "p0" and again.kind is VisitKind.FIRST
    wait = engine.advance(again.ends_at)
    assert isinstance(wait, Wait) and wait.ends_at == at(301)
    revisit = engine.advance(wait.ends_at)
    assert isinstance(revisit, Visit) and (revisit.kind, revisit.preset) == (
        VisitKind.REVISIT,
        "p1",
    )
    engine.skip_current(at(310), "camera error")
    assert [(m.preset, m.cause) for m in engine.take_missed()] == [("p1", "camera error")]
    nxt = engine.advance(at(310))  # p0's revisit opens 300 s after its photo at 31
    assert isinstance(nxt, Wait) and nxt.ends_at == at(331)


def test_abandon_reports_every_pending_revisit_and_keeps_the_place() -> None:
    tour = build_tour(1, "enforcement", stops(30, 30, 30), 300)
    engine = TourEngine(tour)
    run_until(engine, 60)
    engine.pause(at(70), "mode")
    gone = engine.abandon(at(70), "the schedule ends enforcement")
    assert [g.preset for g in gone] == ["p0", "p1"]
    assert engine.pending == []
    engine.resume(at(1000))
    step = engine.advance(at(1000))
    assert isinstance(step, Visit) and step.preset == "p2" and step.kind is VisitKind.FIRST


def test_advancing_a_paused_tour_is_a_mistake() -> None:
    engine = TourEngine(Tour(1, TourKind.PATROL, build_tour(1, "patrol", stops(5)).stops))
    engine.pause(START, "x")
    with pytest.raises(RuntimeError):
        engine.advance(START)
