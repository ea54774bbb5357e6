"""authorize: allowed and refused exactly as roles, ownership, agreements and incidents say."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from argus.identity.principal import Principal, Role
from argus.sharing.policy import AgreementRule, CameraFacts, Decision, IncidentFacts, authorize
from argus.sharing.vocab import AccessPurpose, AgreementStatus, Basis, Capability, ReasonCode
from tests.sharing.factories import (
    BUK,
    CITY,
    DONG,
    EPOCH,
    POLICE,
    camera,
    person,
    rule,
    seoul,
    snapshot,
)

LIVE, PLAYBACK, EXPORT, PTZ = (
    Capability.LIVE,
    Capability.PLAYBACK,
    Capability.EXPORT,
    Capability.PTZ,
)
CRIME = AccessPurpose.CRIME_PREVENTION
NIGHT = [{"start": "22:00", "end": "07:00"}]
CITY_OPERATOR = person(CITY, Role.OPERATOR)
NOON = seoul(2026, 3, 3, 12)
LATE = seoul(2026, 3, 3, 23, 30)


def incident(
    open_: bool = True,
    cameras: tuple[int, ...] = (10,),
    agencies: tuple[int, ...] = (CITY, POLICE),
    capabilities: tuple[Capability, ...] = (LIVE, PLAYBACK),
    purposes: tuple[AccessPurpose, ...] = (CRIME,),
) -> IncidentFacts:
    return IncidentFacts(
        id=5,
        open=open_,
        responding_agency_ids=frozenset(agencies),
        camera_ids=frozenset(cameras),
        capabilities=frozenset(capabilities),
        purposes=frozenset(purposes),
    )


def decide(
    subject: Principal = CITY_OPERATOR,
    cam: CameraFacts | None = None,
    capability: Capability = LIVE,
    purpose: AccessPurpose | str | None = CRIME,
    at: datetime = LATE,
    inc: IncidentFacts | None = None,
    rules: Sequence[AgreementRule] = (),
    case_number: str | None = None,
) -> Decision:
    return authorize(
        subject,
        cam or camera(),
        capability,
        purpose,
        at,
        inc,
        policy=snapshot(*rules),
        case_number=case_number,
    )


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.PLANNER, Role.SYSTEM_ADMIN])
def test_roles_without_video_access_are_refused(role: Role) -> None:
    refused = decide(subject=person(BUK, role))
    assert not refused.allowed and refused.code is ReasonCode.ROLE_NOT_ALLOWED
    assert "no video access" in refused.reason and refused.basis is None


def test_operators_do_not_export_supervisors_and_admins_do() -> None:
    own = camera(owner=BUK)
    refused = decide(subject=person(BUK, Role.OPERATOR), cam=own, capability=EXPORT)
    assert refused.code is ReasonCode.ROLE_NOT_ALLOWED
    assert "export needs the role" in refused.reason and "supervisor" in refused.reason
    for role in (Role.SUPERVISOR, Role.AGENCY_ADMIN):
        assert decide(subject=person(BUK, role), cam=own, capability=EXPORT).allowed
    assert decide(subject=person(BUK, Role.OPERATOR), cam=camera(owner=BUK), capability=PTZ).allowed


def test_a_purpose_must_be_declared_and_known() -> None:
    missing = decide(purpose=None)
    assert missing.code is ReasonCode.MISSING_PURPOSE
    assert "must declare its purpose" in missing.reason and "범죄예방" in missing.reason
    blank = decide(purpose="  ")
    assert blank.code is ReasonCode.MISSING_PURPOSE
    unknown = decide(purpose="curiosity")
    assert unknown.code is ReasonCode.UNKNOWN_PURPOSE
    assert "curiosity" in unknown.reason and "missing_person (실종자)" in unknown.reason


def test_investigation_needs_a_case_number() -> None:
    owner = person(BUK, Role.OPERATOR)
    refused = decide(subject=owner, purpose="investigation")
    assert refused.code is ReasonCode.MISSING_CASE_NUMBER
    assert refused.reason == "purpose investigation needs a case number"
    assert decide(subject=owner, purpose="수사", case_number="2026-0042").allowed


def test_ownership_allows_the_owners_staff_only() -> None:
    allowed = decide(subject=person(BUK, Role.OPERATOR), cam=camera(owner=BUK), capability=PLAYBACK)
    assert allowed.allowed and allowed.basis is Basis.OWNERSHIP and allowed.grant == "ownership:3"
    assert "광주광역시 북구" in allowed.reason
    responder = decide(subject=person(BUK, Role.RESPONDER), cam=camera(owner=BUK))
    assert not responder.allowed and responder.code is ReasonCode.NO_AGREEMENT
    other = decide(subject=person(DONG, Role.AGENCY_ADMIN), cam=camera(owner=BUK))
    assert not other.allowed


def test_a_disabled_camera_is_refused_even_to_its_owner() -> None:
    refused = decide(subject=person(BUK, Role.AGENCY_ADMIN), cam=camera(owner=BUK, enabled=False))
    assert refused.code is ReasonCode.CAMERA_DISABLED and refused.reason == "camera 10 is disabled"


def test_no_agreement_names_owner_purpose_and_capability() -> None:
    refused = decide(capability=PLAYBACK)
    assert refused.code is ReasonCode.NO_AGREEMENT
    assert refused.reason == "no agreement covers 광주광역시 북구 교통단속 cameras for playback"


def test_night_window_of_parking_cameras() -> None:
    night = rule(7, windows=NIGHT)
    late = decide(rules=[night], at=LATE)
    assert late.allowed and late.basis is Basis.AGREEMENT and late.grant == "agreement:7"
    assert late.until == seoul(2026, 3, 4, 7).astimezone(UTC)
    early = decide(rules=[night], at=seoul(2026, 3, 4, 6, 59))
    assert early.allowed
    noon = decide(rules=[night], at=NOON)
    assert not noon.allowed and noon.code is ReasonCode.OUTSIDE_WINDOW
    assert noon.reason == "outside the window 22:00–07:00 (Asia/Seoul) of agreement 7"
    seven = decide(rules=[night], at=seoul(2026, 3, 4, 7))
    assert seven.code is ReasonCode.OUTSIDE_WINDOW


def test_window_is_read_in_the_agreements_zone_whatever_the_callers_zone() -> None:
    night = rule(7, windows=NIGHT)
    utc_1430 = datetime(2026, 3, 3, 14, 30, tzinfo=UTC)  # 23:30 in Seoul
    assert decide(rules=[night], at=utc_1430).allowed
    assert not decide(rules=[night], at=utc_1430 - timedelta(hours=2)).allowed


def test_unless_an_incident_is_open() -> None:
    night = rule(7, windows=NIGHT, unless_incident=True)
    allowed = decide(rules=[night], at=NOON, inc=incident())
    assert allowed.allowed and allowed.basis is Basis.AGREEMENT and allowed.grant == "agreement:7"
    assert "incident 5 is open" in allowed.reason
    assert allowed.incident_id == 5 and allowed.until is None
    inside = decide(rules=[night], at=LATE, inc=incident())
    assert inside.grant == "agreement:7" and inside.incident_id is None  # needs no incident
    closed = decide(rules=[night], at=NOON, inc=incident(open_=False))
    assert not closed.allowed and closed.code is ReasonCode.INCIDENT_CLOSED
    elsewhere = decide(rules=[night], at=NOON, inc=incident(cameras=(99,)))
    assert elsewhere.code is ReasonCode.OUTSIDE_WINDOW
    strict = rule(7, windows=NIGHT, unless_incident=False)
    assert decide(rules=[strict], at=NOON, inc=incident(capabilities=(EXPORT,))).code is (
        ReasonCode.OUTSIDE_WINDOW
    )


def test_purpose_and_capability_must_be_granted() -> None:
    agreement = rule(7)
    wrong_purpose = decide(rules=[agreement], purpose="traffic")
    assert wrong_purpose.code is ReasonCode.PURPOSE_NOT_ALLOWED
    assert (
        wrong_purpose.reason
        == "agreement 7 allows the purposes crime_prevention, not traffic (교통)"
    )
    wrong_capability = decide(rules=[agreement], capability=PTZ)
    assert wrong_capability.code is ReasonCode.CAPABILITY_NOT_GRANTED
    assert wrong_capability.reason == "agreement 7 grants live, playback, not ptz"


@pytest.mark.parametrize(
    ("status", "code", "text"),
    [
        (AgreementStatus.REVOKED, ReasonCode.AGREEMENT_REVOKED, "agreement 7 was revoked"),
        (AgreementStatus.SUSPENDED, ReasonCode.AGREEMENT_SUSPENDED, "agreement 7 is suspended"),
        (AgreementStatus.EXPIRED, ReasonCode.AGREEMENT_EXPIRED, "agreement 7 has expired"),
    ],
)
def test_an_ended_agreement_that_would_allow_is_named(
    status: AgreementStatus, code: ReasonCode, text: str
) -> None:
    refused = decide(rules=[rule(7, status)])
    assert not refused.allowed and refused.code is code and refused.reason == text
    for ignored in (AgreementStatus.DRAFT, AgreementStatus.PROPOSED):
        assert decide(rules=[rule(7, ignored)]).code is ReasonCode.NO_AGREEMENT
    # an ended agreement that would not have allowed anyway is not blamed
    assert decide(rules=[rule(7, status)], purpose="traffic").code is ReasonCode.NO_AGREEMENT


def test_validity_period() -> None:
    bounded = rule(7, valid_from=EPOCH, valid_until=EPOCH + timedelta(days=30))
    before = decide(rules=[bounded], at=EPOCH - timedelta(seconds=1))
    assert (
        before.code is ReasonCode.AGREEMENT_NOT_YET_VALID
        and "valid from 2026-01-01 09:00" in before.reason
    )
    after = decide(rules=[bounded], at=EPOCH + timedelta(days=30))
    assert (
        after.code is ReasonCode.AGREEMENT_EXPIRED and "expired at 2026-01-31 09:00" in after.reason
    )
    inside = decide(rules=[bounded], at=EPOCH + timedelta(days=1))
    assert inside.allowed and inside.until == EPOCH + timedelta(days=30)


def test_agreements_apply_only_between_their_two_agencies() -> None:
    from_dong = rule(8, owner_agency_id=DONG)
    assert decide(rules=[from_dong]).code is ReasonCode.NO_AGREEMENT
    to_city = rule(7)
    police = person(POLICE, Role.OPERATOR)
    assert decide(subject=police, rules=[to_city]).code is ReasonCode.NO_AGREEMENT
    assert decide(subject=person(CITY, Role.RESPONDER), rules=[to_city]).allowed


def test_the_closest_refusal_is_reported() -> None:
    elsewhere = rule(6, selector={"districts": ["동구"]})
    wrong_capability = rule(7, capabilities=["live"])
    wrong_purpose = rule(8, purposes=["traffic"])
    refused = decide(rules=[elsewhere, wrong_purpose, wrong_capability], capability=PLAYBACK)
    assert refused.code is ReasonCode.CAPABILITY_NOT_GRANTED and "agreement 7" in refused.reason


def test_incident_basis_for_responders() -> None:
    cop = person(POLICE, Role.RESPONDER)
    allowed = decide(subject=cop, inc=incident())
    assert allowed.allowed and allowed.basis is Basis.INCIDENT and allowed.grant == "incident:5"
    closed = decide(subject=cop, inc=incident(open_=False))
    assert closed.code is ReasonCode.INCIDENT_CLOSED and closed.reason == "incident 5 is closed"
    not_listed = decide(subject=cop, inc=incident(cameras=(11,)))
    assert not_listed.code is ReasonCode.NO_AGREEMENT and "incident 5 does not list camera 10" in (
        not_listed.reason
    )
    not_responding = decide(subject=cop, inc=incident(agencies=(CITY,)))
    assert not not_responding.allowed
    export = decide(subject=cop, inc=incident(), capability=EXPORT)
    assert export.code is ReasonCode.CAPABILITY_NOT_GRANTED


def test_ptz_takes_the_highest_priority_agreement() -> None:
    low = rule(7, capabilities=["ptz"], ptz_priority=20)
    high = rule(9, capabilities=["ptz", "live"], ptz_priority=80)
    chosen = decide(rules=[low, high], capability=PTZ)
    assert chosen.allowed and chosen.grant == "agreement:9" and chosen.ptz_priority == 80
    assert decide(rules=[low, high], capability=LIVE).ptz_priority is None


def test_time_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(at=datetime(2026, 3, 3, 12))
