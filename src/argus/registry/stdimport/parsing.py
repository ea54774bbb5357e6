"""Entry points: parse a standard-data file (CSV or GeoJSON) from bytes or from a path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from argus.registry.stdimport.csv_reader import read_csv
from argus.registry.stdimport.decoding import decode, looks_like_json
from argus.registry.stdimport.errors import ImportFormatError
from argus.registry.stdimport.geojson_reader import read_geojson
from argus.registry.stdimport.records import ParsedFile


def parse_bytes(
    data: bytes, name: str = "<data>", progress: Callable[[int], None] | None = None
) -> ParsedFile:
    """Parse a whole file; `progress(rows_done)` is called every ~1000 rows and at the end.

    Raises ImportFormatError (one line, starting with the name) when the file cannot be read at
    all. Row-level problems never raise: they end up in `rejected` or `warnings`.
    """
    try:
        if not data.strip():
            raise ImportFormatError("the file is empty")
        encoding, text = decode(data)
        if looks_like_json(text, name):
            result = ParsedFile(name, "geojson", encoding, "")
            read_geojson(text, result, progress)
        else:
            result = ParsedFile(name, "csv", encoding, "")
            read_csv(text, result, progress)
    except ImportFormatError as error:
        raise ImportFormatError(f"{name}: {error}") from None
    return result


def parse_file(path: Path, progress: Callable[[int], None] | None = None) -> ParsedFile:
    """Parse the file at `path` (see parse_bytes)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImportFormatError(f"{path}: cannot be read ({error.strerror or error})") from None
    return parse_bytes(data, path.name, progress)
