"""Evidence export: request → owners' approval → cut and signed → an expiring download link.

1. **Request.** Cameras and time ranges, a purpose, the legal basis, the recipient and (for an
   investigation) the case number. Every range is checked (a known camera, not in the future,
   within retention, wholly recorded: a range that spans a gap is refused with the gaps, for
   the requester to split) and every camera goes through ``authorize`` with the ``export``
   capability. A refusal changes nothing but the audit log, which records it.
2. **Approval.** One approval per owner agency, by one of its agency admins. Where the requester
   belongs to the owner and ``export_auto_approve_own`` is set, that approval is automatic.
3. **Build** (once every owner approved). One MP4 per camera and range, cut from the recordings
   without re-encoding; then the ``steps`` (each may rewrite a file in place: the slot where
   face and plate masking will go; none is built yet); then the manifest with every file's
   SHA-256, signed with the deployment's Ed25519 export key; then the folder becomes one zip
   (``export-{id}.zip`` in ``export_dir``; ``directory`` of the request row names it).
4. **Download.** The requester asks for a link (valid ``export_link_hours``, never past the
   export's own expiry); each download through it is the provision, written to each camera
   owner's PIPA ledger as 제공 (``access.export``). After ``expires_at`` the files are removed.

Every step is audited: export.request, export.approve / export.refuse, export.ready /
export.failed, export.link, access.export, export.expire.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from argus.audit.events import AuditEvent, Outcome
from argus.audit.log import record, record_many
from argus.audit.query import as_utc
from argus.config import Settings
from argus.db import transaction, utcnow
from argus.durable import fsync_dir
from argus.errors import ConflictError, FieldError, ForbiddenError, NotFoundError
from argus.evidence.cut import CutFile, cut
from argus.evidence.links import LinkSigner
from argus.evidence.manifest import file_entry, load_export_key, write_manifest
from argus.evidence.models import ExportApproval, ExportRequest
from argus.identity.models import User
from argus.identity.principal import Principal, Role
from argus.recording.playback import check_range, timeline
from argus.recording.volumes import volumes_of
from argus.registry.models import Agency, Camera
from argus.sharing.access import AccessDenied
from argus.sharing.service import SharingService
from argus.sharing.vocab import PURPOSES_NEEDING_CASE_NUMBER, parse_purpose

log = logging.getLogger(__name__)

MAX_ITEMS = 16
MAX_SPAN = timedelta(hours=24)
KEEP_FOR = timedelta(days=7)
"""How long a built export stays on disk (its links never outlive it)."""


class FileStep(Protocol):
    """A processing step run on every cut file before it is hashed and signed (masking)."""

    name: str

    def __call__(self, path: Path) -> None: ...


@dataclass(frozen=True, slots=True)
class ItemIn:
    camera_id: int
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class RequestIn:
    items: Sequence[ItemIn]
    purpose: str | None
    legal_basis: str
    recipient: str
    case_number: str | None = None


def _text(value: str | None, field: str, what: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise FieldError(field, f"an export needs {what}", "body")
    if len(text) > limit:
        raise FieldError(field, f"at most {limit} characters", "body")
    return text


class ExportService:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        sharing: SharingService,
        *,
        steps: Sequence[FileStep] = (),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.sharing = sharing
        self.steps = tuple(steps)
        self.clock = clock
        self.volumes = {v.name: v for v in volumes_of(settings)}
        self.links = LinkSigner.of(settings)
        self.root = settings.exports_path
        self._building: set[int] = set()
        self._lock = threading.Lock()

    # -- request ------------------------------------------------------------------------

    def request(self, principal: Principal, wanted: RequestIn) -> dict[str, Any]:
        """A new export request (403 with the reason if authorize refuses a camera; 422 for a
        bad field; 404 for an unknown camera). Returns the request as `describe` shows it."""
        purpose = parse_purpose(wanted.purpose).value
        legal_basis = _text(wanted.legal_basis, "legal_basis", "its legal basis", 2000)
        recipient = _text(wanted.recipient, "recipient", "its recipient", 200)
        case_number = (wanted.case_number or "").strip() or None
        if purpose in PURPOSES_NEEDING_CASE_NUMBER and case_number is None:
            raise FieldError("case_number", "an investigation names its case number", "body")
        if not 1 <= len(wanted.items) <= MAX_ITEMS:
            raise FieldError("items", f"give 1 to {MAX_ITEMS} cameras and ranges", "body")
        now = self.clock()
        owners: dict[int, int] = {}
        items: list[dict[str, Any]] = []
        with self.sessions() as session:
            for index, item in enumerate(wanted.items):
                start, end = as_utc(item.start), as_utc(item.end)
                field = f"items[{index}]"
                try:
                    camera = check_range(session, item.camera_id, start, end, now, limit=MAX_SPAN)
                except FieldError as exc:
                    raise FieldError(field, exc.message, "body") from None
                line = timeline(session, item.camera_id, start, end)
                if not line.recorded:
                    raise FieldError(
                        field, f"camera {item.camera_id} recorded nothing in this range", "body"
                    )
                if line.gaps:
                    gaps = ", ".join(
                        f"{g.start.isoformat()} ~ {g.end.isoformat()}" for g in line.gaps[:5]
                    )
                    raise FieldError(
                        field,
                        f"the range spans {len(line.gaps)} stretches without recordings "
                        f"({gaps}); ask for the recorded stretches on their own",
                        "body",
                    )
                owners[item.camera_id] = camera.owner_id
                items.append(
                    {
                        "camera_id": item.camera_id,
                        "from": start.isoformat(),
                        "until": end.isoformat(),
                    }
                )
        for camera_id in owners:
            decision = self.sharing.decide(
                principal,
                camera_id,
                "export",
                purpose,
                case_number=case_number,
                action="export.authorize",
                extra={"recipient": recipient},
            )
            if not decision.allowed:
                raise AccessDenied(decision)
        auto = self.settings.export_auto_approve_own
        with transaction(self.sessions) as session:
            row = ExportRequest(
                requester_id=principal.user_id,
                requester_agency_id=principal.agency_id,
                items=items,
                purpose=purpose,
                legal_basis=legal_basis,
                recipient=recipient,
                case_number=case_number,
                state="pending",
            )
            session.add(row)
            session.flush()
            first_owner = min(owners.values())
            events = [self._event(principal, "export.request", row, owner_agency_id=first_owner)]
            for owner in sorted(set(owners.values())):
                automatic = auto and owner == principal.agency_id
                session.add(
                    ExportApproval(
                        export_id=row.id,
                        owner_agency_id=owner,
                        state="approved" if automatic else "pending",
                        automatic=automatic,
                        decided_by=principal.user_id if automatic else None,
                        decided_at=now if automatic else None,
                        reason="the requester's own agency's cameras" if automatic else None,
                    )
                )
                if automatic:
                    events.append(
                        self._event(
                            principal,
                            "export.approve",
                            row,
                            automatic=True,
                            owner_agency_id=owner,
                        )
                    )
            session.flush()
            self._settle(session, row)
            record_many(session, events)
            export_id = row.id
        return self.describe(principal, export_id)

    def _event(
        self,
        principal: Principal | None,
        action: str,
        row: ExportRequest,
        session: Session | None = None,
        **details: Any,
    ) -> AuditEvent:
        """An audit event of the export. It counts to the requester's agency (the actor) and to
        the owner of its cameras (the first owner, for an export spanning several), so that both
        agencies' auditors read it."""
        if "owner_agency_id" not in details and session is not None:
            details["owner_agency_id"] = session.scalar(
                select(ExportApproval.owner_agency_id)
                .where(ExportApproval.export_id == row.id)
                .order_by(ExportApproval.owner_agency_id)
                .limit(1)
            )
        # the system's own steps (built, failed, expired) count to the requester's agency
        return AuditEvent(
            action=action,
            outcome=Outcome.OK,
            actor_user_id=principal.user_id if principal else None,
            actor_agency_id=principal.agency_id if principal else row.requester_agency_id,
            target=f"export:{row.id}",
            purpose=row.purpose,
            client=principal.client if principal else None,
            details={
                "items": row.items,
                "recipient": row.recipient,
                "legal_basis": row.legal_basis,
                "case_number": row.case_number,
                **details,
            },
        )

    def _settle(self, session: Session, row: ExportRequest) -> None:
        states = set(
            session.scalars(select(ExportApproval.state).where(ExportApproval.export_id == row.id))
        )
        if "refused" in states:
            row.state = "refused"
        elif states == {"approved"}:
            row.state = "approved"

    # -- approval -----------------------------------------------------------------------

    def decide(
        self, principal: Principal, export_id: int, approve: bool, reason: str | None
    ) -> dict[str, Any]:
        """An owner agency's admin approves or refuses (a refusal says why)."""
        if not principal.has(Role.AGENCY_ADMIN):
            raise ForbiddenError("only an agency admin of the cameras' owner approves exports")
        note = (reason or "").strip() or None
        if not approve and note is None:
            raise FieldError("reason", "say why the export is refused", "body")
        with transaction(self.sessions) as session:
            row = self._row(session, export_id)
            approval = session.scalar(
                select(ExportApproval).where(
                    ExportApproval.export_id == export_id,
                    ExportApproval.owner_agency_id == principal.agency_id,
                )
            )
            if approval is None:
                raise ForbiddenError(
                    f"export {export_id} holds no camera of your agency: only the owners approve"
                )
            if row.state != "pending" or approval.state != "pending":
                raise ConflictError(f"export {export_id} is {row.state}: nothing to decide")
            approval.state = "approved" if approve else "refused"
            approval.decided_by = principal.user_id
            approval.decided_at = self.clock()
            approval.reason = note
            session.flush()
            self._settle(session, row)
            if row.state == "refused":
                row.reason = f"refused by agency {principal.agency_id}: {note}"
            event = self._event(
                principal,
                "export.approve" if approve else "export.refuse",
                row,
                owner_agency_id=principal.agency_id,
                note=note,
            )
            record(session, event)
        return self.describe(principal, export_id)

    # -- build --------------------------------------------------------------------------

    def pending_builds(self) -> list[int]:
        with self.sessions() as session:
            return list(
                session.scalars(select(ExportRequest.id).where(ExportRequest.state == "approved"))
            )

    def build(self, export_id: int) -> None:
        """Cut, process, sign and zip an approved export; it ends ready or failed (audited).
        A build already running in this process for the same export is not started twice."""
        with self._lock:
            if export_id in self._building:
                return
            self._building.add(export_id)
        try:
            self._build(export_id)
        finally:
            with self._lock:
                self._building.discard(export_id)

    def _build(self, export_id: int) -> None:
        with self.sessions() as session:
            row = self._row(session, export_id)
            if row.state != "approved":
                return
            items = list(row.items)
        name = f"export-{export_id}"
        staging = self.root / f"{name}.building"
        try:
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            files = self._cut_all(items, staging)
            for step in self.steps:
                for made in files:
                    step(staging / made.name)
            manifest = self._manifest(export_id, files, staging)
            digest = write_manifest(staging, manifest, load_export_key(self.settings))
            archive = self._zip(staging, self.root / f"{name}.zip", name)
        except Exception as exc:  # whatever it was, the export ends failed, with the reason
            log.exception("export %s failed", export_id)
            self._finish(export_id, "failed", reason=str(exc)[:500] or type(exc).__name__)
            return
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._finish(
            export_id,
            "ready",
            directory=str(archive),
            digest=digest,
            size=archive.stat().st_size,
            files=[f.name for f in files],
        )

    def _cut_all(self, items: list[dict[str, Any]], directory: Path) -> list[CutFile]:
        files: list[CutFile] = []
        with self.sessions() as session:
            lines = [
                (
                    int(item["camera_id"]),
                    timeline(
                        session,
                        int(item["camera_id"]),
                        datetime.fromisoformat(item["from"]),
                        datetime.fromisoformat(item["until"]),
                    ),
                )
                for item in items
            ]
        for camera_id, line in lines:
            made = cut(self.volumes, line.segments, camera_id, line.start, line.end, directory)
            if not made:
                raise FieldError(
                    "items", f"camera {camera_id}'s footage is no longer there", "body"
                )
            files.extend(made)
        return files

    def _manifest(self, export_id: int, files: list[CutFile], directory: Path) -> dict[str, Any]:
        with self.sessions() as session:
            row = self._row(session, export_id)
            requester = session.get(User, row.requester_id)
            approvals = session.scalars(
                select(ExportApproval).where(ExportApproval.export_id == export_id)
            ).all()
            cameras = {
                c.id: c
                for c in session.scalars(
                    select(Camera).where(Camera.id.in_([f.camera_id for f in files]))
                )
            }
            agencies = {a.id: a.name for a in session.scalars(select(Agency))}
            approvers = []
            for approval in approvals:
                user = session.get(User, approval.decided_by) if approval.decided_by else None
                approvers.append(
                    {
                        "agency_id": approval.owner_agency_id,
                        "agency": agencies.get(approval.owner_agency_id),
                        "user": user.username if user else None,
                        "automatic": approval.automatic,
                        "at": as_utc(approval.decided_at).isoformat()
                        if approval.decided_at
                        else None,
                    }
                )
            return {
                "export_id": export_id,
                "created_at": self.clock().isoformat(),
                "requester": {
                    "user_id": row.requester_id,
                    "user": requester.username if requester else None,
                    "agency_id": row.requester_agency_id,
                    "agency": agencies.get(row.requester_agency_id),
                },
                "approvers": approvers,
                "purpose": row.purpose,
                "legal_basis": row.legal_basis,
                "recipient": row.recipient,
                "case_number": row.case_number,
                "requested": row.items,
                "cameras": [
                    {
                        "camera_id": cid,
                        "name": camera.name,
                        "owner": agencies.get(camera.owner_id),
                        "lat": camera.lat,
                        "lon": camera.lon,
                        # the provider's retention goes with the copy (PIPA art. 25)
                        "retention_days": camera.retention_days,
                    }
                    for cid, camera in sorted(cameras.items())
                ],
                "clips": [
                    {
                        "name": f.name,
                        "camera_id": f.camera_id,
                        "from": f.start.isoformat(),
                        "until": f.end.isoformat(),
                        "frames": f.frames,
                        "delete_by": (
                            f.end + timedelta(days=cameras[f.camera_id].retention_days)
                        ).isoformat(),
                    }
                    for f in files
                ],
                "processing": [step.name for step in self.steps],
                "masked": False,
                "files": [file_entry(directory, f.name) for f in files],
            }

    @staticmethod
    def _zip(folder: Path, archive: Path, name: str) -> Path:
        """The folder as `archive` (stored, not compressed: MP4 does not shrink), its files
        under `name`/; written aside, synced, then moved into place."""
        partial = archive.with_suffix(".zip.part")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED, allowZip64=True) as out:
            for path in sorted(folder.iterdir()):
                out.write(path, f"{name}/{path.name}")
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        partial.replace(archive)
        fsync_dir(archive.parent)
        return archive

    def _finish(
        self,
        export_id: int,
        state: str,
        *,
        reason: str | None = None,
        directory: str | None = None,
        digest: str | None = None,
        size: int | None = None,
        files: list[str] | None = None,
    ) -> None:
        now = self.clock()
        with transaction(self.sessions) as session:
            row = self._row(session, export_id)
            row.state = state
            row.reason = reason
            if state == "ready":
                row.directory = directory
                row.manifest_sha256 = digest
                row.bytes = size
                row.ready_at = now
                row.expires_at = now + KEEP_FOR
            event = self._event(
                None,
                f"export.{state}",
                row,
                session,
                files=files,
                manifest_sha256=digest,
                error=reason,
            )
            outcome = Outcome.OK if state == "ready" else Outcome.ERROR
            record(session, replace(event, outcome=outcome, reason=reason))

    # -- links and downloads ------------------------------------------------------------

    def link(self, principal: Principal, export_id: int) -> tuple[str, datetime]:
        """A download link for a ready export (the requester, or an admin of their agency)."""
        now = self.clock()
        with transaction(self.sessions) as session:
            row = self._row(session, export_id)
            mine = row.requester_id == principal.user_id or (
                principal.has(Role.AGENCY_ADMIN) and principal.agency_id == row.requester_agency_id
            )
            if not mine:
                raise ForbiddenError("only the requester (or their agency's admin) gets the link")
            if row.state != "ready" or row.expires_at is None:
                raise ConflictError(f"export {export_id} is {row.state}, not ready to download")
            limit = as_utc(row.expires_at)
            expires = min(now + timedelta(hours=self.settings.export_link_hours), limit)
            if expires <= now:
                raise ConflictError(f"export {export_id} has expired")
            token = self.links.sign(export_id, expires)
            record(
                session,
                self._event(
                    principal, "export.link", row, session, link_expires_at=expires.isoformat()
                ),
            )
        return token, expires

    def download(self, link: str, client: str | None) -> tuple[Path, str]:
        """The zip behind a link and its download name; each call is a provision (제공),
        written to every camera owner's ledger."""
        now = self.clock()
        export_id = self.links.read(link, now)
        with transaction(self.sessions) as session:
            row = self._row(session, export_id)
            if row.state != "ready" or row.directory is None:
                raise ConflictError(f"export {export_id} is {row.state}: nothing to download")
            archive = Path(row.directory)
            if not archive.is_file():
                raise NotFoundError(f"export {export_id}'s files are gone")
            row.downloads = (row.downloads or 0) + 1
            with zipfile.ZipFile(archive) as listing:
                names = sorted(
                    n.rsplit("/", 1)[-1] for n in listing.namelist() if n.endswith(".mp4")
                )
            events = []
            for item in row.items:
                prefix = f"camera-{item['camera_id']}_"
                events.append(
                    AuditEvent(
                        action="access.export",
                        outcome=Outcome.OK,
                        actor_user_id=row.requester_id,
                        actor_agency_id=row.requester_agency_id,
                        target=f"camera:{item['camera_id']}",
                        purpose=row.purpose,
                        grant=f"export:{export_id}",
                        client=client,
                        details={
                            "export": export_id,
                            "recipient": row.recipient,
                            "legal_basis": row.legal_basis,
                            "case_number": row.case_number,
                            "footage_from": item["from"],
                            "footage_until": item["until"],
                            "file": [n for n in names if n.startswith(prefix)],
                            "manifest_sha256": row.manifest_sha256,
                        },
                    )
                )
            record_many(session, events)
        return archive, archive.name

    # -- expiry -------------------------------------------------------------------------

    def expire(self) -> int:
        """Remove the files of exports past their expiry; returns how many."""
        now = self.clock()
        with self.sessions() as session:
            rows = session.scalars(
                select(ExportRequest).where(
                    ExportRequest.state == "ready", ExportRequest.expires_at <= now
                )
            ).all()
            due = [(row.id, row.directory) for row in rows]
        for export_id, directory in due:
            if directory:
                Path(directory).unlink(missing_ok=True)
            with transaction(self.sessions) as session:
                row = self._row(session, export_id)
                row.state = "expired"
                record(session, self._event(None, "export.expire", row, session))
        return len(due)

    # -- reading ------------------------------------------------------------------------

    def _row(self, session: Session, export_id: int) -> ExportRequest:
        row = session.get(ExportRequest, export_id)
        if row is None:
            raise NotFoundError(f"export {export_id} does not exist")
        return row

    def _visible(self, session: Session, principal: Principal, row: ExportRequest) -> bool:
        if principal.has(Role.SYSTEM_ADMIN):
            return True
        if row.requester_agency_id == principal.agency_id:
            return True
        owners = session.scalars(
            select(ExportApproval.owner_agency_id).where(ExportApproval.export_id == row.id)
        )
        return principal.agency_id in set(owners)

    def describe(self, principal: Principal, export_id: int) -> dict[str, Any]:
        with self.sessions() as session:
            row = self._row(session, export_id)
            if not self._visible(session, principal, row):
                raise NotFoundError(f"export {export_id} does not exist")
            return self._json(session, row)

    def list(self, principal: Principal) -> list[dict[str, Any]]:
        """The caller's agency's requests, and those waiting on (or decided by) its admins."""
        with self.sessions() as session:
            stmt = select(ExportRequest).order_by(ExportRequest.id.desc()).limit(500)
            if not principal.has(Role.SYSTEM_ADMIN):
                owned = select(ExportApproval.export_id).where(
                    ExportApproval.owner_agency_id == principal.agency_id
                )
                stmt = stmt.where(
                    or_(
                        ExportRequest.requester_agency_id == principal.agency_id,
                        ExportRequest.id.in_(owned),
                    )
                )
            return [self._json(session, row) for row in session.scalars(stmt)]

    @staticmethod
    def _json(session: Session, row: ExportRequest) -> dict[str, Any]:
        approvals = session.scalars(
            select(ExportApproval)
            .where(ExportApproval.export_id == row.id)
            .order_by(ExportApproval.owner_agency_id)
        ).all()
        return {
            "id": row.id,
            "state": row.state,
            "reason": row.reason,
            "requester_id": row.requester_id,
            "requester_agency_id": row.requester_agency_id,
            "items": row.items,
            "purpose": row.purpose,
            "legal_basis": row.legal_basis,
            "recipient": row.recipient,
            "case_number": row.case_number,
            "approvals": [
                {
                    "owner_agency_id": a.owner_agency_id,
                    "state": a.state,
                    "automatic": a.automatic,
                    "decided_by": a.decided_by,
                    "decided_at": as_utc(a.decided_at).isoformat() if a.decided_at else None,
                    "reason": a.reason,
                }
                for a in approvals
            ],
            "manifest_sha256": row.manifest_sha256,
            "bytes": row.bytes,
            "created_at": as_utc(row.created_at).isoformat(),
            "ready_at": as_utc(row.ready_at).isoformat() if row.ready_at else None,
            "expires_at": as_utc(row.expires_at).isoformat() if row.expires_at else None,
            "downloads": row.downloads,
        }
