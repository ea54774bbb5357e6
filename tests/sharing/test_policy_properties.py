"""Properties of authorize over random agencies, cameras, agreements, incidents and times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from argus.errors import FieldError
from argus.identity.principal import Principal, Role
from argus.sharing.policy import (
    OWNERSHIP_ROLES,
    AgreementRule,
    CameraFacts,
    IncidentFacts,
    PolicySnapshot,
    authorize,
)
from argus.sharing.terms import AgreementTerms, build_terms, widening
from argus.sharing.vocab import AccessPurpose, AgreementStatus, Basis, Capability, ReasonCode

AGENCIES = [1, 2, 3, 4]
START = datetime(2026, 1, 1, tzinfo=UTC)
CAMERA_PURPOSES = ["교통단속", "생활방범", "어린이보호"]
DISTRICTS = ["북구", "동구"]
NEXT_DAY = {"mon": "tue", "wed": "thu", "sat": "sun"}

principals = st.builds(
    Principal,
    user_id=st.just(1),
    username=st.just("someone"),
    agency_id=st.sampled_from(AGENCIES),
    roles=st.frozensets(st.sampled_from(list(Role)), max_size=3),
)
cameras = st.builds(
    CameraFacts,
    id=st.integers(1, 6),
    owner_agency_id=st.sampled_from(AGENCIES),
    site_id=st.integers(1, 3),
    purpose=st.sampled_from(CAMERA_PURPOSES),
    district=st.sampled_from(DISTRICTS),
    lat=st.floats(35.10, 35.20),
    lon=st.floats(126.80, 126.95),
    enabled=st.booleans(),
    region=st.sampled_from(["광주광역시", None]),
)
moments = st.integers(0, 400 * 24 * 60).map(lambda m: START + timedelta(minutes=m))
incidents = st.none() | st.builds(
    IncidentFacts,
    id=st.integers(1, 3),
    open=st.booleans(),
    responding_agency_ids=st.frozensets(st.sampled_from(AGENCIES)),
    camera_ids=st.frozensets(st.integers(1, 6)),
    capabilities=st.frozensets(st.sampled_from(list(Capability))),
    purposes=st.frozensets(st.sampled_from(list(AccessPurpose))),
)
purposes = st.none() | st.sampled_from([*AccessPurpose, "nonsense", "수사"])
case_numbers = st.none() | st.just("2026-001")


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def raw_terms(draw: st.DrawFn) -> dict[str, Any]:
    owner = draw(st.sampled_from(AGENCIES))
    consumer = draw(st.sampled_from([a for a in AGENCIES if a != owner]))
    selector: dict[str, Any] = {}
    if draw(st.booleans()):
        selector["districts"] = draw(st.lists(st.sampled_from(DISTRICTS), min_size=1, unique=True))
    if draw(st.booleans()):
        selector["purposes"] = draw(
            st.lists(st.sampled_from(CAMERA_PURPOSES), min_size=1, unique=True)
        )
    if draw(st.booleans()):
        selector["camera_ids"] = draw(st.lists(st.integers(1, 6), min_size=1, unique=True))
    if draw(st.booleans()):
        selector["site_ids"] = draw(st.lists(st.integers(1, 3), min_size=1, unique=True))
    if draw(st.booleans()):
        selector["area"] = {
            "circle": {"lat": 35.15, "lon": 126.87, "radius_m": draw(st.floats(100, 8000))}
        }
    if not selector:
        selector["districts"] = ["북구"]
    windows = []
    if draw(st.booleans()):
        start = draw(st.integers(0, 1439))
        length = draw(st.integers(1, 1439))
        window: dict[str, Any] = {"start": _clock(start), "end": _clock((start + length) % 1440)}
        if draw(st.booleans()):
            window["days"] = draw(st.lists(st.sampled_from(["mon", "wed", "sat"]), min_size=1))
        windows.append(window)
    capabilities = draw(st.lists(st.sampled_from(list(Capability)), min_size=1, unique=True))
    valid_from = START + timedelta(days=draw(st.integers(0, 100)))
    return {
        "owner_agency_id": owner,
        "consumer_agency_id": consumer,
        "selector": selector,
        "purposes": draw(st.lists(st.sampled_from(list(AccessPurpose)), min_size=1, unique=True)),
        "capabilities": capabilities,
        "ptz_priority": draw(st.integers(1, 100)) if Capability.PTZ in capabilities else None,
        "windows": windows,
        "unless_incident": draw(st.booleans()),
        "valid_from": valid_from,
        "valid_until": draw(st.none() | st.just(valid_from + timedelta(days=200))),
        "legal_basis": "협약서",
    }


@st.composite
def narrowed(draw: st.DrawFn, raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` after a random series of changes that each only take something away."""
    new = dict(raw)
    selector = dict(raw["selector"])
    if "districts" in selector and draw(st.booleans()):
        kept = draw(st.lists(st.sampled_from(selector["districts"]), min_size=1, unique=True))
        selector["districts"] = [f"광주광역시 {d}" if draw(st.booleans()) else d for d in kept]
    if draw(st.booleans()):
        ids = selector.get("camera_ids", list(range(1, 7)))
        selector["camera_ids"] = draw(st.lists(st.sampled_from(ids), min_size=1, unique=True))
    if "area" in selector and draw(st.booleans()):
        circle = selector["area"]["circle"]
        selector["area"] = {"circle": {**circle, "radius_m": circle["radius_m"] * 0.5}}
    new["selector"] = selector
    new["purposes"] = draw(st.lists(st.sampled_from(raw["purposes"]), min_size=1, unique=True))
    new["capabilities"] = draw(
        st.lists(st.sampled_from(raw["capabilities"]), min_size=1, unique=True)
    )
    if Capability.PTZ in new["capabilities"]:
        new["ptz_priority"] = draw(st.integers(1, raw["ptz_priority"]))
    else:
        new["ptz_priority"] = None
    if raw["windows"]:
        window = raw["windows"][0]
        start = int(window["start"][:2]) * 60 + int(window["start"][3:])
        end = int(window["end"][:2]) * 60 + int(window["end"][3:])
        length = (end - start) % 1440
        skip = draw(st.integers(0, length - 1))
        keep = draw(st.integers(1, length - skip))
        shrunk = {**window, "start": _clock((start + skip) % 1440)}
        shrunk["end"] = _clock((start + skip + keep) % 1440)
        if window.get("days") and start + skip >= 1440:  # the part after midnight: next day
            shrunk["days"] = [NEXT_DAY[d] for d in window["days"]]
        elif not window.get("days") and draw(st.booleans()):
            shrunk["days"] = ["sat"]
        new["windows"] = [shrunk]
    elif draw(st.booleans()):
        new["windows"] = [{"start": "22:00", "end": "07:00"}]
    if raw["unless_incident"] and draw(st.booleans()):
        new["unless_incident"] = False
    new["valid_from"] = raw["valid_from"] + timedelta(days=draw(st.integers(0, 50)))
    if raw["valid_until"] is not None or draw(st.booleans()):
        ceiling = raw["valid_until"] or new["valid_from"] + timedelta(days=500)
        new["valid_until"] = ceiling - timedelta(days=draw(st.integers(0, 100)))
    return new


def _terms(raw: dict[str, Any]) -> AgreementTerms:
    try:
        return build_terms(**raw)
    except FieldError:
        assume(False)
        raise


@st.composite
def rules(draw: st.DrawFn) -> list[AgreementRule]:
    count = draw(st.integers(0, 4))
    return [
        AgreementRule(
            100 + i, draw(st.sampled_from(list(AgreementStatus))), _terms(draw(raw_terms()))
        )
        for i in range(count)
    ]


@settings(max_examples=400, deadline=None)
@given(
    principals,
    cameras,
    st.sampled_from(list(Capability)),
    purposes,
    moments,
    incidents,
    rules(),
    case_numbers,
)
def test_a_decision_never_allows_without_a_basis(
    subject, camera, capability, purpose, at, incident, agreements, case_number
) -> None:
    policy = PolicySnapshot.build(agreements)
    decision = authorize(
        subject, camera, capability, purpose, at, incident, policy=policy, case_number=case_number
    )
    if not decision.allowed:
        assert decision.basis is None and decision.grant is None
        assert decision.code is not ReasonCode.ALLOWED and decision.reason
        return
    assert decision.code is ReasonCode.ALLOWED and decision.basis is not None and decision.grant
    assert camera.enabled and purpose not in (None, "nonsense")
    if decision.basis is Basis.OWNERSHIP:
        assert camera.owner_agency_id == subject.agency_id
        assert decision.grant == f"ownership:{subject.agency_id}"
        assert subject.roles & OWNERSHIP_ROLES
    elif decision.basis is Basis.AGREEMENT:
        found = [r for r in agreements if f"agreement:{r.id}" == decision.grant]
        assert len(found) == 1 and found[0].status is AgreementStatus.ACCEPTED
        terms = found[0].terms
        assert terms.consumer_agency_id == subject.agency_id
        assert terms.owner_agency_id == camera.owner_agency_id
        assert capability in terms.capabilities
    else:
        assert incident is not None and incident.open
        assert incident.involves(subject.agency_id, camera.id)
        assert capability in incident.capabilities


@settings(max_examples=300, deadline=None)
@given(principals, cameras, st.sampled_from(list(Capability)), purposes, moments, rules())
def test_ownership_never_crosses_agencies(
    subject, camera, capability, purpose, at, agreements
) -> None:
    decision = authorize(
        subject, camera, capability, purpose, at, None, policy=PolicySnapshot.build(agreements)
    )
    if camera.owner_agency_id != subject.agency_id:
        assert decision.basis is not Basis.OWNERSHIP
    if not subject.roles & OWNERSHIP_ROLES:
        assert decision.basis is not Basis.OWNERSHIP


@st.composite
def narrowing_pair(draw: st.DrawFn) -> tuple[AgreementTerms, AgreementTerms]:
    raw = draw(raw_terms())
    return _terms(raw), _terms(draw(narrowed(raw)))


@settings(max_examples=400, deadline=None)
@given(
    narrowing_pair(),
    rules(),
    st.data(),
)
def test_narrowing_never_turns_a_deny_into_an_allow(pair, others, data) -> None:
    old, new = pair
    assert widening(old, new) is None  # the generator only narrows
    before = PolicySnapshot.build([*others, AgreementRule(7, AgreementStatus.ACCEPTED, old)])
    after = PolicySnapshot.build([*others, AgreementRule(7, AgreementStatus.ACCEPTED, new)])
    subject = data.draw(principals.map(lambda p: _with_agency(p, old.consumer_agency_id)))
    for _ in range(25):
        camera = data.draw(cameras.map(lambda c: _owned_by(c, old.owner_agency_id)))
        capability = data.draw(st.sampled_from(list(Capability)))
        purpose = data.draw(purposes)
        at = data.draw(moments)
        incident = data.draw(incidents)
        args = (subject, camera, capability, purpose, at, incident)
        narrow = authorize(*args, policy=after, case_number="1")
        if narrow.allowed:
            assert authorize(*args, policy=before, case_number="1").allowed


def _with_agency(principal: Principal, agency: int) -> Principal:
    return Principal(principal.user_id, principal.username, agency, principal.roles)


def _owned_by(camera: CameraFacts, owner: int) -> CameraFacts:
    return CameraFacts(
        camera.id,
        owner,
        camera.site_id,
        camera.purpose,
        camera.district,
        camera.lat,
        camera.lon,
        camera.enabled,
        camera.region,
    )
