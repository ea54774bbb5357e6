"""The auditors' API: who may read, what they see, filters, exports, verify, and the ledger."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from argus.audit.chain import Fields, reference_encoding
from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record
from argus.audit.models import AuditEntry
from argus.db import transaction
from argus.identity.deps import current_principal
from argus.identity.principal import Principal, Role
from tests.audit.conftest import World
from tests.audit.raw import RawDatabase

SignIn = Callable[[Principal], None]


@pytest.fixture
def sign_in(client: TestClient) -> SignIn:
    def as_principal(principal: Principal) -> None:
        client.app.dependency_overrides[current_principal] = lambda: principal  # type: ignore[attr-defined]

    return as_principal


def principal(user_id: int, agency_id: int, *roles: Role) -> Principal:
    return Principal(
        user_id=user_id,
        username=f"user{user_id}",
        agency_id=agency_id,
        roles=frozenset(roles),
        client="192.0.2.7",
    )


@pytest.fixture
def history(sessions: sessionmaker[Session], world: World) -> dict[str, Any]:
    """Six entries of different agencies, cameras, actions and outcomes; and a time between."""
    buk_cam, dong_cam = f"camera:{world.buk_camera}", f"camera:{world.dong_camera}"
    events = [
        AuditEvent("access.live", Outcome.ALLOW, 10, world.city, buk_cam, "crime_prevention",
                   "agreement 3 allows live", "agreement:3", "10.0.0.1",
                   {"legal_basis": "개인정보 보호법 제25조"}),
        AuditEvent("access.playback", Outcome.ALLOW, 20, world.buk, buk_cam, "traffic",
                   "own camera", f"ownership:{world.buk}", "10.0.0.2"),
        AuditEvent("access.live", Outcome.DENY, 30, world.dong, dong_cam, "crime_prevention",
                   "outside the window 22:00–07:00", None, "10.0.0.3"),
        AuditEvent("access.export", Outcome.ALLOW, 40, world.police, buk_cam, "investigation",
                   "=HYPERLINK(\"http://evil\")", "incident:5", "10.0.0.4",
                   {"case_number": "2026-112-77", "recipient": "광주경찰청 수사과"}),
        AuditEvent("agreement.accept", Outcome.OK, 21, world.buk, "agreement:3",
                   details={"owner_agency_id": world.buk, "consumer_agency_id": world.city}),
        AuditEvent("user.disable", Outcome.OK, 1, world.city, "user:30"),
    ]  # fmt: skip
    seqs = []
    middle = None
    for number, event in enumerate(events):
        if number == 3:
            middle = datetime.now(UTC)
        with transaction(sessions) as session:
            seqs.append(record(session, event))
    return {"seqs": seqs, "middle": middle}


def entries(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/audit", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def actions(body: dict[str, Any]) -> list[tuple[str, int | None]]:
    """(action, actor user) of the listed entries, oldest first, without the reads."""
    items = [i for i in reversed(body["items"]) if i["action"] != "audit.read"]
    return [(i["action"], i["actor_user_id"]) for i in items]


# -- who may read ------------------------------------------------------------------------

GUARDED = [
    "/api/audit",
    "/api/audit/export.jsonl",
    "/api/audit/export.csv",
    "/api/audit/verify",
    "/api/ledger.csv",
    "/api/ledger.html",
]


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.AGENCY_ADMIN, Role.SUPERVISOR, Role.PLANNER])
def test_only_auditors_and_system_admins_may_read_and_refusals_are_recorded(
    client: TestClient,
    sign_in: SignIn,
    world: World,
    sessions: sessionmaker[Session],
    role: Role,
) -> None:
    sign_in(principal(10, world.city, role))
    for path in GUARDED:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "auditor or system admin" in response.json()["message"]
    with sessions() as session:
        refused = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "audit.read")))
    assert len(refused) == len(GUARDED)
    assert {(e.outcome, e.actor_user_id, e.client) for e in refused} == {("deny", 10, "192.0.2.7")}


@pytest.mark.usefixtures("history")
def test_the_city_auditor_and_the_system_admin_see_every_entry(
    client: TestClient, sign_in: SignIn, world: World
) -> None:
    everything = [
        ("access.live", 10),
        ("access.playback", 20),
        ("access.live", 30),
        ("access.export", 40),
        ("agreement.accept", 21),
        ("user.disable", 1),
    ]
    sign_in(principal(100, world.city, Role.AUDITOR))
    assert actions(entries(client)) == everything
    sign_in(principal(1, world.dong, Role.SYSTEM_ADMIN))
    assert actions(entries(client)) == everything


@pytest.mark.usefixtures("history")
def test_an_agency_auditor_sees_its_own_people_and_its_own_cameras(
    client: TestClient, sign_in: SignIn, world: World
) -> None:
    sign_in(principal(101, world.buk, Role.AUDITOR))
    assert actions(entries(client)) == [
        ("access.live", 10),  # the city on a 북구 camera
        ("access.playback", 20),
        ("access.export", 40),  # the police on a 북구 camera
        ("agreement.accept", 21),
    ]
    sign_in(principal(102, world.dong, Role.AUDITOR))
    assert actions(entries(client)) == [("access.live", 30)]


# -- filters and pages -------------------------------------------------------------------


def test_filters_narrow_the_entries(
    client: TestClient, sign_in: SignIn, world: World, history: dict[str, Any]
) -> None:
    sign_in(principal(100, world.city, Role.AUDITOR))
    assert actions(entries(client, actor=20)) == [("access.playback", 20)]
    assert [a for a, _ in actions(entries(client, agency=world.police))] == ["access.export"]
    assert actions(entries(client, camera=world.dong_camera)) == [("access.live", 30)]
    assert actions(entries(client, action="access.live")) == [
        ("access.live", 10),
        ("access.live", 30),
    ]
    assert len(actions(entries(client, action="access.*"))) == 4
    assert actions(entries(client, outcome="deny")) == [("access.live", 30)]
    middle = history["middle"].isoformat()
    assert len(actions(entries(client, until=middle))) == 3
    assert [a for a, _ in actions(entries(client, since=middle))] == [
        "access.export",
        "agreement.accept",
        "user.disable",
    ]
    kst = (history["middle"] + timedelta(hours=9)).replace(tzinfo=None).isoformat() + "+09:00"
    assert len(actions(entries(client, since=kst))) == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, "until"),
        ({"action": "DROP TABLE"}, "action"),
        ({"outcome": "maybe"}, "outcome"),
        ({"limit": 0}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"camera": "x"}, "camera"),
    ],
)
def test_bad_filters_are_refused_naming_the_field(
    client: TestClient, sign_in: SignIn, world: World, params: dict[str, Any], field: str
) -> None:
    sign_in(principal(100, world.city, Role.AUDITOR))
    response = client.get("/api/audit", params=params)
    assert response.status_code == 422
    assert response.json()["message"].startswith(field)


@pytest.mark.usefixtures("history")
def test_pages_are_newest_first_and_reading_is_itself_recorded(
    client: TestClient, sign_in: SignIn, world: World
) -> None:
    sign_in(principal(100, world.city, Role.AUDITOR))
    first = entries(client, limit=2)
    assert first["total"] == 7 and first["limit"] == 2  # six, and this read
    read, newest = first["items"]
    assert (read["action"], read["actor_user_id"], read["outcome"]) == ("audit.read", 100, "ok")
    assert read["details"]["what"] == "entries" and read["client"] == "192.0.2.7"
    assert newest["action"] == "user.disable"
    second = entries(client, limit=2, offset=2, action="access.*")
    assert [i["seq"] for i in second["items"]] == sorted(
        (i["seq"] for i in second["items"]), reverse=True
    )
    assert second["total"] == 4 and len(second["items"]) == 2
    this_read, previous_read = entries(client, limit=2)["items"]
    assert this_read["details"] == {"filters": {}, "what": "entries"}
    assert previous_read["details"] == {"filters": {"action": "access.*"}, "what": "entries"}


# -- exports -----------------------------------------------------------------------------


@pytest.mark.usefixtures("history")
def test_the_jsonl_export_can_be_checked_by_hand(
    client: TestClient, sign_in: SignIn, world: World
) -> None:
    sign_in(principal(100, world.city, Role.AUDITOR))
    response = client.get("/api/audit/export.jsonl")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert "attachment" in response.headers["content-disposition"]
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [line["action"] for line in lines][-1] == "audit.read"
    previous = "0" * 64
    for line in lines:
        fields = {**line, "details": json.dumps(line["details"], ensure_ascii=False)}
        fields["time"] = datetime.fromisoformat(line["time"].replace("Z", "+00:00"))
        by_hand = reference_encoding(Fields(**{k: fields[k] for k in Fields._fields}))
        assert hashlib.sha256(by_hand).hexdigest() == line["hash"]
        assert line["prev_hash"] == previous
        previous = line["hash"]


@pytest.mark.usefixtures("history")
def test_the_csv_export_opens_in_a_spreadsheet_without_running_formulas(
    client: TestClient, sign_in: SignIn, world: World
) -> None:
    sign_in(principal(100, world.city, Role.AUDITOR))
    response = client.get("/api/audit/export.csv", params={"action": "access.*"})
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in response.content and b"\n" not in response.content.replace(b"\r\n", b"")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["action"] for r in rows] == ["access.live", "access.playback", "access.live",
                                           "access.export"]  # fmt: skip
    assert rows[3]["reason"] == '\'=HYPERLINK("http://evil")'
    assert json.loads(rows[3]["details"]) == {
        "case_number": "2026-112-77",
        "recipient": "광주경찰청 수사과",
    }


def test_an_agency_auditor_exports_only_what_it_may_see(
    client: TestClient, sign_in: SignIn, world: World, history: dict[str, Any]
) -> None:
    sign_in(principal(102, world.dong, Role.AUDITOR))
    lines = client.get("/api/audit/export.jsonl").text.splitlines()
    assert [json.loads(line)["action"] for line in lines] == ["access.live", "audit.read"]


# -- verify ------------------------------------------------------------------------------


@pytest.mark.usefixtures("history")
def test_verify_reports_an_intact_log_and_then_the_tampering(
    client: TestClient, sign_in: SignIn, world: World, raw: RawDatabase
) -> None:
    sign_in(principal(100, world.city, Role.AUDITOR))
    report = client.get("/api/audit/verify").json()
    assert report["intact"] is True and report["entries"] == 7 and report["findings"] == []
    raw.drop_triggers()
    raw.update_entry(2, outcome="deny")
    report = client.get("/api/audit/verify").json()
    assert report["intact"] is False
    assert report["findings"][0] == {
        "kind": "edited",
        "seq": 2,
        "message": "entry 2 was edited: its contents no longer match its hash",
    }
