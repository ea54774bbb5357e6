"""normalize_agency: the spellings of 관리기관명 and what they resolve to."""

from __future__ import annotations

import pytest

from argus.registry.stdimport import AgencyName, normalize_agency
from argus.registry.vocab import AgencyKind

GWANGJU_ADDRESS = "광주광역시 동구 필문대로 255"
DISTRICT = AgencyKind.DISTRICT
CITY = AgencyKind.CITY


@pytest.mark.parametrize(
    ("raw", "hints"),
    [
        ("광주광역시 동구청", ()),
        ("동구청", (GWANGJU_ADDRESS,)),
        ("동구청", (None, "", "동구 동명동 1", GWANGJU_ADDRESS)),
        ("광주 동구", ()),
        ("광주광역시동구청", ()),
        (" 광주광역시  동구 ", ()),
        ("광주광역시_동구", ()),
        ("광주시 동구", ()),
        ("광주광역시 동구 안전도시과", ()),
        ("광주광역시 동구(재난안전과)", ()),
    ],
)
def test_spellings_of_gwangju_donggu(raw: str, hints: tuple[str | None, ...]):
    agency = normalize_agency(raw, hints)
    assert agency == AgencyName(
        "광주광역시 동구", DISTRICT, "광주광역시", "동구", "광주광역시", raw
    )


@pytest.mark.parametrize(
    ("raw", "hints", "canonical", "kind", "region", "district"),
    [
        ("서울특별시동작구청", (), "서울특별시 동작구", DISTRICT, "서울특별시", "동작구"),
        ("관악구청", ("서울특별시 관악구",), "서울특별시 관악구", DISTRICT, "서울특별시", "관악구"),
        ("관악구청", (), "서울특별시 관악구", DISTRICT, "서울특별시", "관악구"),
        ("광주광역시 사회재난과", (), "광주광역시", CITY, "광주광역시", None),
        ("광주광역시청", (), "광주광역시", CITY, "광주광역시", None),
        ("광주", (), "광주광역시", CITY, "광주광역시", None),
        # 광주시 alone, or with 경기도, is 경기도 광주시.
        ("광주시", (), "경기도 광주시", DISTRICT, "경기도", "광주시"),
        ("광주시청", (), "경기도 광주시", DISTRICT, "경기도", "광주시"),
        ("경기도 광주시", (), "경기도 광주시", DISTRICT, "경기도", "광주시"),
        (
            "광주시청",
            ("경기도 광주시 행정타운로 50",),
            "경기도 광주시",
            DISTRICT,
            "경기도",
            "광주시",
        ),
        ("경기 광주", (), "경기도 광주시", DISTRICT, "경기도", "광주시"),
        # ... unless the row's own address says 광주광역시.
        ("광주시청", ("광주광역시 서구 내방로 111",), "광주광역시", CITY, "광주광역시", None),
        ("서울", (), "서울특별시", CITY, "서울특별시", None),
        ("서울시청 교통정보과", (), "서울특별시", CITY, "서울특별시", None),
        ("부산진구청", (), "부산광역시 부산진구", DISTRICT, "부산광역시", "부산진구"),
        ("부산 중구", (), "부산광역시 중구", DISTRICT, "부산광역시", "중구"),
        ("대구 군위군", (), "대구광역시 군위군", DISTRICT, "대구광역시", "군위군"),
        ("경상북도 군위군", (), "대구광역시 군위군", DISTRICT, "대구광역시", "군위군"),
        ("인천광역시 남구", (), "인천광역시 미추홀구", DISTRICT, "인천광역시", "미추홀구"),
        ("세종시청", (), "세종특별자치시", CITY, "세종특별자치시", None),
        ("제주도청", (), "제주특별자치도", CITY, "제주특별자치도", None),
        ("제주시청", (), "제주특별자치도 제주시", DISTRICT, "제주특별자치도", "제주시"),
        ("강원도 춘천시", (), "강원특별자치도 춘천시", DISTRICT, "강원특별자치도", "춘천시"),
        ("강원 고성군", (), "강원특별자치도 고성군", DISTRICT, "강원특별자치도", "고성군"),
        ("경남 고성", (), "경상남도 고성군", DISTRICT, "경상남도", "고성군"),
        (
            "전라북도 전주시 완산구청",
            (),
            "전북특별자치도 전주시 완산구",
            DISTRICT,
            "전북특별자치도",
            "전주시 완산구",
        ),
        ("전북도청", (), "전북특별자치도", CITY, "전북특별자치도", None),
        ("충북", (), "충청북도", CITY, "충청북도", None),
        ("경기도 수원시 장안구청", (), "경기도 수원시 장안구", DISTRICT, "경기도", "수원시 장안구"),
        ("수원시장안구청", (), "경기도 수원시 장안구", DISTRICT, "경기도", "수원시 장안구"),
        ("장안구청", (), "경기도 수원시 장안구", DISTRICT, "경기도", "수원시 장안구"),
        (
            "남구청",
            ("포항시 남구 시청로 1",),
            "경상북도 포항시 남구",
            DISTRICT,
            "경상북도",
            "포항시 남구",
        ),
        (
            "남구청",
            ("광주광역시 남구 봉선로 1",),
            "광주광역시 남구",
            DISTRICT,
            "광주광역시",
            "남구",
        ),
        # Ambiguous and no hint: the 시도 stays unknown.
        ("동구청", (), "동구", DISTRICT, None, "동구"),
        ("고성군청", (), "고성군", DISTRICT, None, "고성군"),
        ("동구청", ("동구 동명동 113-40",), "동구", DISTRICT, None, "동구"),
    ],
)
def test_bodies(
    raw: str,
    hints: tuple[str, ...],
    canonical: str,
    kind: AgencyKind,
    region: str | None,
    district: str | None,
):
    agency = normalize_agency(raw, hints)
    assert (agency.canonical, agency.kind, agency.region, agency.district) == (
        canonical,
        kind,
        region,
        district,
    )
    assert agency.raw == raw
    assert agency.parent == (region if kind is DISTRICT else None)


@pytest.mark.parametrize(
    ("raw", "hints", "canonical", "kind", "region"),
    [
        ("서울특별시 강북경찰서", (), "서울특별시 강북경찰서", AgencyKind.POLICE, "서울특별시"),
        (
            "강북경찰서",
            ("서울특별시 강북구",),
            "서울특별시 강북경찰서",
            AgencyKind.POLICE,
            "서울특별시",
        ),
        ("광주 동부경찰서", (), "광주광역시 동부경찰서", AgencyKind.POLICE, "광주광역시"),
        ("광주동부경찰서", (), "광주광역시 광주동부경찰서", AgencyKind.POLICE, "광주광역시"),
        ("경찰청", (), "경찰청", AgencyKind.POLICE, None),
        ("광주광역시 소방안전본부", (), "광주광역시 소방안전본부", AgencyKind.FIRE, "광주광역시"),
        (
            "광산소방서",
            ("광주광역시 광산구",),
            "광주광역시 광산소방서",
            AgencyKind.FIRE,
            "광주광역시",
        ),
        # 강남동 of 안동, not 서울 강남구.
        (
            "강남동 주민자치센터",
            ("경상북도 안동시",),
            "경상북도 강남동 주민자치센터",
            AgencyKind.OTHER,
            "경상북도",
        ),
        (
            "국립농산물품질관리원 시험연구소",
            ("농림축산식품부 국립농산물품질관리원", "경상북도 김천시 용전로 141 (율곡동 970)"),
            "경상북도 국립농산물품질관리원 시험연구소",
            AgencyKind.OTHER,
            "경상북도",
        ),
        (
            "서울특별시 중구 시설관리공단",
            (),
            "서울특별시 중구 시설관리공단",
            AgencyKind.OTHER,
            "서울특별시",
        ),
        (
            "동구청소년수련관",
            (GWANGJU_ADDRESS,),
            "광주광역시 동구 청소년수련관",
            AgencyKind.OTHER,
            "광주광역시",
        ),
        ("한국도로공사", (), "한국도로공사", AgencyKind.OTHER, None),
    ],
)
def test_other_bodies(
    raw: str, hints: tuple[str, ...], canonical: str, kind: AgencyKind, region: str | None
):
    agency = normalize_agency(raw, hints)
    assert (agency.canonical, agency.kind, agency.region, agency.parent) == (
        canonical,
        kind,
        region,
        None,
    )


def test_the_name_wins_over_contradicting_hints():
    assert normalize_agency("서울특별시 중구청", (GWANGJU_ADDRESS,)).region == "서울특별시"
    assert normalize_agency("관악구청", (GWANGJU_ADDRESS,)).region == "서울특별시"


def test_a_hint_that_does_not_fit_is_skipped():
    agency = normalize_agency("동구청", ("서울특별시 종로구", GWANGJU_ADDRESS))
    assert agency.canonical == "광주광역시 동구"


def test_results_are_cached():
    first = normalize_agency("광주광역시 서구청", ())
    assert normalize_agency("광주광역시 서구청", ()) is first


def test_empty_name():
    agency = normalize_agency("")
    assert (agency.canonical, agency.kind, agency.region) == ("", AgencyKind.OTHER, None)
