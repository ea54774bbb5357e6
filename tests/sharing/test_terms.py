"""Agreement terms: each invalid agreement is refused naming the field; narrowing vs widening."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from argus.errors import FieldError
from argus.sharing.terms import widening
from argus.sharing.vocab import AccessPurpose, Capability
from tests.sharing.factories import BUK, CITY, EPOCH, terms


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"valid_until": EPOCH - timedelta(days=1)}, "valid_until", "not after valid_from"),
        ({"valid_until": EPOCH}, "valid_until", "not after valid_from"),
        ({"windows": [{"start": "22:00", "end": "22:00"}]}, "windows[0]", "same time"),
        ({"windows": [{"start": "22:00", "end": "7"}]}, "windows[0].end", "HH:MM"),
        ({"windows": [{"start": "22:00"}]}, "windows[0]", "start and end"),
        (
            {"windows": [{"start": "22:00", "end": "07:00"}, {"start": "06:00", "end": "09:00"}]},
            "windows",
            "overlap",
        ),
        ({"selector": {}}, "selector", "choose the cameras"),
        ({"selector": None}, "selector", "choose the cameras"),
        ({"purposes": ["espionage"]}, "purposes", "investigation (수사)"),
        ({"purposes": []}, "purposes", "at least one"),
        ({"capabilities": ["record"]}, "capabilities", "live, playback, export, ptz"),
        ({"consumer_agency_id": BUK}, "consumer_agency_id", "same agency"),
        ({"capabilities": ["ptz"], "ptz_priority": 0}, "ptz_priority", "1–100"),
        ({"capabilities": ["ptz"], "ptz_priority": 101}, "ptz_priority", "1–100"),
        ({"capabilities": ["live"], "ptz_priority": 5}, "ptz_priority", "ptz"),
        ({"timezone": "Mars/Olympus"}, "timezone", "IANA"),
        ({"legal_basis": "  "}, "legal_basis", "legal basis"),
    ],
)
def test_invalid_agreements_are_refused_naming_the_field(
    changes: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(FieldError) as caught:
        terms(**changes)
    assert caught.value.field == field
    assert words in caught.value.message


def test_defaults_and_canonical_forms() -> None:
    made = terms(purposes=["범죄예방", "investigation"], capabilities=["PTZ", "live"])
    assert made.purposes == {AccessPurpose.CRIME_PREVENTION, AccessPurpose.INVESTIGATION}
    assert made.capabilities == {Capability.PTZ, Capability.LIVE}
    assert made.ptz_priority == 50
    assert made.timezone == "Asia/Seoul"
    assert made.owner_agency_id == BUK and made.consumer_agency_id == CITY


def test_a_time_without_offset_is_local_to_the_agreement() -> None:
    made = terms(valid_from=datetime(2026, 1, 1, 9, 0))
    assert made.valid_from == datetime(2026, 1, 1, 0, 0, tzinfo=EPOCH.tzinfo)


NARROWINGS: list[dict[str, Any]] = [
    {"selector": {"districts": ["북구"], "purposes": ["교통단속"], "camera_ids": [1, 2]}},
    {"purposes": ["crime_prevention"]},
    {"capabilities": ["live"], "ptz_priority": None},
    {"windows": [{"start": "23:00", "end": "06:00"}]},
    {"windows": [{"start": "22:00", "end": "07:00", "days": ["sat", "sun"]}]},
    {"valid_until": EPOCH + timedelta(days=30)},
    {"valid_from": EPOCH + timedelta(days=1)},
    {"unless_incident": False},
    {"capabilities": ["live", "ptz"], "ptz_priority": 10},
]
WIDENINGS: list[tuple[dict[str, Any], str]] = [
    ({"selector": {"districts": ["북구"]}}, "selector.purposes"),
    ({"selector": {"districts": ["북구", "동구"], "purposes": ["교통단속"]}}, "selector.districts"),
    ({"purposes": ["crime_prevention", "traffic"]}, "purposes"),
    ({"capabilities": ["live", "playback", "export", "ptz"]}, "capabilities"),
    ({"capabilities": ["live", "ptz"], "ptz_priority": 90}, "ptz_priority"),
    ({"windows": [{"start": "21:00", "end": "07:00"}]}, "windows"),
    ({"windows": []}, "windows"),
    ({"timezone": "Asia/Tokyo"}, "timezone"),
    ({"valid_until": None}, "valid_until"),
    ({"valid_until": EPOCH + timedelta(days=400)}, "valid_until"),
    ({"valid_from": EPOCH - timedelta(days=1)}, "valid_from"),
    ({"legal_basis": "다른 근거"}, "legal_basis"),
]
BASE: dict[str, Any] = {
    "purposes": ["crime_prevention", "disaster"],
    "capabilities": ["live", "playback", "ptz"],
    "ptz_priority": 40,
    "windows": [{"start": "22:00", "end": "07:00"}],
    "unless_incident": True,
    "valid_until": EPOCH + timedelta(days=365),
}


@pytest.mark.parametrize("changes", NARROWINGS)
def test_narrowings_are_accepted(changes: dict[str, Any]) -> None:
    old = terms(**BASE)
    new = terms(**{**BASE, **changes})
    assert widening(old, new) is None


@pytest.mark.parametrize(("changes", "field"), WIDENINGS)
def test_widenings_need_a_new_agreement(changes: dict[str, Any], field: str) -> None:
    old = terms(**BASE)
    new = terms(**{**BASE, **changes})
    found = widening(old, new)
    assert found is not None and found.field == field
    assert "new agreement" in found.message


def test_adding_the_incident_exception_widens() -> None:
    old = terms(**{**BASE, "unless_incident": False})
    found = widening(old, terms(**BASE))
    assert found is not None and found.field == "unless_incident"
    assert widening(terms(**BASE), old) is None
