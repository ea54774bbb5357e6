"""Agreements in a real database (SQLite and PostgreSQL): lifecycle, rights, audit, hook, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from argus.db import make_sessionmaker
from argus.errors import ConflictError, FieldError, ForbiddenError, NotFoundError
from argus.identity.principal import Principal, Role
from argus.sharing.models import Agreement
from argus.sharing.schemas import AgreementCreate, AgreementPatch
from argus.sharing.service import SharingService
from argus.sharing.vocab import AgreementStatus, Basis, ReasonCode
from tests.sharing.world import NIGHT, NOON, Changes, FakeClock, World, audit_entries


@pytest.fixture
def sharing(engine: Engine, clock: FakeClock, changes: Changes) -> SharingService:
    return SharingService(make_sessionmaker(engine), on_change=changes, clock=clock)


def night_parking(world: World, **extra: Any) -> AgreementCreate:
    body: dict[str, Any] = {
        "title": "북구 주정차 단속 CCTV 야간 방범 활용",
        "owner_agency_id": world.buk,
        "consumer_agency_id": world.city,
        "selector": {"districts": ["북구"], "purposes": ["교통단속"]},
        "purposes": ["crime_prevention"],
        "capabilities": ["live", "playback"],
        "windows": [{"start": "22:00", "end": "07:00"}],
        "unless_incident": True,
        "valid_from": "2026-01-01T00:00:00+09:00",
        "valid_until": "2027-01-01T00:00:00+09:00",
        "legal_basis": "개인정보 보호법 제18조제2항, 광주광역시-북구 CCTV 통합관제 협약 제4조",
    }
    body.update(extra)
    return AgreementCreate.model_validate(body)


def accepted(sharing: SharingService, world: World, **extra: Any) -> int:
    admin = world.person(world.buk, Role.AGENCY_ADMIN)
    draft = sharing.create(admin, night_parking(world, **extra))
    sharing.propose(admin, draft.id)
    return sharing.accept(admin, draft.id).id


def count_agreements(engine: Engine) -> int:
    with make_sessionmaker(engine)() as session:
        return int(session.scalar(select(func.count(Agreement.id))) or 0)


def test_propose_accept_use_and_revoke(
    sharing: SharingService, world: World, clock: FakeClock, changes: Changes, engine: Engine
) -> None:
    admin = world.person(world.buk, Role.AGENCY_ADMIN)
    operator = world.person(world.city, Role.OPERATOR)
    draft = sharing.create(admin, night_parking(world))
    assert draft.status is AgreementStatus.DRAFT and draft.requested_by_agency_id == world.buk
    assert draft.owner_name == "광주광역시 북구" and draft.consumer_name == "광주광역시"
    assert draft.selector_text == "purposes 교통단속; districts 북구"
    assert draft.valid_from == datetime(2025, 12, 31, 15, tzinfo=UTC)
    refused = sharing.decide(operator, world.buk_parking, "live", "crime_prevention")
    assert refused.code is ReasonCode.NO_AGREEMENT  # a draft allows nothing

    assert sharing.propose(admin, draft.id).status is AgreementStatus.PROPOSED
    agreement = sharing.accept(admin, draft.id)
    assert (
        agreement.status is AgreementStatus.ACCEPTED
        and agreement.accepted_by_user_id == admin.user_id
    )

    allowed = sharing.decide(operator, world.buk_parking, "live", "crime_prevention")
    assert allowed.allowed and allowed.basis is Basis.AGREEMENT
    assert allowed.grant == f"agreement:{draft.id}"
    other_purpose = sharing.decide(operator, world.buk_crime, "live", "crime_prevention")
    assert other_purpose.code is ReasonCode.NO_AGREEMENT
    assert other_purpose.reason == "no agreement covers 광주광역시 북구 생활방범 cameras for live"
    clock.now = NOON
    by_day = sharing.decide(operator, world.buk_parking, "playback", "crime_prevention")
    assert by_day.code is ReasonCode.OUTSIDE_WINDOW
    assert by_day.reason == f"outside the window 22:00–07:00 (Asia/Seoul) of agreement {draft.id}"

    clock.now = NIGHT
    revoked = sharing.revoke(admin, draft.id, note="협약 해지")
    assert revoked.status is AgreementStatus.REVOKED and revoked.status_note == "협약 해지"
    assert changes.seen == [(draft.id, "revoked")]
    after = sharing.decide(operator, world.buk_parking, "live", "crime_prevention")
    assert not after.allowed and after.reason == f"agreement {draft.id} was revoked"

    log = audit_entries(engine)
    actions = [(e["action"], e["outcome"]) for e in log]
    assert actions == [
        ("agreement.create", "ok"),
        ("access.check", "deny"),
        ("agreement.propose", "ok"),
        ("agreement.accept", "ok"),
        ("access.check", "allow"),
        ("access.check", "deny"),
        ("access.check", "deny"),
        ("agreement.revoke", "ok"),
        ("access.check", "deny"),
    ]
    accept = log[3]
    assert accept["target"] == f"agreement:{draft.id}" and accept["actor_agency_id"] == world.buk
    assert accept["owner_agency_id"] == world.buk
    assert accept["details"]["from"] == "proposed" and accept["details"]["to"] == "accepted"
    allow = log[4]
    assert (
        allow["target"] == f"camera:{world.buk_parking}"
        and allow["grant"] == f"agreement:{draft.id}"
    )
    assert allow["purpose"] == "crime_prevention" and allow["client"] == "192.0.2.7"
    assert allow["owner_agency_id"] == world.buk and allow["details"]["capability"] == "live"
    assert log[7]["reason"] == "협약 해지"


def test_a_consumer_requests_and_only_the_owner_accepts(
    sharing: SharingService, world: World, engine: Engine
) -> None:
    city_admin = world.person(world.city, Role.AGENCY_ADMIN)
    buk_admin = world.person(world.buk, Role.AGENCY_ADMIN)
    request = sharing.create(city_admin, night_parking(world))
    assert request.requested_by_agency_id == world.city
    with pytest.raises(ForbiddenError, match="drafted it"):
        sharing.propose(buk_admin, request.id)
    sharing.propose(city_admin, request.id)
    with pytest.raises(
        ForbiddenError, match=r"only an agency admin of the owner \(광주광역시 북구\)"
    ):
        sharing.accept(city_admin, request.id)
    assert sharing.get_agreement(buk_admin, request.id).status is AgreementStatus.PROPOSED
    denied = audit_entries(engine)[-1]
    assert (denied["action"], denied["outcome"]) == ("agreement.accept", "deny")
    assert "only an agency admin of the owner" in denied["reason"]
    assert denied["owner_agency_id"] == world.buk
    assert sharing.accept(buk_admin, request.id).status is AgreementStatus.ACCEPTED


@pytest.mark.parametrize(
    "who",
    [
        ("buk", (Role.OPERATOR, Role.SUPERVISOR)),
        ("buk", (Role.SYSTEM_ADMIN,)),
        ("dong", (Role.AGENCY_ADMIN,)),
        ("city", (Role.AUDITOR,)),
    ],
)
def test_nobody_but_agency_admins_of_the_two_agencies_drafts(
    sharing: SharingService, world: World, engine: Engine, who: tuple[str, tuple[Role, ...]]
) -> None:
    agency, roles = who
    principal = world.person(getattr(world, agency), *roles)
    with pytest.raises(ForbiddenError):
        sharing.create(principal, night_parking(world))
    assert count_agreements(engine) == 0
    last = audit_entries(engine)[-1]
    assert (last["action"], last["outcome"]) == ("agreement.create", "deny")
    assert last["owner_agency_id"] == world.buk and last["actor_user_id"] == principal.user_id


def test_only_the_owner_admin_changes_an_accepted_agreement(
    sharing: SharingService, world: World
) -> None:
    agreement_id = accepted(sharing, world)
    outsiders = [
        world.person(world.city, Role.AGENCY_ADMIN),
        world.person(world.buk, Role.SUPERVISOR),
        world.person(world.buk, Role.SYSTEM_ADMIN),
    ]
    for principal in outsiders:
        for verb in ("suspend", "revoke"):
            with pytest.raises(ForbiddenError):
                sharing.transition(principal, agreement_id, verb)
        with pytest.raises(ForbiddenError):
            sharing.update(principal, agreement_id, AgreementPatch(capabilities=["live"]))
    stranger = world.person(world.dong, Role.AGENCY_ADMIN)
    with pytest.raises(NotFoundError):
        sharing.revoke(stranger, agreement_id)
    buk_admin = world.person(world.buk, Role.AGENCY_ADMIN)
    assert sharing.get_agreement(buk_admin, agreement_id).status is AgreementStatus.ACCEPTED
    assert sharing.get_agreement(buk_admin, agreement_id).version == 3


def test_listing_shows_my_agencys_agreements_only(sharing: SharingService, world: World) -> None:
    first = accepted(sharing, world)
    dong_admin = world.person(world.dong, Role.AGENCY_ADMIN)
    own = sharing.create(
        dong_admin,
        night_parking(
            world, owner_agency_id=world.dong, selector={"camera_ids": [world.dong_parking]}
        ),
    )

    def listed(principal: Principal) -> list[int]:
        return [a.id for a in sharing.list_agreements(principal)]

    assert listed(world.person(world.city, Role.AUDITOR)) == [first, own.id]
    assert listed(world.person(world.buk, Role.OPERATOR)) == [first]
    assert listed(dong_admin) == [own.id]
    assert listed(world.person(world.police, Role.RESPONDER)) == []
    assert listed(world.person(world.police, Role.SYSTEM_ADMIN)) == [first, own.id]
    drafts = sharing.list_agreements(dong_admin, AgreementStatus.DRAFT)
    assert [a.id for a in drafts] == [own.id]
    with pytest.raises(NotFoundError):
        sharing.get_agreement(dong_admin, first)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (
            {"windows": [{"start": "22:00", "end": "07:00"}, {"start": "05:00", "end": "08:00"}]},
            "windows",
        ),
        ({"windows": [{"start": "22:00", "end": "22:00"}]}, "windows[0]"),
        ({"windows": [{"start": "22:00", "end": "25:00"}]}, "windows[0].end"),
        ({"valid_until": "2025-06-01T00:00:00+09:00"}, "valid_until"),
        ({"selector": {}}, "selector"),
        ({"purposes": ["crime_prevention", "marketing"]}, "purposes"),
        ({"purposes": []}, "purposes"),
        ({"capabilities": ["ptz"], "ptz_priority": 500}, "ptz_priority"),
        ({"consumer_agency_id": "SELF"}, "consumer_agency_id"),
        ({"consumer_agency_id": 9999}, "consumer_agency_id"),
        ({"selector": {"camera_ids": ["DONG"]}}, "selector.camera_ids"),
        ({"selector": {"camera_ids": [99999]}}, "selector.camera_ids"),
        ({"legal_basis": None}, "legal_basis"),
    ],
)
def test_invalid_agreements_are_refused_audited_and_change_nothing(
    sharing: SharingService,
    world: World,
    engine: Engine,
    changes: dict[str, Any],
    field: str,
) -> None:
    if changes.get("consumer_agency_id") == "SELF":
        changes = {**changes, "consumer_agency_id": world.buk}
    if changes.get("selector") == {"camera_ids": ["DONG"]}:
        changes = {"selector": {"camera_ids": [world.dong_parking]}}
    admin = world.person(world.buk, Role.AGENCY_ADMIN)
    with pytest.raises(FieldError) as caught:
        sharing.create(admin, night_parking(world, **changes))
    assert caught.value.field == field
    assert count_agreements(engine) == 0
    last = audit_entries(engine)[-1]
    assert (last["action"], last["outcome"]) == ("agreement.create", "deny")
    assert last["details"]["field"] == field and last["reason"] == str(caught.value)


def test_a_selector_may_not_reach_another_agencys_cameras(
    sharing: SharingService, world: World
) -> None:
    admin = world.person(world.buk, Role.AGENCY_ADMIN)
    with pytest.raises(
        FieldError, match="belongs to 광주광역시 동구, not to the owner 광주광역시 북구"
    ):
        sharing.create(admin, night_parking(world, selector={"camera_ids": [world.dong_parking]}))


def test_narrowing_takes_effect_and_is_announced_widening_is_refused(
    sharing: SharingService, world: World, changes: Changes, engine: Engine
) -> None:
    agreement_id = accepted(sharing, world)
    admin = world.person(world.buk, Role.AGENCY_ADMIN)
    operator = world.person(world.city, Role.OPERATOR)
    assert sharing.decide(operator, world.buk_parking, "playback", "crime_prevention").allowed

    narrowed = sharing.update(
        admin,
        agreement_id,
        AgreementPatch(
            capabilities=["live"],
            selector={
                "districts": ["북구"],
                "purposes": ["교통단속"],
                "camera_ids": [world.buk_parking],
            },
        ),
    )
    assert narrowed.capabilities == ["live"] and narrowed.status is AgreementStatus.ACCEPTED
    assert changes.seen == [(agreement_id, "narrowed")]
    refused = sharing.decide(operator, world.buk_parking, "playback", "crime_prevention")
    assert refused.code is ReasonCode.CAPABILITY_NOT_GRANTED
    assert sharing.decide(operator, world.buk_parking, "live", "crime_prevention").allowed
    assert not sharing.decide(operator, world.buk_parking_2, "live", "crime_prevention").allowed
    log = audit_entries(engine)
    narrow = next(e for e in log if e["action"] == "agreement.narrow")
    assert narrow["details"]["before"]["capabilities"] == ["live", "playback"]
    assert narrow["details"]["after"]["capabilities"] == ["live"]

    before = sharing.get_agreement(admin, agreement_id)
    for widen, field in [
        (AgreementPatch(capabilities=["live", "export"]), "capabilities"),
        (AgreementPatch(windows=[]), "windows"),
        (AgreementPatch(valid_until=None), "valid_until"),
        (AgreementPatch(selector={"districts": ["북구"]}), "selector.camera_ids"),
    ]:
        with pytest.raises(FieldError, match="widening needs a new agreement") as caught:
            sharing.update(admin, agreement_id, widen)
        assert caught.value.field == field
    assert sharing.get_agreement(admin, agreement_id) == before
    assert changes.seen == [(agreement_id, "narrowed")]
    denied = [
        e
        for e in audit_entries(engine)
        if e["outcome"] == "deny" and e["action"] == "agreement.update"
    ]
    assert len(denied) == 4


def test_a_draft_is_edited_freely_by_its_drafter(sharing: SharingService, world: World) -> None:
    city_admin = world.person(world.city, Role.AGENCY_ADMIN)
    draft = sharing.create(city_admin, night_parking(world, capabilities=["live"]))
    wider = sharing.update(
        city_admin, draft.id, AgreementPatch(capabilities=["live", "ptz"], windows=[])
    )
    assert (
        wider.capabilities == ["live", "ptz"] and wider.ptz_priority == 50 and wider.windows == []
    )
    assert wider.version == 2
    with pytest.raises(ForbiddenError):
        sharing.update(
            world.person(world.buk, Role.AGENCY_ADMIN), draft.id, AgreementPatch(title="x")
        )


def test_suspend_and_resume(sharing: SharingService, world: World, changes: Changes) -> None:
    agreement_id = accepted(sharing, world)
    admin = world.person(world.buk, Role.AGENCY_ADMIN)
    operator = world.person(world.city, Role.OPERATOR)
    sharing.suspend(admin, agreement_id, note="점검")
    assert changes.seen == [(agreement_id, "suspended")]
    refused = sharing.decide(operator, world.buk_parking, "live", "crime_prevention")
    assert refused.code is ReasonCode.AGREEMENT_SUSPENDED
    assert refused.reason == f"agreement {agreement_id} is suspended"
    with pytest.raises(ConflictError, match="is suspended; it can be suspended only when accepted"):
        sharing.suspend(admin, agreement_id)
    assert sharing.resume(admin, agreement_id).status is AgreementStatus.ACCEPTED
    assert sharing.decide(operator, world.buk_parking, "live", "crime_prevention").allowed
    assert changes.seen == [(agreement_id, "suspended")]


def test_lifecycle_steps_out_of_order_are_conflicts(sharing: SharingService, world: World) -> None:
    admin = world.person(world.buk, Role.AGENCY_ADMIN)
    draft = sharing.create(admin, night_parking(world))
    with pytest.raises(ConflictError, match="is draft"):
        sharing.accept(admin, draft.id)
    with pytest.raises(ConflictError):
        sharing.resume(admin, draft.id)
    sharing.revoke(admin, draft.id)
    for verb in ("propose", "accept", "suspend", "resume", "revoke"):
        with pytest.raises(ConflictError, match="was revoked"):
            sharing.transition(admin, draft.id, verb)
    with pytest.raises(ConflictError):
        sharing.update(admin, draft.id, AgreementPatch(capabilities=["live"]))


def test_agreements_expire_by_time(
    sharing: SharingService, world: World, clock: FakeClock, changes: Changes, engine: Engine
) -> None:
    agreement_id = accepted(sharing, world, valid_until="2026-03-04T00:00:00+09:00")
    operator = world.person(world.city, Role.OPERATOR)
    assert sharing.decide(operator, world.buk_parking, "live", "crime_prevention").allowed
    clock.now = NIGHT + timedelta(hours=1)  # 00:30 in Seoul, past valid_until
    refused = sharing.decide(operator, world.buk_parking, "live", "crime_prevention")
    assert refused.code is ReasonCode.AGREEMENT_EXPIRED  # before anyone marked it
    assert sharing.expire_due() == [agreement_id]
    assert sharing.expire_due() == []
    assert changes.seen == [(agreement_id, "expired")]
    admin = world.person(world.buk, Role.AGENCY_ADMIN)
    assert sharing.get_agreement(admin, agreement_id).status is AgreementStatus.EXPIRED
    assert sharing.decide(operator, world.buk_parking, "live", "crime_prevention").reason == (
        f"agreement {agreement_id} has expired"
    )
    expiry = [e for e in audit_entries(engine) if e["action"] == "agreement.expire"]
    assert len(expiry) == 1 and expiry[0]["actor_user_id"] is None
    with pytest.raises(ConflictError, match="has expired"):
        sharing.resume(admin, agreement_id)


def test_a_draft_past_its_validity_expires_without_announcement(
    sharing: SharingService, world: World, clock: FakeClock, changes: Changes
) -> None:
    admin = world.person(world.buk, Role.AGENCY_ADMIN)
    draft = sharing.create(admin, night_parking(world, valid_until="2026-03-04T00:00:00+09:00"))
    clock.now = NIGHT + timedelta(days=1)
    assert sharing.list_agreements(admin)[0].status is AgreementStatus.EXPIRED
    assert changes.seen == []
    with pytest.raises(ConflictError):
        sharing.propose(admin, draft.id)


def test_the_snapshot_follows_changes_from_any_process(
    sharing: SharingService, world: World, engine: Engine, clock: FakeClock
) -> None:
    first = sharing.snapshot()
    assert sharing.snapshot() is first and first.agreement_count == 0
    other_process = SharingService(make_sessionmaker(engine), clock=clock)
    agreement_id = accepted(other_process, world)
    second = sharing.snapshot()
    assert second is not first and second.agreement_count == 1
    other_process.suspend(world.person(world.buk, Role.AGENCY_ADMIN), agreement_id)
    assert sharing.snapshot().agreement_count == 0


def test_ownership_and_unknown_inputs_through_the_service(
    sharing: SharingService, world: World, engine: Engine
) -> None:
    operator = world.person(world.buk, Role.OPERATOR)
    own = sharing.decide(operator, world.buk_parking, "ptz", "traffic")
    assert own.allowed and own.basis is Basis.OWNERSHIP and own.grant == f"ownership:{world.buk}"
    with pytest.raises(NotFoundError, match="camera 424242"):
        sharing.decide(operator, 424242, "live", "traffic")
    with pytest.raises(FieldError, match="unknown capability 'zoom'"):
        sharing.decide(operator, world.buk_parking, "zoom", "traffic")
    missing = sharing.decide(operator, world.buk_parking, "live", None)
    assert missing.code is ReasonCode.MISSING_PURPOSE
    log = audit_entries(engine)
    assert [(e["action"], e["outcome"]) for e in log] == [("access.check", "allow")] + [
        ("access.check", "deny")
    ] * 3
    assert "camera 424242" in log[1]["reason"] and log[3]["details"]["code"] == "missing_purpose"
