"""The pure parsing layer of the national CCTV standard-data (전국CCTV표준데이터) importer.

`parse_file` / `parse_bytes` read a CSV (old 15-column, numbered, current 18-column layouts and
Gwangju's variant; UTF-8 with or without BOM, or CP949) or a GeoJSON FeatureCollection into a
ParsedFile of accepted rows, rejected rows and warnings. No database is touched here.
"""

from argus.registry.stdimport.agency import normalize_agency
from argus.registry.stdimport.errors import ImportFormatError
from argus.registry.stdimport.parsing import parse_bytes, parse_file
from argus.registry.stdimport.records import AgencyName, ParsedFile, RowIssue, StdRow

__all__ = [
    "AgencyName",
    "ImportFormatError",
    "ParsedFile",
    "RowIssue",
    "StdRow",
    "normalize_agency",
    "parse_bytes",
    "parse_file",
]
