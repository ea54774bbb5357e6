"""The PIPA ledger (개인영상정보 관리대장): which entries are rows, their columns, CSV and HTML."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from argus.audit.events import AuditEvent, Outcome
from argus.audit.ledger import (
    HEADER,
    LEDGER_ACTIONS,
    LedgerKind,
    LedgerQuery,
    LedgerRow,
    LedgerTitle,
    kind_of,
    ledger_csv,
    ledger_html,
    ledger_rows,
)
from argus.audit.log import record
from argus.audit.models import AuditEntry
from argus.db import transaction
from argus.identity.deps import current_principal
from argus.identity.principal import Principal, Role
from tests.audit.conftest import World


def write(sessions: sessionmaker[Session], *events: AuditEvent) -> None:
    for event in events:
        with transaction(sessions) as session:
            record(session, event)


@pytest.fixture
def uses(sessions: sessionmaker[Session], world: World) -> None:
    buk_cam, dong_cam = f"camera:{world.buk_camera}", f"camera:{world.dong_camera}"
    write(
        sessions,
        AuditEvent("access.playback", Outcome.ALLOW, 20, world.buk, buk_cam, "traffic",
                   grant=f"ownership:{world.buk}",
                   details={"actor_name": "김주무관", "legal_basis": "도로교통법 제143조",
                            "footage_from": "2026-03-01T00:00:00Z",
                            "footage_until": "2026-03-01T01:30:00Z"}),
        AuditEvent("access.live", Outcome.ALLOW, 10, world.city, buk_cam, "crime_prevention",
                   grant="agreement:3",
                   details={"legal_basis": "개인정보 보호법 제25조 제1항, 협약 제3호"}),
        AuditEvent("access.live", Outcome.DENY, 11, world.city, buk_cam, "crime_prevention",
                   "outside the window 22:00–07:00"),
        AuditEvent("access.export", Outcome.ALLOW, 40, world.police, buk_cam, "investigation",
                   grant="incident:5",
                   details={"case_number": "2026-112-77", "recipient": "광주경찰청 수사과 <b>",
                            "file": ["cam_0301_0900.mp4", "cam_0301_0930.mp4"],
                            "form": "MP4 (마스킹 처리)", "period": "제공일부터 30일",
                            "confirmer": "박팀장"}),
        AuditEvent("subject.view", Outcome.OK, 21, world.dong, dong_cam,
                   details={"recipient": "정보주체 홍길동", "purpose_text": "본인 영상 열람 청구"}),
        AuditEvent("recording.destroy", Outcome.OK, None, None, dong_cam,
                   details={"file": "dong_0201.mp4", "confirmer": "이과장"}),
        AuditEvent("agreement.accept", Outcome.OK, 21, world.buk, "agreement:3",
                   details={"owner_agency_id": world.buk}),
    )  # fmt: skip


def rows_of(sessions: sessionmaker[Session], **query: Any) -> list[LedgerRow]:
    return list(ledger_rows(sessions, LedgerQuery(**query)))


@pytest.mark.usefixtures("uses")
def test_uses_provisions_views_and_destructions_are_rows_with_their_fields(
    sessions: sessionmaker[Session], world: World
) -> None:
    rows = rows_of(sessions)
    assert [r.kind for r in rows] == [
        LedgerKind.USE,
        LedgerKind.PROVIDE,
        LedgerKind.PROVIDE,
        LedgerKind.VIEW,
        LedgerKind.DESTROY,
    ]
    own, agreement, export, view, destroy = rows
    assert own.file == f"카메라 {world.buk_camera} (북구청 앞) · 녹화 영상 재생"
    assert own.recipient == "광주광역시 북구 김주무관"
    assert own.purpose == "교통 (traffic)"
    assert own.legal_basis == "도로교통법 제143조"
    assert own.period == "2026-03-01 09:00:00 ~ 2026-03-01 10:30:00"  # KST
    assert own.owner == "광주광역시 북구"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", own.time)
    assert agreement.recipient == "광주광역시 사용자 #10"
    assert agreement.file.endswith("· 실시간 영상")
    assert export.file == "cam_0301_0900.mp4, cam_0301_0930.mp4 · MP4 (마스킹 처리)"
    assert export.recipient == "광주경찰청 수사과 <b>"
    assert export.purpose == "수사 (investigation) · 사건번호 2026-112-77"
    assert (export.period, export.confirmer) == ("제공일부터 30일", "박팀장")
    assert (export.destroyed_at, export.destroyed_by) == ("", "")
    assert view.recipient == "정보주체 홍길동" and view.purpose == "본인 영상 열람 청구"
    assert destroy.file == "dong_0201.mp4 · 녹화 영상"
    assert destroy.destroyed_at == destroy.time
    assert destroy.destroyed_by == "자동 파기 (보관기간 경과)"
    assert destroy.confirmer == "이과장" and destroy.owner == "광주광역시 동구"


@pytest.mark.usefixtures("uses")
def test_the_ledger_of_one_agency_holds_the_uses_of_its_own_cameras(
    sessions: sessionmaker[Session], world: World
) -> None:
    assert [r.kind for r in rows_of(sessions, agency=world.dong)] == [
        LedgerKind.VIEW,
        LedgerKind.DESTROY,
    ]
    assert len(rows_of(sessions, agency=world.buk)) == 3
    assert rows_of(sessions, agency=world.police) == []
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert rows_of(sessions, since=later) == []
    assert len(rows_of(sessions, until=later)) == 5


def entry(**values: Any) -> AuditEntry:
    base: dict[str, Any] = {"outcome": "allow", "action": "access.live", "details": "{}"}
    return AuditEntry(**{**base, **values})


ids = st.none() | st.integers(min_value=1, max_value=5)


@given(
    action=st.sampled_from([*LEDGER_ACTIONS, "agreement.accept", "auth.login", "access.ptz"]),
    outcome=st.sampled_from([o.value for o in Outcome]),
    actor=ids,
    owner=ids,
    grant=st.none() | st.sampled_from(["ownership:1", "agreement:2", "incident:3"]),
)
def test_only_what_happened_to_video_is_in_the_ledger(
    action: str, outcome: str, actor: int | None, owner: int | None, grant: str | None
) -> None:
    kind = kind_of(
        entry(
            action=action,
            outcome=outcome,
            actor_agency_id=actor,
            owner_agency_id=owner,
            grant=grant,
        )
    )
    if outcome in ("deny", "error") or action not in LEDGER_ACTIONS:
        assert kind is None
    elif action in ("access.live", "access.playback"):
        own = owner is not None and actor == owner
        by_ownership = grant is not None and grant.startswith("ownership:")
        assert kind is (LedgerKind.USE if own or by_ownership else LedgerKind.PROVIDE)
    else:
        assert kind is not None


def sample_row(**changes: Any) -> LedgerRow:
    values: dict[str, Any] = {
        "kind": LedgerKind.PROVIDE,
        "time": "2026-03-01 09:00:00",
        "file": "a.mp4, b.mp4 · MP4",
        "recipient": "광주경찰청 <script>alert(1)</script>",
        "purpose": "수사",
        "legal_basis": "형사소송법 제199조",
        "period": "30일",
        "destroyed_at": "",
        "destroyed_by": "",
        "confirmer": "=1+1",
        "owner": "광주광역시 북구",
        "seq": 12,
    }
    values.update(changes)
    return LedgerRow(**values)


def test_the_csv_is_what_excel_opens_as_korean_text() -> None:
    data = "".join(ledger_csv([sample_row(), sample_row(kind=LedgerKind.DESTROY)])).encode()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.split(b"\r\n")
    assert lines[-1] == b"" and all(b"\n" not in line for line in lines)
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert tuple(table[0]) == HEADER
    assert table[0][:10] == [
        "구분",
        "일시",
        "파일명·형태",
        "이용·제공받는 자",
        "목적·사유",
        "법령상 근거",
        "기간",
        "파기 일시",
        "파기 담당자",
        "확인자",
    ]
    assert table[1][0] == "제공" and table[2][0] == "파기"
    assert table[1][9] == "'=1+1"  # shown as text, not run as a formula
    assert table[1][3] == "광주경찰청 <script>alert(1)</script>"


def title(**changes: Any) -> LedgerTitle:
    values: dict[str, Any] = {
        "agency": "광주광역시 북구",
        "since": datetime(2026, 3, 1, tzinfo=UTC),
        "until": None,
        "made_at": datetime(2026, 3, 31, 6, tzinfo=UTC),
        "head_seq": 4321,
        "head_hash": "ab" * 32,
    }
    values.update(changes)
    return LedgerTitle(**values)


def test_the_html_page_prints_on_a4_landscape_without_anything_from_outside() -> None:
    page = "".join(ledger_html([sample_row()], title()))
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "@page { size: A4 landscape" in page
    for outside in ("<script", "<link", "src=", "url(", "@import", "http"):
        assert outside not in page, outside
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "관리기관: 광주광역시 북구" in page and "4321번" in page
    assert "2026-03-01 09:00:00 ~ 현재" in page
    assert all(f"<th>{h}</th>" in page for h in HEADER)
    empty = "".join(ledger_html([], title(agency="전체 기관")))
    assert "기록 없음" in empty and "0건" in empty


# -- the API ----------------------------------------------------------------------------


def as_auditor(client: TestClient, agency: int, role: Role = Role.AUDITOR) -> None:
    who = Principal(user_id=100, username="auditor", agency_id=agency, roles=frozenset({role}))
    client.app.dependency_overrides[current_principal] = lambda: who  # type: ignore[attr-defined]


def ledger_table(client: TestClient, **params: Any) -> list[list[str]]:
    response = client.get("/api/ledger.csv", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))[1:]


@pytest.mark.usefixtures("uses")
def test_an_agency_auditor_gets_its_own_ledger_and_no_other(
    client: TestClient, world: World
) -> None:
    as_auditor(client, world.dong)
    assert [row[0] for row in ledger_table(client)] == ["열람", "파기"]
    assert [row[0] for row in ledger_table(client, agency=world.dong)] == ["열람", "파기"]
    refused = client.get("/api/ledger.csv", params={"agency": world.buk})
    assert refused.status_code == 403 and "own agency" in refused.json()["message"]
    missing = client.get("/api/ledger.html", params={"agency": 424242})
    assert missing.status_code == 404 and "424242" in missing.json()["message"]


@pytest.mark.usefixtures("uses")
def test_the_city_auditor_gets_any_ledger_or_all_of_them(client: TestClient, world: World) -> None:
    as_auditor(client, world.city)
    assert len(ledger_table(client)) == 5
    assert [row[0] for row in ledger_table(client, agency=world.buk)] == ["이용", "제공", "제공"]
    page = client.get("/api/ledger.html", params={"agency": world.buk})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "관리기관: 광주광역시 북구" in page.text and page.text.count("<tr><td") == 3
    everything = client.get("/api/ledger.html").text
    assert "관리기관: 전체 기관" in everything
    bad = client.get("/api/ledger.csv", params={"since": "2026-03-02", "until": "2026-03-01"})
    assert bad.status_code == 422 and bad.json()["message"].startswith("until")
