"""Exports of the audit log: JSON Lines (faithful) and CSV (for spreadsheets).

JSON Lines: one object per entry with exactly the hashed fields (``time`` in the canonical
form, ``details`` as an object), so each line's hash can be recomputed with
``argus.audit.chain.reference_encoding``. CSV: the same columns, ``details`` as JSON text,
UTF-8 with a byte order mark and CRLF line ends (Excel reads it as UTF-8); a cell that a
spreadsheet would run as a formula (starting with = + - @ or a tab) is prefixed with ``'``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence

from argus.audit.models import AuditEntry
from argus.audit.query import EXPORT_FIELDS, entry_json

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> str:
    """``value`` as a CSV cell that a spreadsheet shows as text, never runs as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """CSV text in pieces: a BOM, the header, then each row; CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield BOM + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([spreadsheet_safe(cell) for cell in row])
        yield buffer.getvalue()


def jsonl_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    for entry in entries:
        yield json.dumps(entry_json(entry), ensure_ascii=False, separators=(",", ":")) + "\n"


def audit_csv_lines(entries: Iterable[AuditEntry]) -> Iterator[str]:
    def rows() -> Iterator[list[object]]:
        for entry in entries:
            data = entry_json(entry)
            data["details"] = entry.details
            yield [data[name] for name in EXPORT_FIELDS]

    return csv_lines(EXPORT_FIELDS, rows())
