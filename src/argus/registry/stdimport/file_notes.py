"""Warnings about a file as a whole (line 0), drawn from its header."""

from __future__ import annotations

from argus.registry.stdimport.columns import ColumnMap, Field
from argus.registry.stdimport.records import ParsedFile, RowIssue
from argus.registry.vocab import Purpose


def note_columns(columns: ColumnMap, result: ParsedFile) -> None:
    """Add line-0 warnings for a missing purpose column and for unused or repeated columns."""
    if not columns.has(Field.PURPOSE):
        result.warnings.append(
            RowIssue(
                0,
                None,
                f"the file has no {Field.PURPOSE.value} column; every row gets purpose "
                f"{Purpose.OTHER.value}",
            )
        )
    if columns.unknown:
        result.warnings.append(RowIssue(0, None, "columns not used: " + ", ".join(columns.unknown)))
    for duplicate in columns.duplicates:
        result.warnings.append(RowIssue(0, None, f"column {duplicate} ignored"))
