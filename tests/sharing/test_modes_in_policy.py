"""A camera's mode binds what others may use it for: authorize with CameraFacts.mode.

A district's parking-enforcement camera in its enforcement hours serves traffic only, whatever
an agreement for crime prevention says; outside them (crime-prevention mode) or while an
incident lists it (incident mode) the emergency purposes are admitted. Its owner's own use is
not bound by its mode. An allow ends when the mode changes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from argus.identity.principal import Role
from argus.modes.schedule import Mode, admits
from argus.sharing.policy import CameraFacts, IncidentFacts, authorize
from argus.sharing.vocab import AccessPurpose, Capability, ReasonCode
from tests.sharing.factories import BUK, CITY, POLICE, camera, person, rule, seoul, snapshot

NOON = seoul(2026, 3, 3, 12)
CITY_OPERATOR = person(CITY, Role.OPERATOR)
ALL_PURPOSES = [p.value for p in AccessPurpose]


def in_mode(mode: Mode, until: datetime | None = None) -> CameraFacts:
    return replace(
        camera(),
        mode=mode.value,
        mode_purposes=frozenset(p for p in AccessPurpose if admits(mode, p)),
        mode_until=until,
    )


def test_an_agreement_for_crime_prevention_does_not_open_a_camera_in_enforcement_hours() -> None:
    policy = snapshot(rule(purposes=ALL_PURPOSES))
    cam = in_mode(Mode.ENFORCEMENT)
    refused = authorize(
        CITY_OPERATOR, cam, Capability.LIVE, "crime_prevention", NOON, None, policy=policy
    )
    assert not refused.allowed and refused.code is ReasonCode.OUTSIDE_MODE
    assert "enforcement mode" in refused.reason and "traffic" in refused.reason
    traffic = authorize(CITY_OPERATOR, cam, Capability.LIVE, "traffic", NOON, None, policy=policy)
    assert traffic.allowed
    # the same camera with no mode: the agreement alone decides
    assert authorize(
        CITY_OPERATOR, camera(), Capability.LIVE, "crime_prevention", NOON, None, policy=policy
    ).allowed


def test_the_owner_is_not_bound_by_the_mode() -> None:
    owner = person(BUK, Role.OPERATOR)
    cam = in_mode(Mode.ENFORCEMENT)
    own = authorize(owner, cam, Capability.LIVE, "crime_prevention", NOON, None, policy=snapshot())
    assert own.allowed


def test_incident_mode_admits_the_emergency_purposes_to_the_responders() -> None:
    incident = IncidentFacts(
        id=3,
        open=True,
        responding_agency_ids=frozenset({POLICE}),
        camera_ids=frozenset({10}),
        capabilities=frozenset({Capability.LIVE}),
        purposes=frozenset({AccessPurpose.CRIME_PREVENTION}),
    )
    cop = person(POLICE, Role.RESPONDER)
    allowed = authorize(
        cop,
        in_mode(Mode.INCIDENT),
        Capability.LIVE,
        "crime_prevention",
        NOON,
        incident,
        policy=snapshot(),
    )
    assert allowed.allowed and allowed.grant == "incident:3"


def test_an_allow_ends_when_the_mode_changes() -> None:
    change = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)  # 22:00 in Seoul
    policy = snapshot(rule(purposes=ALL_PURPOSES))
    allowed = authorize(
        CITY_OPERATOR,
        in_mode(Mode.CRIME_PREVENTION, until=change),
        Capability.LIVE,
        "crime_prevention",
        NOON,
        None,
        policy=policy,
    )
    assert allowed.allowed and allowed.until == change


@given(
    mode=st.sampled_from(list(Mode)),
    purpose=st.sampled_from(list(AccessPurpose)),
    agreed=st.sets(st.sampled_from(ALL_PURPOSES), min_size=1),
    hours=st.integers(min_value=0, max_value=47),
)
def test_a_mode_never_turns_a_refusal_into_an_allow(
    mode: Mode, purpose: AccessPurpose, agreed: set[str], hours: int
) -> None:
    policy = snapshot(rule(purposes=sorted(agreed)))
    at = NOON + timedelta(hours=hours)
    case = "2026-1" if purpose is AccessPurpose.INVESTIGATION else None
    plain = authorize(
        CITY_OPERATOR, camera(), Capability.LIVE, purpose, at, None, policy=policy, case_number=case
    )
    bound = authorize(
        CITY_OPERATOR,
        in_mode(mode),
        Capability.LIVE,
        purpose,
        at,
        None,
        policy=policy,
        case_number=case,
    )
    if bound.allowed:
        assert plain.allowed and admits(mode, purpose)
    if plain.allowed and admits(mode, purpose):
        assert bound.allowed
