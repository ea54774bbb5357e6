"""Names of South Korea's 17 시도 and their 시군구, with the short and old spellings seen in data.

The lists follow the administrative divisions in force in 2026 (including 대구 군위군 from 2023,
부천시's 구 restored in 2024, 화성시's 구 from 2026 and 인천's 2026 reorganisation) and keep a few
older names so that older files still resolve (인천 남구, 경상북도 군위군, 강원도, 전라북도).
"""

from __future__ import annotations

from collections.abc import Mapping

SEOUL = "서울특별시"
BUSAN = "부산광역시"
DAEGU = "대구광역시"
INCHEON = "인천광역시"
GWANGJU = "광주광역시"
DAEJEON = "대전광역시"
ULSAN = "울산광역시"
SEJONG = "세종특별자치시"
GYEONGGI = "경기도"
GANGWON = "강원특별자치도"
CHUNGBUK = "충청북도"
CHUNGNAM = "충청남도"
JEONBUK = "전북특별자치도"
JEONNAM = "전라남도"
GYEONGBUK = "경상북도"
GYEONGNAM = "경상남도"
JEJU = "제주특별자치도"

SIDO_NAMES: tuple[str, ...] = (
    SEOUL,
    BUSAN,
    DAEGU,
    INCHEON,
    GWANGJU,
    DAEJEON,
    ULSAN,
    SEJONG,
    GYEONGGI,
    GANGWON,
    CHUNGBUK,
    CHUNGNAM,
    JEONBUK,
    JEONNAM,
    GYEONGBUK,
    GYEONGNAM,
    JEJU,
)

# Every spelling of a 시도 that may start an agency name or an address, mapped to its current
# full name. "광주시" is deliberately absent: on its own it is 경기도 광주시.
SIDO_ALIASES: Mapping[str, str] = {
    "서울특별시": SEOUL,
    "서울시": SEOUL,
    "서울": SEOUL,
    "부산광역시": BUSAN,
    "부산시": BUSAN,
    "부산": BUSAN,
    "대구광역시": DAEGU,
    "대구시": DAEGU,
    "대구": DAEGU,
    "인천광역시": INCHEON,
    "인천시": INCHEON,
    "인천": INCHEON,
    "광주광역시": GWANGJU,
    "광주": GWANGJU,
    "대전광역시": DAEJEON,
    "대전시": DAEJEON,
    "대전": DAEJEON,
    "울산광역시": ULSAN,
    "울산시": ULSAN,
    "울산": ULSAN,
    "세종특별자치시": SEJONG,
    "세종시": SEJONG,
    "세종": SEJONG,
    "경기도": GYEONGGI,
    "경기": GYEONGGI,
    "강원특별자치도": GANGWON,
    "강원도": GANGWON,
    "강원": GANGWON,
    "충청북도": CHUNGBUK,
    "충북": CHUNGBUK,
    "충청남도": CHUNGNAM,
    "충남": CHUNGNAM,
    "전북특별자치도": JEONBUK,
    "전라북도": JEONBUK,
    "전북": JEONBUK,
    "전라남도": JEONNAM,
    "전남": JEONNAM,
    "경상북도": GYEONGBUK,
    "경북": GYEONGBUK,
    "경상남도": GYEONGNAM,
    "경남": GYEONGNAM,
    "제주특별자치도": JEJU,
    "제주도": JEJU,
    "제주": JEJU,
}

# 시군구 of each 시도. A 시 that has 구 of its own lists them after a colon.
_SIGUNGU_TEXT: Mapping[str, str] = {
    SEOUL: (
        "종로구 중구 용산구 성동구 광진구 동대문구 중랑구 성북구 "
        "강북구 도봉구 노원구 은평구 서대문구 마포구 양천구 강서구 "
        "구로구 금천구 영등포구 동작구 관악구 서초구 강남구 송파구 "
        "강동구"
    ),
    BUSAN: (
        "중구 서구 동구 영도구 부산진구 동래구 남구 북구 해운대구 "
        "사하구 금정구 강서구 연제구 수영구 사상구 기장군"
    ),
    DAEGU: "중구 동구 서구 남구 북구 수성구 달서구 달성군 군위군",
    INCHEON: (
        "중구 동구 미추홀구 연수구 남동구 부평구 계양구 서구 강화군 옹진군 제물포구 영종구 검단구"
    ),
    GWANGJU: "동구 서구 남구 북구 광산구",
    DAEJEON: "동구 중구 서구 유성구 대덕구",
    ULSAN: "중구 남구 동구 북구 울주군",
    SEJONG: "",
    GYEONGGI: (
        "수원시:장안구,권선구,팔달구,영통구 "
        "성남시:수정구,중원구,분당구 의정부시 안양시:만안구,동안구 "
        "부천시:원미구,소사구,오정구 광명시 평택시 동두천시 "
        "안산시:상록구,단원구 고양시:덕양구,일산동구,일산서구 과천시 "
        "구리시 남양주시 오산시 시흥시 군포시 의왕시 하남시 "
        "용인시:처인구,기흥구,수지구 파주시 이천시 안성시 김포시 "
        "화성시:만세구,효행구,병점구,동탄구 광주시 양주시 포천시 "
        "여주시 연천군 가평군 양평군"
    ),
    GANGWON: (
        "춘천시 원주시 강릉시 동해시 태백시 속초시 삼척시 홍천군 "
        "횡성군 영월군 평창군 정선군 철원군 화천군 양구군 인제군 "
        "고성군 양양군"
    ),
    CHUNGBUK: (
        "청주시:상당구,서원구,흥덕구,청원구 충주시 제천시 보은군 "
        "옥천군 영동군 증평군 진천군 괴산군 음성군 단양군"
    ),
    CHUNGNAM: (
        "천안시:동남구,서북구 공주시 보령시 아산시 서산시 논산시 "
        "계룡시 당진시 금산군 부여군 서천군 청양군 홍성군 예산군 "
        "태안군"
    ),
    JEONBUK: (
        "전주시:완산구,덕진구 군산시 익산시 정읍시 남원시 김제시 "
        "완주군 진안군 무주군 장수군 임실군 순창군 고창군 부안군"
    ),
    JEONNAM: (
        "목포시 여수시 순천시 나주시 광양시 담양군 곡성군 구례군 "
        "고흥군 보성군 화순군 장흥군 강진군 해남군 영암군 무안군 "
        "함평군 영광군 장성군 완도군 진도군 신안군"
    ),
    GYEONGBUK: (
        "포항시:남구,북구 경주시 김천시 안동시 구미시 영주시 영천시 "
        "상주시 문경시 경산시 의성군 청송군 영양군 영덕군 청도군 "
        "고령군 성주군 칠곡군 예천군 봉화군 울진군 울릉군"
    ),
    GYEONGNAM: (
        "창원시:의창구,성산구,마산합포구,마산회원구,진해구 진주시 "
        "통영시 사천시 김해시 밀양시 거제시 양산시 의령군 함안군 "
        "창녕군 고성군 남해군 하동군 산청군 함양군 거창군 합천군"
    ),
    JEJU: "제주시 서귀포시",
}

# Older names written under a 시도, mapped to the current (시도, 시군구).
LEGACY_SIGUNGU: Mapping[tuple[str, str], tuple[str, str]] = {
    (INCHEON, "남구"): (INCHEON, "미추홀구"),  # renamed 2018-07-01
    (GYEONGBUK, "군위군"): (DAEGU, "군위군"),  # moved to 대구 2023-07-01
}


def _parse_sigungu() -> dict[str, dict[str, tuple[str, ...]]]:
    table: dict[str, dict[str, tuple[str, ...]]] = {}
    for sido, text in _SIGUNGU_TEXT.items():
        entries: dict[str, tuple[str, ...]] = {}
        for item in text.split():
            name, _, subs = item.partition(":")
            entries[name] = tuple(subs.split(",")) if subs else ()
        table[sido] = entries
    return table


# 시도 → {시군구 → its own 구 (usually none)}
SIGUNGU: Mapping[str, Mapping[str, tuple[str, ...]]] = _parse_sigungu()

# The five districts of 광주광역시, the reference deployment.
GWANGJU_DISTRICTS: tuple[str, ...] = ("동구", "서구", "남구", "북구", "광산구")
