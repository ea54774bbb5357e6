"""The PIPA ledger (개인영상정보 관리대장), a view over the audit log.

Article 25 of the Personal Information Protection Act and its guidance ask the controller of
video to record every use, provision, viewing by the data subject and destruction. Each
ledger row is one audit entry; nothing is stored twice, so the ledger is as tamper-evident as
the log.

Which entries are rows, and their 구분 (only allowed or completed ones, outcome allow / ok):

| action              | 구분                                                                |
|---------------------|---------------------------------------------------------------------|
| access.live         | 이용 when the actor's agency owns the camera (or the grant is        |
| access.playback     | "ownership:…"), otherwise 제공 (an agreement's or incident's user)   |
| access.export       | 제공 (a copy leaves the system)                                      |
| subject.view        | 열람 (a data subject sees footage of themselves)                     |
| recording.destroy   | 파기 (retention expiry or a deletion on request)                     |

The row belongs to the ledger of the camera's owner (``owner_agency_id``, filled in by
``record`` for targets "camera:<id>"). The columns come from the entry and these keys of its
``details``, which the packages that record those actions should supply:

| column           | from                                                                       |
|------------------|----------------------------------------------------------------------------|
| 일시             | the entry's time, in Korea Standard Time                                   |
| 파일명·형태      | ``file`` (name, or list of names) else the camera; ``form`` else by action |
| 이용·제공받는 자 | ``recipient`` else the actor's agency and ``actor_name`` (else user #id)   |
| 목적·사유        | the purpose (Korean name), ``case_number``, ``purpose_text``               |
| 법령상 근거      | ``legal_basis`` (for an agreement: its legal basis text)                   |
| 기간             | ``period`` (text) else ``footage_from`` ~ ``footage_until`` (ISO times)    |
| 파기 일시        | ``destroyed_at`` (ISO time); for 파기 rows the entry's time by default     |
| 파기 담당자      | ``destroyed_by``; for 파기 rows the actor, or automatic retention expiry   |
| 확인자           | ``confirmer``                                                              |
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from argus.audit.export import csv_lines
from argus.audit.models import AuditEntry, AuditHead
from argus.audit.query import as_utc
from argus.errors import FieldError
from argus.registry.models import Agency, Camera, Site

KST = timezone(timedelta(hours=9), "KST")
PAGE = 1000


class LedgerKind(StrEnum):
    USE = "이용"
    PROVIDE = "제공"
    VIEW = "열람"
    DESTROY = "파기"


ACCESS_ACTIONS = ("access.live", "access.playback")
LEDGER_ACTIONS = (*ACCESS_ACTIONS, "access.export", "subject.view", "recording.destroy")
COUNTED_OUTCOMES = ("allow", "ok")
DEFAULT_FORM = {
    "access.live": "실시간 영상",
    "access.playback": "녹화 영상 재생",
    "access.export": "영상 파일 반출",
    "subject.view": "녹화 영상 열람",
    "recording.destroy": "녹화 영상",
}
PURPOSE_KOREAN = {
    "crime_prevention": "범죄예방",
    "disaster": "재난",
    "accident": "사고",
    "missing_person": "실종자",
    "investigation": "수사",
    "traffic": "교통",
}
HEADER = (
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
    "관리기관",
    "감사 로그 번호",
)


def kind_of(entry: AuditEntry) -> LedgerKind | None:
    """The entry's 구분, or None when it is not a ledger row."""
    if entry.outcome not in COUNTED_OUTCOMES:
        return None
    if entry.action in ACCESS_ACTIONS:
        own = entry.owner_agency_id is not None and entry.actor_agency_id == entry.owner_agency_id
        if own or (entry.grant or "").startswith("ownership:"):
            return LedgerKind.USE
        return LedgerKind.PROVIDE
    return {
        "access.export": LedgerKind.PROVIDE,
        "subject.view": LedgerKind.VIEW,
        "recording.destroy": LedgerKind.DESTROY,
    }.get(entry.action)


@dataclass(frozen=True)
class LedgerRow:
    kind: LedgerKind
    time: str
    file: str
    recipient: str
    purpose: str
    legal_basis: str
    period: str
    destroyed_at: str
    destroyed_by: str
    confirmer: str
    owner: str
    seq: int

    def cells(self) -> tuple[str, ...]:
        return (
            self.kind.value,
            self.time,
            self.file,
            self.recipient,
            self.purpose,
            self.legal_basis,
            self.period,
            self.destroyed_at,
            self.destroyed_by,
            self.confirmer,
            self.owner,
            str(self.seq),
        )


def korean_time(value: datetime | str | None) -> str:
    """``2026-03-02 06:04:05`` in KST; ISO text is parsed; unreadable text is kept as it is."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    else:
        parsed = value
    return as_utc(parsed).astimezone(KST).strftime("%Y-%m-%d %H:%M:%S")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


@dataclass
class Names:
    """Agency, camera and user labels for a page of entries."""

    agencies: dict[int, str]
    cameras: dict[int, str]

    @classmethod
    def load(cls, session: Session, entries: list[AuditEntry]) -> Names:
        agency_ids = {e.actor_agency_id for e in entries} | {e.owner_agency_id for e in entries}
        agency_ids.discard(None)
        camera_ids = {
            int(e.target.split(":", 1)[1])
            for e in entries
            if e.target and e.target.startswith("camera:") and e.target[7:].isdigit()
        }
        agencies = dict(
            session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(agency_ids))).all()
        )
        cameras: dict[int, str] = {}
        stmt = (
            select(Camera.id, Camera.name, Site.road_address, Site.lot_address)
            .join(Site, Site.id == Camera.site_id)
            .where(Camera.id.in_(camera_ids))
        )
        for camera_id, name, road, lot in session.execute(stmt):
            place = name or road or lot
            cameras[camera_id] = f"카메라 {camera_id}" + (f" ({place})" if place else "")
        return cls(agencies, cameras)

    def agency(self, agency_id: int | None) -> str:
        if agency_id is None:
            return ""
        return self.agencies.get(agency_id, f"기관 #{agency_id}")

    def camera(self, target: str | None) -> str:
        if target and target.startswith("camera:") and target[7:].isdigit():
            return self.cameras.get(int(target[7:]), f"카메라 {target[7:]}")
        return target or ""


def _person(entry: AuditEntry, details: dict[str, Any]) -> str:
    if details.get("actor_name"):
        return _text(details["actor_name"])
    return "" if entry.actor_user_id is None else f"사용자 #{entry.actor_user_id}"


def _purpose(entry: AuditEntry, details: dict[str, Any]) -> str:
    parts = []
    if entry.purpose:
        label = PURPOSE_KOREAN.get(entry.purpose)
        parts.append(f"{label} ({entry.purpose})" if label else entry.purpose)
    if details.get("case_number"):
        parts.append(f"사건번호 {_text(details['case_number'])}")
    if details.get("purpose_text"):
        parts.append(_text(details["purpose_text"]))
    return " · ".join(parts)


def _period(details: dict[str, Any]) -> str:
    if details.get("period"):
        return _text(details["period"])
    start, end = details.get("footage_from"), details.get("footage_until")
    if start or end:
        return f"{korean_time(_text(start))} ~ {korean_time(_text(end))}"
    return ""


def ledger_row(entry: AuditEntry, names: Names) -> LedgerRow | None:
    kind = kind_of(entry)
    if kind is None:
        return None
    details: dict[str, Any] = json.loads(entry.details)
    file = _text(details.get("file")) or names.camera(entry.target)
    form = _text(details.get("form")) or DEFAULT_FORM.get(entry.action, "")
    person = _person(entry, details)
    if kind is LedgerKind.DESTROY:
        recipient = _text(details.get("recipient"))
        destroyed_at = korean_time(details.get("destroyed_at") or entry.time)
        destroyed_by = _text(details.get("destroyed_by")) or person or "자동 파기 (보관기간 경과)"
    else:
        who = [names.agency(entry.actor_agency_id), person]
        recipient = _text(details.get("recipient")) or " ".join(w for w in who if w)
        destroyed_at = korean_time(details.get("destroyed_at"))
        destroyed_by = _text(details.get("destroyed_by"))
    return LedgerRow(
        kind=kind,
        time=korean_time(entry.time),
        file=f"{file} · {form}" if file and form else file or form,
        recipient=recipient,
        purpose=_purpose(entry, details),
        legal_basis=_text(details.get("legal_basis")),
        period=_period(details),
        destroyed_at=destroyed_at,
        destroyed_by=destroyed_by,
        confirmer=_text(details.get("confirmer")),
        owner=names.agency(entry.owner_agency_id),
        seq=entry.seq,
    )


@dataclass(frozen=True)
class LedgerQuery:
    agency: int | None = None  # the owner agency; None for all
    since: datetime | None = None  # inclusive; without an offset: UTC
    until: datetime | None = None  # exclusive

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, as_utc(value))
        if self.since and self.until and self.since >= self.until:
            raise FieldError("until", "must be later than since")


def ledger_rows(sessions: sessionmaker[Session], query: LedgerQuery) -> Iterator[LedgerRow]:
    """The ledger's rows, oldest first, read page by page."""
    after = 0
    while True:
        with sessions() as session:
            stmt = (
                select(AuditEntry)
                .where(
                    AuditEntry.seq > after,
                    AuditEntry.action.in_(LEDGER_ACTIONS),
                    AuditEntry.outcome.in_(COUNTED_OUTCOMES),
                )
                .order_by(AuditEntry.seq)
                .limit(PAGE)
            )
            if query.agency is not None:
                stmt = stmt.where(AuditEntry.owner_agency_id == query.agency)
            if query.since is not None:
                stmt = stmt.where(AuditEntry.time >= query.since)
            if query.until is not None:
                stmt = stmt.where(AuditEntry.time < query.until)
            entries = list(session.scalars(stmt))
            names = Names.load(session, entries)
            rows = [ledger_row(entry, names) for entry in entries]
        yield from (row for row in rows if row is not None)
        if len(entries) < PAGE:
            return
        after = entries[-1].seq


# -- CSV and HTML ------------------------------------------------------------------------


def ledger_csv(rows: Iterable[LedgerRow]) -> Iterator[str]:
    """CSV that Excel opens as Korean text: UTF-8 with BOM, CRLF, a Korean header."""
    return csv_lines(HEADER, (row.cells() for row in rows))


@dataclass(frozen=True)
class LedgerTitle:
    agency: str  # "광주광역시 북구", or "전체 기관"
    since: datetime | None
    until: datetime | None
    made_at: datetime
    head_seq: int
    head_hash: str


def ledger_title(session: Session, query: LedgerQuery, made_at: datetime) -> LedgerTitle:
    agency = "전체 기관"
    if query.agency is not None:
        name = session.scalar(select(Agency.name).where(Agency.id == query.agency))
        agency = name or f"기관 #{query.agency}"
    head = session.execute(select(AuditHead.last_seq, AuditHead.last_hash)).first()
    head_seq, head_hash = (int(head[0]), str(head[1])) if head else (0, "")
    return LedgerTitle(agency, query.since, query.until, made_at, head_seq, head_hash)


_STYLE = """
@page { size: A4 landscape; margin: 10mm; }
* { box-sizing: border-box; }
body { margin: 0; color: #000; background: #fff;
  font-family: "Noto Sans KR", "Noto Sans CJK KR", "Malgun Gothic", "Apple SD Gothic Neo",
    sans-serif; font-size: 8.5pt; }
h1 { font-size: 15pt; text-align: center; margin: 0 0 4mm; letter-spacing: 0.3em; }
.meta { display: flex; justify-content: space-between; margin-bottom: 2mm; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { border: 0.6pt solid #000; padding: 1mm 1.2mm; vertical-align: top;
  overflow-wrap: anywhere; }
th { background: #eee; font-weight: bold; text-align: center; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
td.c { text-align: center; }
.note { margin-top: 2mm; font-size: 7.5pt; color: #333; }
col.k { width: 4%; } col.t { width: 8.5%; } col.f { width: 13%; } col.r { width: 11%; }
col.p { width: 10%; } col.l { width: 10%; } col.d { width: 9%; } col.x { width: 8%; }
col.y { width: 7%; } col.z { width: 6%; } col.o { width: 8.5%; } col.s { width: 5%; }
@media screen { body { margin: 12mm; } }
"""
_COLS = "ktfrpldxyzos"  # one class per column of HEADER


def ledger_html(rows: Iterable[LedgerRow], title: LedgerTitle) -> Iterator[str]:
    """A printable page (A4 landscape), self-contained: no scripts, fonts or images."""
    esc = html.escape
    period = " ~ ".join([korean_time(title.since) or "처음", korean_time(title.until) or "현재"])
    yield (
        '<!DOCTYPE html>\n<html lang="ko">\n<head>\n<meta charset="utf-8">\n'
        f"<title>개인영상정보 관리대장 — {esc(title.agency)}</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n"
        "<h1>개인영상정보 관리대장</h1>\n"
        f'<div class="meta"><span>관리기관: {esc(title.agency)}</span>'
        f"<span>기간: {esc(period)}</span>"
        f"<span>작성: {esc(korean_time(title.made_at))} (KST)</span></div>\n"
        "<table>\n<colgroup>"
        + "".join(f'<col class="{c}">' for c in _COLS)
        + "</colgroup>\n<thead><tr>"
        + "".join(f"<th>{esc(h)}</th>" for h in HEADER)
        + "</tr></thead>\n<tbody>\n"
    )
    count = 0
    for row in rows:
        count += 1
        cells = row.cells()
        yield (
            "<tr>"
            + "".join(
                f'<td class="c">{esc(cell)}</td>' if i in (0, 11) else f"<td>{esc(cell)}</td>"
                for i, cell in enumerate(cells)
            )
            + "</tr>\n"
        )
    if count == 0:
        yield f'<tr><td class="c" colspan="{len(HEADER)}">기록 없음</td></tr>\n'
    yield (
        "</tbody>\n</table>\n"
        f'<p class="note">{count}건. 일시는 한국 표준시(KST). 이 대장은 감사 로그에서 만들어졌으며 '
        f"작성 시점의 감사 로그는 {title.head_seq}번까지, 해시 {esc(title.head_hash[:16])}…"
        "입니다. 감사 로그 번호로 각 행의 원 기록을 확인할 수 있습니다"
        " ('argus audit verify').</p>\n</body>\n</html>\n"
    )
