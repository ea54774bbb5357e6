"""The national standard data's current 18 columns, as DESIGN.md §6 lists them.

The tests keep their own copy rather than importing the importer's, so that a typo in the
importer's column list is caught by tests that build files from this one.
"""

from __future__ import annotations

STD_18 = [
    "개방자치단체코드", "관리번호", "관리기관명", "소재지도로명주소", "소재지지번주소",
    "설치목적구분", "카메라대수", "카메라화소수", "촬영방면정보", "보관일수", "설치연월",
    "관리기관전화번호", "WGS84위도", "WGS84경도", "데이터기준일자", "데이터갱신구분",
    "데이터갱신시점", "최종수정시점",
]  # fmt: skip
