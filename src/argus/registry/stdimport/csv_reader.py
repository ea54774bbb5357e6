"""Read a standard-data CSV (comma- or tab-separated) into a ParsedFile."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from argus.registry.stdimport.columns import FIELDS, map_columns
from argus.registry.stdimport.errors import ImportFormatError
from argus.registry.stdimport.file_notes import note_columns
from argus.registry.stdimport.records import ParsedFile, RowIssue
from argus.registry.stdimport.rows import Cell, RowReader

PROGRESS_EVERY = 1000


def _delimiter(text: str) -> str:
    first_line = text[: text.find("\n")] if "\n" in text else text
    return "\t" if first_line.count("\t") > first_line.count(",") else ","


def _is_tidy(record: list[str]) -> bool:
    """True when no cell has whitespace at an end, two in a row, or any but a plain space.

    May say False for a tidy row (a cell holding "| ", a control character): that only sends the
    row down the slower, exact path.
    """
    joined = "|".join(record)
    return (
        joined.isprintable()
        and "  " not in joined
        and "| " not in joined
        and " |" not in joined
        and not joined.startswith(" ")
        and not joined.endswith(" ")
    )


def _is_blank(record: list[str]) -> bool:
    return all(not cell or cell.isspace() for cell in record)


def read_csv(text: str, result: ParsedFile, progress: Callable[[int], None] | None) -> None:
    """Fill `result` from CSV text; the header is the first non-blank line."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next((record for record in reader if not _is_blank(record)), None)
        if header is None:
            raise ImportFormatError("the file has no header line")
        header_line = reader.line_num
        columns = map_columns(header)
        result.layout = columns.layout
        note_columns(columns, result)
        row_reader = RowReader(columns, result)
        positions = [columns.positions.get(item, -1) for item in FIELDS]
        width = len(header)
        last_line = header_line
        blank = 0
        total = 0
        for record in reader:
            line = last_line + 1
            last_line = reader.line_num
            if _is_blank(record):
                blank += 1
                continue
            total += 1
            size = len(record)
            problem = warning = None
            if size >= width:
                cells: list[Cell] = [record[i] if i >= 0 else None for i in positions]
                if size > width and not _is_blank(record[width:]):
                    problem = f"the row has {size} cells but the header has {width}"
            else:
                cells = [record[i] if 0 <= i < size else None for i in positions]
                warning = (
                    f"the row has {size} cells but the header has {width}; "
                    "the missing ones were read as empty"
                )
            clean = _is_tidy(record)
            row_reader.read(line, cells, shape_problem=problem, shape_warning=warning, clean=clean)
            if progress is not None and total % PROGRESS_EVERY == 0:
                progress(total)
    except csv.Error as error:
        raise ImportFormatError(f"line {reader.line_num} cannot be read as CSV: {error}") from None
    result.total_rows = total
    if blank:
        result.warnings.append(RowIssue(0, None, f"{blank} blank line(s) skipped"))
    if progress is not None:
        progress(total)
