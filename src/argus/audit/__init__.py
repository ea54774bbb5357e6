"""The append-only, hash-chained audit log and the PIPA ledger (개인영상정보 관리대장) over it.

What other packages use:

- ``argus.audit.log.record(session, AuditEvent) -> int`` (and ``record_many``): append inside
  the caller's transaction; ``argus.audit.events`` has the event type;
- ``argus.audit.service.AuditService(engine, settings)``: made once per process (by
  ``argus.api.services``), so that checkpoints are signed every
  ``settings.audit_checkpoint_every`` entries from the first append on;
- ``argus.audit.verify.verify(session, public_key) -> VerifyReport``.

Inside: ``chain`` (the canonical encoding and its hash), ``log`` (appending), ``signing`` and
``checkpoints`` (Ed25519), ``verify``, ``query`` and ``export`` (auditors' reads), ``ledger``,
``service``, ``routes`` (/api/audit…, /api/ledger…), ``cli`` (``argus audit``). Migration 0003
holds the database triggers that keep the tables append-only.
"""
