"""Bytes to text: recognise what a file is and which of the accepted encodings it uses."""

from __future__ import annotations

from argus.registry.stdimport.errors import ImportFormatError

_UTF8_BOM = b"\xef\xbb\xbf"
_NOT_TEXT: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook?); save it as CSV"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) workbook; save it as CSV"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "gzip-compressed; decompress it first"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)


def decode(data: bytes) -> tuple[str, str]:
    """(encoding, text) for UTF-8 with or without BOM, else CP949 (a superset of EUC-KR)."""
    for magic, what in _NOT_TEXT:
        if data.startswith(magic):
            raise ImportFormatError(f"the file is {what}, not CSV or GeoJSON")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFormatError("the file is UTF-16 text; save it as UTF-8 or CP949")
    if data.startswith(_UTF8_BOM):
        try:
            return "utf-8-sig", data[len(_UTF8_BOM) :].decode("utf-8")
        except UnicodeDecodeError as error:
            raise ImportFormatError(
                f"the file starts with a UTF-8 byte-order mark but byte {error.start + 3} "
                "is not UTF-8"
            ) from None
    try:
        return "utf-8", data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return "cp949", data.decode("cp949")
    except UnicodeDecodeError as error:
        raise ImportFormatError(
            f"the file is neither UTF-8 nor CP949/EUC-KR text (byte {error.start} cannot be read)"
        ) from None


def looks_like_json(text: str, name: str) -> bool:
    """Whether to read the text as (Geo)JSON: by its first character, else by its file name."""
    head = text.lstrip("\ufeff \t\r\n")[:1]
    if head in ("{", "["):
        return True
    return name.lower().endswith((".geojson", ".json"))
