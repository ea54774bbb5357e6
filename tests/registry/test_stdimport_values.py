"""The single-cell readers."""

from __future__ import annotations

import datetime

import pytest

from argus.registry.stdimport.values import (
    CellError,
    read_count,
    read_date,
    read_installed,
    read_number,
    read_purpose,
    read_resolution,
    read_retention,
)
from argus.registry.vocab import Purpose


@pytest.mark.parametrize(
    ("text", "value", "warned"),
    [("1", 1, False), ("12", 12, False), ("3.0", 3, False), ("3대", 3, True), ("３", 3, True)],
)
def test_count(text: str, value: int, warned: bool):
    count, warning = read_count(text, "카메라대수")
    assert count == value
    assert (warning is not None) == warned


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("두대", "카메라대수 '두대' is not a number"),
        ("2.5", "카메라대수 '2.5' is not a whole number"),
        ("0", "카메라대수 0 is less than 1"),
        ("-2", "카메라대수 -2 is less than 1"),
        ("30일", "카메라대수 '30일' is not a number"),
        ("1" * 5000, "is too large to be a camera count"),
    ],
)
def test_bad_count(text: str, reason: str):
    with pytest.raises(CellError) as caught:
        read_count(text, "카메라대수")
    assert reason in str(caught.value)
    assert len(str(caught.value)) < 120


@pytest.mark.parametrize(
    ("value", "number"), [("37.5", 37.5), (" 37.5", 37.5), (126, 126.0), ("-.5", -0.5)]
)
def test_number(value: str | int, number: float):
    assert read_number(value, "위도") == number


@pytest.mark.parametrize("value", ["", "abc", "1_0", "nan", "inf", "-Infinity", "37,5", True])
def test_bad_number(value: str | bool):
    with pytest.raises(CellError):
        read_number(value, "위도")


def test_resolution_units():
    assert read_resolution("200", "카메라화소수") == (2.0, None)
    assert read_resolution("200만", "카메라화소") == (2.0, None)
    assert read_resolution("41", "카메라화소수") == (0.41, None)
    assert read_resolution("500만 화소", "카메라화소수") == (5.0, None)
    assert read_resolution("8MP", "카메라화소수") == (8.0, None)
    assert read_resolution("0", "카메라화소수") == (None, None)
    value, warning = read_resolution("FHD", "카메라화소수")
    assert value is None and warning == "카메라화소수 'FHD' is not a pixel count; left empty"


def test_retention():
    assert read_retention("30", "보관일수") == (30, None)
    assert read_retention("30일", "보관일수") == (30, None)
    assert read_retention("１４일", "보관일수") == (14, None)
    assert read_retention("1개월", "보관일수")[0] == 30
    assert read_retention("1개월", "보관일수")[1] is not None


@pytest.mark.parametrize(
    ("text", "year", "month"),
    [
        ("2015-01", 2015, 1),
        ("2015-1", 2015, 1),
        ("15-Jan", 2015, 1),
        ("04-Dec", 2004, 12),
        ("Jan-15", 2015, 1),
        ("Sept-2019", 2019, 9),
        ("201501", 2015, 1),
        ("2015.1", 2015, 1),
        ("2015년 1월", 2015, 1),
        ("2015년", 2015, None),
        ("2015", 2015, None),
        ("2015-01-31", 2015, 1),
        ("20150131", 2015, 1),
        ("2015-01-31T09:00:00", 2015, 1),
        ("42005", 2015, 1),
        ("２０１５-０１", 2015, 1),
    ],
)
def test_installed(text: str, year: int, month: int | None):
    assert read_installed(text, "설치연월", False)[:2] == (year, month)


def test_installed_warnings():
    assert read_installed("2015-01", "설치연월", False) == (2015, 1, None)
    assert read_installed("201501", "설치연월", False) == (2015, 1, None)
    assert read_installed("2015", "설치연도", True) == (2015, None, None)
    assert (
        read_installed("2015", "설치연월", False)[2] == "설치연월 '2015' read as 2015 (a year only)"
    )
    assert read_installed("15-Jan", "설치년월", False)[2] == (
        "설치년월 '15-Jan' read as 2015-01 (an Excel-mangled date)"
    )
    assert read_installed("Foo-15", "설치연월", False) == (
        None,
        None,
        "설치연월 'Foo-15' is not a year and month; left empty",
    )


def test_data_date():
    assert read_date("2024-06-30", "데이터기준일자") == (datetime.date(2024, 6, 30), None)
    date, warning = read_date("2024.6.30", "데이터기준일자")
    assert date == datetime.date(2024, 6, 30)
    assert warning == "데이터기준일자 '2024.6.30' read as 2024-06-30"
    assert read_date("20240630", "데이터기준일자")[0] == datetime.date(2024, 6, 30)
    assert read_date("2024-02-30", "데이터기준일자")[0] is None
    assert read_date("어제", "데이터기준일자")[0] is None


def test_purpose():
    for purpose in Purpose:
        assert read_purpose(purpose.value, "설치목적구분") == (purpose, None)
    assert read_purpose("교통 단속", "설치목적구분")[0] is Purpose.TRAFFIC_ENFORCEMENT
    assert read_purpose("방범", "설치목적구분")[0] is Purpose.OTHER
