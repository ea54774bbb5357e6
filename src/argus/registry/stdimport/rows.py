"""Turn the cells of one data row into a StdRow, or into the reasons it was rejected.

Shared by the CSV and GeoJSON readers: both hand over the cells in FIELDS order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from argus.registry.stdimport.agency import normalize_agency
from argus.registry.stdimport.areas import (
    FAR_OUTSIDE_KM,
    authority_area,
    distance_m,
    in_south_korea,
    km_outside_any,
)
from argus.registry.stdimport.columns import FIELDS, YEAR_ONLY_COLUMNS, ColumnMap, Field
from argus.registry.stdimport.records import AgencyName, ParsedFile, RowIssue, StdRow
from argus.registry.stdimport.values import (
    DEFAULT_RETENTION_DAYS,
    CellError,
    read_count,
    read_date,
    read_installed,
    read_number,
    read_purpose,
    read_resolution,
    read_retention,
)
from argus.registry.vocab import AgencyKind, Purpose

Cell = str | int | float | None
Point = tuple[float, float]  # (lat, lon)

# Geometry and 위도/경도 properties further apart than this get a warning.
GEOMETRY_TOLERANCE_M = 10.0

_AGENCY, _ROAD, _LOT, _PURPOSE, _COUNT, _RES, _FACING, _RETENTION = range(8)
_INSTALLED, _PHONE, _LAT, _LON, _DATE, _MANAGE_NO, _CODE, _PROVIDER = range(8, 16)
assert FIELDS[_PROVIDER] is Field.PROVIDER_NAME and FIELDS[_INSTALLED] is Field.INSTALLED


def tidy(cell: Cell) -> str | None:
    """The cell as text with runs of whitespace made single and the ends trimmed; None if empty."""
    if cell is None:
        return None
    if isinstance(cell, str):
        if not cell:
            return None
        return " ".join(cell.split()) or None
    return str(cell)


def _shown(lat: float, lon: float) -> str:
    return f"({lat:.6g}, {lon:.6g})"


class RowReader:
    """Reads rows of one file into its ParsedFile (rows, rejected, warnings)."""

    def __init__(self, columns: ColumnMap, result: ParsedFile) -> None:
        self.columns = columns
        self.result = result
        self._names = tuple(columns.name(item) for item in FIELDS)
        self._has_purpose = columns.has(Field.PURPOSE)
        self._year_only = self._names[_INSTALLED] in YEAR_ONLY_COLUMNS

    def read(
        self,
        line: int,
        cells: Sequence[Cell],
        point: Point | None = None,
        point_column: str = "geometry",
        shape_problem: str | None = None,
        shape_warning: str | None = None,
        clean: bool = False,
        point_problem: str | None = None,
    ) -> None:
        """Read one row; `point` is a (lat, lon) from a GeoJSON geometry, if any.

        `shape_problem` rejects the row for that reason alone (cells misaligned, not a feature);
        `shape_warning` is added to an accepted row's warnings; `point_problem` replaces the
        coordinate cells' own checks when neither geometry nor properties give coordinates.
        `clean` promises that every cell is a str without stray whitespace (a fast path).
        """
        names = self._names
        rejected: list[RowIssue] = []
        warnings: list[RowIssue] = []
        texts: list[str | None]
        stray: list[int] = []
        if clean:
            texts = cast("list[str | None]", [cell or None for cell in cells])
        else:
            texts = [tidy(cell) for cell in cells]
            stray = [
                index
                for index, cell in enumerate(cells)
                if isinstance(cell, str) and texts[index] is not None and texts[index] != cell
            ]

        agency_text = texts[_AGENCY]
        if shape_problem is None and agency_text is not None and agency_text == names[_AGENCY]:
            shape_problem = "the line repeats the header"
        if shape_problem is not None:
            # The cells are not where the header says: their own problems would mislead.
            self.result.rejected.append(RowIssue(line, None, shape_problem))
            return
        if agency_text is None:
            rejected.append(RowIssue(line, names[_AGENCY], f"{names[_AGENCY]} is empty"))

        count = 0
        count_text = texts[_COUNT]
        if count_text is None:
            rejected.append(RowIssue(line, names[_COUNT], f"{names[_COUNT]} is empty"))
        else:
            try:
                count, note = read_count(count_text, names[_COUNT])
            except CellError as error:
                rejected.append(RowIssue(line, names[_COUNT], str(error)))
            else:
                if note is not None:
                    warnings.append(RowIssue(line, names[_COUNT], note))

        lat = lon = 0.0
        given: list[float | None] = [None, None]
        check_cells = point is None and point_problem is None
        if point is None and point_problem is not None:
            rejected.append(RowIssue(line, point_column, point_problem))
        for slot, index in ((0, _LAT), (1, _LON)):
            cell = cells[index]
            value = cell if isinstance(cell, int | float) else texts[index]
            if value is None:
                if check_cells:
                    rejected.append(RowIssue(line, names[index], f"{names[index]} is empty"))
                continue
            try:
                given[slot] = read_number(value, names[index])
            except CellError as error:
                if check_cells:
                    rejected.append(RowIssue(line, names[index], str(error)))
        if point is not None:
            lat, lon = point
            if given[0] is not None and given[1] is not None:
                apart = distance_m(lat, lon, given[0], given[1])
                if apart > GEOMETRY_TOLERANCE_M:
                    warnings.append(
                        RowIssue(
                            line,
                            point_column,
                            f"the geometry {_shown(lat, lon)} and {names[_LAT]}/{names[_LON]} "
                            f"{_shown(given[0], given[1])} are {apart:,.0f} m apart; "
                            "the geometry was used",
                        )
                    )
        elif given[0] is not None and given[1] is not None:
            lat, lon = given[0], given[1]

        if rejected:
            self.result.rejected.extend(rejected)
            return

        assert agency_text is not None
        agency_cell = cells[_AGENCY]
        raw_agency = agency_cell if isinstance(agency_cell, str) else agency_text
        road = texts[_ROAD]
        lot = texts[_LOT]
        agency = normalize_agency(raw_agency, (texts[_PROVIDER], road, lot))

        coordinate_column = names[_LAT] if point is None else point_column
        label = "geometry" if point is not None else f"{names[_LAT]}/{names[_LON]}"
        problem = self._check_place(agency, label, lat, lon)
        if problem is not None and not in_south_korea(lat, lon) and in_south_korea(lon, lat):
            lat, lon = lon, lat
            warnings.append(
                RowIssue(
                    line,
                    coordinate_column,
                    f"latitude and longitude were swapped; read as {_shown(lat, lon)}",
                )
            )
            problem = self._check_place(agency, label, lat, lon)
        if problem is not None:
            self.result.rejected.append(RowIssue(line, coordinate_column, problem))
            return

        purpose = Purpose.OTHER
        purpose_raw = None
        if self._has_purpose:
            purpose_raw = texts[_PURPOSE]
            if purpose_raw is None:
                warnings.append(
                    RowIssue(
                        line,
                        names[_PURPOSE],
                        f"{names[_PURPOSE]} is empty; stored as {Purpose.OTHER}",
                    )
                )
            else:
                purpose, note = read_purpose(purpose_raw, names[_PURPOSE])
                if note is not None:
                    warnings.append(RowIssue(line, names[_PURPOSE], note))

        resolution_mp = None
        resolution_raw = texts[_RES]
        if resolution_raw is not None:
            resolution_mp, note = read_resolution(resolution_raw, names[_RES])
            if note is not None:
                warnings.append(RowIssue(line, names[_RES], note))

        facing = texts[_FACING]
        if facing == "0":
            facing = None

        retention = DEFAULT_RETENTION_DAYS
        retention_text = texts[_RETENTION]
        if retention_text is not None:
            retention, note = read_retention(retention_text, names[_RETENTION])
            if note is not None:
                warnings.append(RowIssue(line, names[_RETENTION], note))

        data_date = None
        date_text = texts[_DATE]
        if date_text is not None:
            data_date, note = read_date(date_text, names[_DATE])
            if note is not None:
                warnings.append(RowIssue(line, names[_DATE], note))

        year = month = None
        installed_text = texts[_INSTALLED]
        if installed_text is not None:
            year, month, note = read_installed(installed_text, names[_INSTALLED], self._year_only)
            if note is not None:
                warnings.append(RowIssue(line, names[_INSTALLED], note))
            if (
                year is not None
                and data_date is not None
                and (year, month or 1) > (data_date.year, data_date.month)
            ):
                warnings.append(
                    RowIssue(
                        line,
                        names[_INSTALLED],
                        f"{names[_INSTALLED]} '{installed_text}' is later than "
                        f"{names[_DATE]} {data_date.isoformat()}",
                    )
                )

        self.result.rows.append(
            StdRow(
                line,
                texts[_MANAGE_NO],
                texts[_CODE],
                agency,
                road,
                lot,
                purpose,
                purpose_raw,
                count,
                resolution_mp,
                resolution_raw,
                facing,
                retention,
                year,
                month,
                texts[_PHONE],
                lat,
                lon,
                data_date,
            )
        )
        for index in stray:
            warnings.append(
                RowIssue(line, names[index], f"stray spaces removed from {names[index]}")
            )
        if shape_warning is not None:
            warnings.append(RowIssue(line, None, shape_warning))
        if warnings:
            self.result.warnings.extend(warnings)

    @staticmethod
    def _check_place(agency: AgencyName, label: str, lat: float, lon: float) -> str | None:
        """Why the point cannot be the agency's, or None when it can."""
        district = agency.district if agency.kind is AgencyKind.DISTRICT else None
        area = authority_area(agency.region, district)
        if area is not None:
            for box in area[1]:
                if box.south <= lat <= box.north and box.west <= lon <= box.east:
                    return None
        where = f"{label} {_shown(lat, lon)}"
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            return f"{where} are impossible coordinates"
        if not in_south_korea(lat, lon):
            return f"{where} is outside South Korea"
        if area is not None:
            away = km_outside_any(area[1], lat, lon)
            if away > FAR_OUTSIDE_KM:
                return f"{where} is {away:.1f} km outside {area[0]}, the area of {agency.canonical}"
        return None
