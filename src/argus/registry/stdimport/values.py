"""Readers for single cells of the standard data: counts, coordinates, dates, purposes, ...

Each reader takes the cell text (already trimmed, never empty) and the file's own column name,
which goes into the messages. Readers of required values raise CellError; readers of optional
values return the value and, when they had to repair or drop it, a warning sentence. The
optional readers are cached: a file repeats the same few values in every row.
"""

from __future__ import annotations

import datetime
import math
import re
import unicodedata
from functools import lru_cache

from argus.registry.vocab import Purpose

DEFAULT_RETENTION_DAYS = 30
EARLIEST_YEAR = 1970
LATEST_YEAR = 2100

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_PURPOSES = {purpose.value: purpose for purpose in Purpose}

_WHOLE = re.compile(r"[0-9]{1,9}")
_WHOLE_WITH_UNIT = re.compile(r"([0-9]{1,9})(?:\.0*)?\s*(대|일)?")
_SIGNED_WHOLE = re.compile(r"[+-][0-9]{1,9}(?:\.0*)?")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_RES_MAN = re.compile(r"([0-9]{1,9}(?:\.[0-9]{1,9})?)\s*(만)?\s*(?:화소)?")
_RES_MP = re.compile(
    r"([0-9]{1,9}(?:\.[0-9]{1,9})?)\s*(?:mp|m|메가|메가픽셀)\s*(?:화소)?", re.IGNORECASE
)

_YM_STANDARD = re.compile(r"(\d{4})-(\d{1,2})")
_YM_SEPARATED = re.compile(r"(\d{4})\s*[./]\s*(\d{1,2})\s*\.?")
_YM_KOREAN = re.compile(r"(\d{4})\s*년\s*(\d{1,2})\s*월?")
_YM_COMPACT = re.compile(r"(\d{4})(\d{2})")
_YMD = re.compile(
    r"(\d{4})\s*[-./년]\s*(\d{1,2})\s*[-./월]\s*(\d{1,2})\s*[.일]?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_YMD_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_YY_MON = re.compile(r"(\d{1,2})[-/ ]([A-Za-z]{3,9})\.?")
_MON_YY = re.compile(r"([A-Za-z]{3,9})\.?[-/ ](\d{2}|\d{4})")
_YEAR = re.compile(r"(\d{4})\s*년?(?:\.0+)?")
_EXCEL_SERIAL = re.compile(r"(\d{5})(?:\.\d+)?")
_EXCEL_EPOCH = datetime.date(1899, 12, 30)


_SHOWN_CHARS = 60


def _q(value: str | int | float) -> str:
    """A cell value quoted for a message: one line, at most _SHOWN_CHARS characters."""
    text = " ".join(str(value).split())
    if len(text) > _SHOWN_CHARS:
        text = text[:_SHOWN_CHARS] + "…"
    return f"'{text}'"


class CellError(Exception):
    """A required cell that cannot be used; the message is the rejection reason."""


def as_ascii_digits(text: str) -> str:
    """Fold full-width digits and signs (e.g. "３０") to ASCII; other text is returned as is."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def read_count(text: str, column: str) -> tuple[int, str | None]:
    """카메라대수: a whole number >= 1 ("3", "3.0"; "3대" is repaired with a warning)."""
    if _WHOLE.fullmatch(text):
        value = int(text)
        warning = None
    else:
        folded = as_ascii_digits(text)
        match = _WHOLE_WITH_UNIT.fullmatch(folded)
        if match is not None and match.group(2) != "일":
            value = int(match.group(1))
            repaired = folded != text or match.group(2) is not None
            warning = f"{column} {_q(text)} read as {value}" if repaired else None
        elif _SIGNED_WHOLE.fullmatch(folded):
            value = int(float(folded))
            warning = None
        elif folded.isascii() and folded.isdigit():
            raise CellError(f"{column} {_q(text)} is too large to be a camera count")
        elif _DECIMAL.fullmatch(folded):
            raise CellError(f"{column} {_q(text)} is not a whole number")
        else:
            raise CellError(f"{column} {_q(text)} is not a number")
    if value < 1:
        raise CellError(f"{column} {value} is less than 1")
    return value, warning


def read_number(value: str | int | float, column: str) -> float:
    """A coordinate: a finite decimal number (given as text or as a JSON number)."""
    if isinstance(value, bool):
        raise CellError(f"{column} {_q(value)} is not a number")
    if isinstance(value, int | float):
        number = float(value)
    else:
        try:
            number = float(value)
        except ValueError:
            raise CellError(f"{column} {_q(value)} is not a number") from None
        if "_" in value:
            raise CellError(f"{column} {_q(value)} is not a number")
    if not math.isfinite(number):
        raise CellError(f"{column} {_q(value)} is not a finite number")
    return number


@lru_cache(maxsize=4096)
def read_resolution(text: str, column: str) -> tuple[float | None, str | None]:
    """카메라화소수 in units of 만 pixels ("200", "200만" → 2.0 MP; "41" → 0.41 MP), or "2MP"."""
    folded = as_ascii_digits(text)
    match = _RES_MAN.fullmatch(folded)
    if match is not None:
        megapixels = round(float(match.group(1)) / 100.0, 6)
    else:
        match = _RES_MP.fullmatch(folded)
        if match is None:
            return None, f"{column} {_q(text)} is not a pixel count; left empty"
        megapixels = float(match.group(1))
    if megapixels == 0.0:
        return None, None
    if megapixels < 0.1 or megapixels > 100.0:
        return megapixels, f"{column} {_q(text)} gives an unlikely {megapixels:g} MP; kept"
    return megapixels, None


@lru_cache(maxsize=1024)
def read_retention(text: str, column: str) -> tuple[int, str | None]:
    """보관일수: "30" or "30일"; anything else gives the default with a warning."""
    match = _WHOLE_WITH_UNIT.fullmatch(as_ascii_digits(text))
    if match is None or match.group(2) == "대":
        return (
            DEFAULT_RETENTION_DAYS,
            f"{column} {_q(text)} is not a number of days; {DEFAULT_RETENTION_DAYS} assumed",
        )
    days = int(match.group(1))
    if days < 1:
        return (
            DEFAULT_RETENTION_DAYS,
            f"{column} {_q(text)} is not a positive number of days; "
            f"{DEFAULT_RETENTION_DAYS} assumed",
        )
    return days, None


def _two_digit_year(yy: int) -> int:
    # The same pivot as strptime's %y: 69-99 are 1969-1999, 00-68 are 2000-2068.
    return 1900 + yy if yy >= 69 else 2000 + yy


def _year_month(text: str) -> tuple[int, int | None, str | None] | None:
    """(year, month, how it was read when not the standard YYYY-MM) or None."""
    if match := _YM_STANDARD.fullmatch(text):
        return int(match.group(1)), int(match.group(2)), None
    if match := _YM_SEPARATED.fullmatch(text):
        return int(match.group(1)), int(match.group(2)), "a year and month"
    if match := _YM_KOREAN.fullmatch(text):
        return int(match.group(1)), int(match.group(2)), "a year and month"
    if match := _YM_COMPACT.fullmatch(text):  # YYYYMM: how the current national layout writes it
        return int(match.group(1)), int(match.group(2)), None
    if (match := _YMD.fullmatch(text)) or (match := _YMD_COMPACT.fullmatch(text)):
        return int(match.group(1)), int(match.group(2)), "a full date"
    if match := _YY_MON.fullmatch(text):
        month = _MONTHS.get(match.group(2).lower())
        if month is not None:
            return _two_digit_year(int(match.group(1))), month, "an Excel-mangled date"
    if match := _MON_YY.fullmatch(text):
        month = _MONTHS.get(match.group(1).lower())
        if month is not None:
            year = int(match.group(2))
            year = year if year > 99 else _two_digit_year(year)
            return year, month, "an Excel-mangled date"
    if match := _EXCEL_SERIAL.fullmatch(text):
        serial = int(match.group(1))
        date = _EXCEL_EPOCH + datetime.timedelta(days=serial)
        return date.year, date.month, "an Excel date serial number"
    if match := _YEAR.fullmatch(text):
        return int(match.group(1)), None, "a year only"
    return None


@lru_cache(maxsize=4096)
def read_installed(
    text: str, column: str, year_only: bool
) -> tuple[int | None, int | None, str | None]:
    """설치연월 / 설치년월 / 설치연도 → (year, month); `year_only` for a 설치연도 column."""
    found = _year_month(as_ascii_digits(text))
    if found is None:
        return None, None, f"{column} {_q(text)} is not a year and month; left empty"
    year, month, how = found
    if not EARLIEST_YEAR <= year <= LATEST_YEAR or (month is not None and not 1 <= month <= 12):
        return None, None, f"{column} {_q(text)} is not a plausible year and month; left empty"
    if year_only and month is None:
        return year, None, None
    if how is None:
        return year, month, None
    shown = f"{year:04d}" if month is None else f"{year:04d}-{month:02d}"
    return year, month, f"{column} {_q(text)} read as {shown} ({how})"


@lru_cache(maxsize=1024)
def read_date(text: str, column: str) -> tuple[datetime.date | None, str | None]:
    """데이터기준일자: YYYY-MM-DD (other separators and YYYYMMDD are repaired with a warning)."""
    folded = as_ascii_digits(text)
    match = _YMD.fullmatch(folded) or _YMD_COMPACT.fullmatch(folded)
    if match is None:
        return None, f"{column} {_q(text)} is not a date; left empty"
    try:
        date = datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None, f"{column} {_q(text)} is not a valid date; left empty"
    standard = f"{date.year:04d}-{date.month:02d}-{date.day:02d}"
    if folded == standard:
        return date, None
    return date, f"{column} {_q(text)} read as {standard}"


@lru_cache(maxsize=1024)
def read_purpose(text: str, column: str) -> tuple[Purpose, str | None]:
    """설치목적구분: one of the standard purposes; anything else is kept raw and becomes 기타."""
    purpose = _PURPOSES.get(text)
    if purpose is not None:
        return purpose, None
    squeezed = "".join(unicodedata.normalize("NFC", text).split())
    purpose = _PURPOSES.get(squeezed)
    if purpose is not None:
        return purpose, f"{column} {_q(text)} read as {purpose.value}"
    return (
        Purpose.OTHER,
        f"{column} {_q(text)} is not a standard purpose; stored as {Purpose.OTHER}",
    )
