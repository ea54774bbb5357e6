"""The audit package's service: what the API and the CLI do with the log.

``AuditService(engine, settings)`` loads the checkpoint key and switches automatic checkpoints
on for ``engine`` (every ``settings.audit_checkpoint_every`` entries). Every read of the log
through it (a page, an export, verify, the ledger) is itself recorded, as action
``audit.read`` with ``details.what``; a refused read as ``audit.read`` with outcome deny.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from argus.audit.checkpoints import checkpoint_now, enable_checkpoints
from argus.audit.events import AuditEvent, Outcome
from argus.audit.export import audit_csv_lines, jsonl_lines
from argus.audit.ledger import (
    LedgerQuery,
    LedgerRow,
    LedgerTitle,
    ledger_csv,
    ledger_html,
    ledger_rows,
    ledger_title,
)
from argus.audit.log import record
from argus.audit.models import AuditEntry
from argus.audit.query import AuditFilter, iter_entries, page, scope_of
from argus.audit.signing import Signer, load_signer
from argus.audit.verify import VerifyReport, verify
from argus.config import Settings
from argus.db import make_sessionmaker, transaction, utcnow
from argus.errors import ArgusError, ForbiddenError, NotFoundError
from argus.identity.principal import Principal
from argus.registry.models import Agency


@dataclass(frozen=True)
class Reader:
    """Who reads the log: a signed-in principal, or someone at the command line."""

    principal: Principal | None
    client: str | None = None

    @classmethod
    def command_line(cls) -> Reader:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        return cls(principal=None, client=f"cli:{user}")

    def event(self, outcome: Outcome, what: str, reason: str | None, **details: Any) -> AuditEvent:
        principal = self.principal
        return AuditEvent(
            action="audit.read",
            outcome=outcome,
            actor_user_id=principal.user_id if principal else None,
            actor_agency_id=principal.agency_id if principal else None,
            reason=reason,
            client=(principal.client if principal else None) or self.client,
            details={"what": what, **{k: v for k, v in details.items() if v is not None}},
        )


class AuditService:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.sessions: sessionmaker[Session] = make_sessionmaker(engine)
        self.signer: Signer = load_signer(settings)
        self.every = settings.audit_checkpoint_every
        enable_checkpoints(engine, self.signer, self.every)

    # -- who may read, and the record of reading ------------------------------------------

    def open_read(
        self, reader: Reader, what: str, agency: int | None = None, **details: Any
    ) -> int | None:
        """Record the read and return the reader's scope (an agency id, or None for all).

        ``agency`` names one agency asked for (a ledger's): it must exist (404) and lie within
        the scope. A principal without the auditor or system admin role is refused (403), and
        so is an auditor asking for another agency; each refusal is recorded too. The command
        line reads everything: it runs with the database's own credentials.
        """
        with transaction(self.sessions) as session:
            try:
                if agency is not None and session.get(Agency, agency) is None:
                    raise NotFoundError(f"agency {agency}: no such agency")
                scope = None if reader.principal is None else scope_of(session, reader.principal)
                if scope is not None and agency is not None and agency != scope:
                    raise ForbiddenError(
                        "an auditor of this agency reads only its own agency's ledger"
                    )
            except ArgusError as exc:
                refused: ArgusError = exc
            else:
                event = reader.event(Outcome.OK, what, None, scope=scope, agency=agency, **details)
                record(session, event)
                return scope
        with transaction(self.sessions) as session:
            event = reader.event(Outcome.DENY, what, str(refused), agency=agency, **details)
            record(session, event)
        raise refused

    # -- reading ---------------------------------------------------------------------------

    def page(
        self, filters: AuditFilter, scope: int | None, limit: int, offset: int
    ) -> tuple[list[AuditEntry], int]:
        with self.sessions() as session:
            return page(session, filters, scope, limit, offset)

    def export_jsonl(self, filters: AuditFilter, scope: int | None) -> Iterator[str]:
        return jsonl_lines(iter_entries(self.sessions, filters, scope))

    def export_csv(self, filters: AuditFilter, scope: int | None) -> Iterator[str]:
        return audit_csv_lines(iter_entries(self.sessions, filters, scope))

    def verify(self) -> VerifyReport:
        with self.sessions() as session:
            return verify(session, self.signer.public_key)

    def checkpoint(self) -> list[int]:
        with transaction(self.sessions) as session:
            return checkpoint_now(session, self.signer, self.every)

    # -- the ledger ------------------------------------------------------------------------

    def ledger_rows(self, query: LedgerQuery) -> Iterator[LedgerRow]:
        return ledger_rows(self.sessions, query)

    def ledger_csv(self, query: LedgerQuery) -> Iterator[str]:
        return ledger_csv(self.ledger_rows(query))

    def ledger_html(self, query: LedgerQuery) -> Iterator[str]:
        with self.sessions() as session:
            title: LedgerTitle = ledger_title(session, query, utcnow())
        return ledger_html(self.ledger_rows(query), title)
