"""The error raised for a standard-data file that cannot be read at all."""

from __future__ import annotations

from argus.errors import ArgusError


class ImportFormatError(ArgusError):
    """The file is not a readable CSV or GeoJSON of the national CCTV standard data.

    The message is one line: it says what is wrong and, for a bad header, which columns are
    missing and which the file has.
    """
