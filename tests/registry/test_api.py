"""The registry's REST API, on SQLite and on PostgreSQL."""

from __future__ import annotations

import math
from typing import Any

import pytest
from fastapi.testclient import TestClient

from argus.identity.deps import current_principal
from argus.identity.principal import Principal, Role

GWANGJU_CITY_HALL = (35.1601, 126.8514)


@pytest.fixture(autouse=True)
def _signed_in_as_system_admin(client: TestClient) -> None:
    """These tests are about the registry's behaviour; who may call it is tested elsewhere."""
    admin = Principal(
        user_id=1, username="admin", agency_id=1, roles=frozenset({Role.SYSTEM_ADMIN})
    )
    client.app.dependency_overrides[current_principal] = lambda: admin  # type: ignore[attr-defined]


def _agency(client: TestClient, name: str, kind: str = "district", **extra: Any) -> dict[str, Any]:
    response = client.post("/api/agencies", json={"name": name, "kind": kind, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def _site(
    client: TestClient, owner_id: int, lat: float, lon: float, **extra: Any
) -> dict[str, Any]:
    body = {"owner_id": owner_id, "lat": lat, "lon": lon, **extra}
    response = client.post("/api/sites", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _camera(
    client: TestClient, site_id: int, purpose: str = "교통단속", **extra: Any
) -> dict[str, Any]:
    response = client.post("/api/cameras", json={"site_id": site_id, "purpose": purpose, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def _offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    dlat = north_m / 111_195.0
    dlon = east_m / (111_195.0 * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def _small_city(client: TestClient) -> dict[str, Any]:
    city = _agency(client, "광주광역시", "city", region="광주광역시")
    dong = _agency(client, "광주광역시 동구", parent_id=city["id"], district="동구")
    buk = _agency(client, "광주광역시 북구", parent_id=city["id"], district="북구")
    lat0, lon0 = GWANGJU_CITY_HALL
    cams: dict[str, int] = {}
    for name, owner, district, (north, east), purpose in [
        ("a", dong, "동구", (100, 0), "교통단속"),
        ("b", dong, "동구", (0, 400), "교통단속"),
        ("c", buk, "북구", (0, -600), "생활방범"),
        ("d", city, "북구", (2000, 2000), "생활방범"),
    ]:
        lat, lon = _offset(lat0, lon0, north, east)
        site = _site(
            client,
            owner["id"],
            lat,
            lon,
            district=district,
            region="광주광역시",
            lot_address=f"{district} 시험동 {name}",
        )
        cams[name] = _camera(client, site["id"], purpose, name=f"camera {name}")["id"]
    return {"city": city, "dong": dong, "buk": buk, "cams": cams}


def test_crud_round_trip(client: TestClient) -> None:
    world = _small_city(client)
    cam_id = world["cams"]["a"]
    got = client.get(f"/api/cameras/{cam_id}").json()
    assert got["owner_name"] == "광주광역시 동구"
    assert got["district"] == "동구"
    assert got["retention_days"] == 30 and got["camera_type"] == "fixed"

    changed = client.patch(
        f"/api/cameras/{cam_id}",
        json={"camera_type": "ptz", "azimuth_deg": 90, "fov_deg": 60, "tags": ["b", "a", "a"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["camera_type"] == "ptz"
    assert changed.json()["tags"] == ["a", "b"]
    assert client.get(f"/api/cameras/{cam_id}").json()["azimuth_deg"] == 90

    assert client.delete(f"/api/cameras/{cam_id}").status_code == 204
    assert client.get(f"/api/cameras/{cam_id}").status_code == 404
    assert client.get("/api/cameras").json()["total"] == 3


def test_credentials_are_never_returned(client: TestClient, registry: Any) -> None:
    world = _small_city(client)
    site = client.get(f"/api/cameras/{world['cams']['b']}").json()["site_id"]
    body: dict[str, Any] = {
        "main_stream_url": "rtsp://127.0.0.1:8554/cam/1",
        "credentials": {"username": "admin", "password": "s3cret-pw"},
    }
    created = _camera(client, site, **body)
    assert created["has_credentials"] is True
    assert "s3cret-pw" not in client.get(f"/api/cameras/{created['id']}").text
    assert "s3cret-pw" not in client.get("/api/cameras.geojson").text
    assert registry.camera_credentials(created["id"]) == {
        "username": "admin",
        "password": "s3cret-pw",
    }


def test_credentials_are_encrypted_at_rest(client: TestClient, engine: Any) -> None:
    world = _small_city(client)
    site = client.get(f"/api/cameras/{world['cams']['b']}").json()["site_id"]
    _camera(client, site, credentials={"username": "admin", "password": "plain-text-pw"})
    with engine.connect() as connection:
        stored = [
            bytes(r[0])
            for r in connection.exec_driver_sql(
                "select credentials_enc from cameras where credentials_enc is not null"
            )
        ]
    assert stored and all(b"plain-text-pw" not in blob and b"admin" not in blob for blob in stored)


def test_filters(client: TestClient) -> None:
    world = _small_city(client)
    cams = world["cams"]

    def ids(**params: Any) -> list[int]:
        response = client.get("/api/cameras", params=params)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["items"]]

    assert ids(agency_id=world["dong"]["id"]) == [cams["a"], cams["b"]]
    assert ids(district="북구") == [cams["c"], cams["d"]]
    assert ids(district="광주광역시 북구") == [cams["c"], cams["d"]]
    assert ids(district="부산광역시 북구") == []
    assert ids(purpose="생활방범") == [cams["c"], cams["d"]]
    lat0, lon0 = GWANGJU_CITY_HALL
    assert ids(bbox=f"{lon0 - 0.008},{lat0 - 0.008},{lon0 + 0.008},{lat0 + 0.008}") == [
        cams["a"],
        cams["b"],
        cams["c"],
    ]
    # within 500 m of city hall: a (100 m) and b (400 m), nearest first; c is 600 m away
    near = client.get("/api/cameras", params={"near": f"{lat0},{lon0}", "radius": 500}).json()
    assert [c["id"] for c in near["items"]] == [cams["a"], cams["b"]]
    assert abs(near["items"][0]["distance_m"] - 100) < 1
    assert abs(near["items"][1]["distance_m"] - 400) < 2
    assert ids(near=f"{lat0},{lon0}", radius=700, purpose="생활방범") == [cams["c"]]
    assert ids(q="시험동 c") == [cams["c"]]


def test_paging_and_sorting(client: TestClient) -> None:
    world = _small_city(client)
    cams = world["cams"]
    first = client.get("/api/cameras", params={"limit": 2, "sort": "-id"}).json()
    assert first["total"] == 4 and first["limit"] == 2
    assert [c["id"] for c in first["items"]] == [cams["d"], cams["c"]]
    second = client.get("/api/cameras", params={"limit": 2, "offset": 2, "sort": "-id"}).json()
    assert [c["id"] for c in second["items"]] == [cams["b"], cams["a"]]
    by_name = client.get("/api/cameras", params={"sort": "-name"}).json()["items"]
    assert [c["name"] for c in by_name] == ["camera d", "camera c", "camera b", "camera a"]


def test_spatial_index_follows_changes(client: TestClient) -> None:
    world = _small_city(client)
    lat0, lon0 = GWANGJU_CITY_HALL
    where: dict[str, Any] = {"near": f"{lat0},{lon0}", "radius": 150}
    assert [c["id"] for c in client.get("/api/cameras", params=where).json()["items"]] == [
        world["cams"]["a"]
    ]
    far_lat, far_lon = _offset(lat0, lon0, 5000, 0)
    moved = client.patch(
        f"/api/cameras/{world['cams']['a']}", json={"lat": far_lat, "lon": far_lon}
    )
    assert moved.status_code == 200
    assert client.get("/api/cameras", params=where).json()["items"] == []
    near_lat, near_lon = _offset(lat0, lon0, 0, 50)
    site = _site(client, world["dong"]["id"], near_lat, near_lon)
    new = _camera(client, site["id"])
    assert [c["id"] for c in client.get("/api/cameras", params=where).json()["items"]] == [
        new["id"]
    ]
    nearest = client.get("/api/cameras/nearest", params={"lat": lat0, "lon": lon0, "k": 2}).json()
    assert [n["camera_id"] for n in nearest] == [new["id"], world["cams"]["b"]]


def test_geojson_export(client: TestClient) -> None:
    world = _small_city(client)
    collection = client.get("/api/cameras.geojson", params={"district": "동구"}).json()
    assert collection["type"] == "FeatureCollection"
    assert [f["id"] for f in collection["features"]] == [world["cams"]["a"], world["cams"]["b"]]
    feature = collection["features"][0]
    camera = client.get(f"/api/cameras/{feature['id']}").json()
    assert feature["geometry"] == {"type": "Point", "coordinates": [camera["lon"], camera["lat"]]}
    assert feature["properties"]["owner_name"] == "광주광역시 동구"
    # gzip-encoded when asked (the browser always asks), plain otherwise; the same collection
    zipped = client.get("/api/cameras.geojson", headers={"Accept-Encoding": "gzip"})
    plain = client.get("/api/cameras.geojson", headers={"Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-type"].startswith("application/geo+json")
    assert zipped.json() == plain.json() and len(plain.json()["features"]) >= 2


def _message(response: Any) -> str:
    return str(response.json()["message"])


def test_bad_requests_name_the_field_and_change_nothing(client: TestClient) -> None:
    world = _small_city(client)
    before = client.get("/api/cameras").json()["total"]
    site_id = client.get(f"/api/cameras/{world['cams']['a']}").json()["site_id"]
    cases = [
        ("post", "/api/cameras", {"site_id": site_id, "purpose": "관광"}, "purpose"),
        ("post", "/api/cameras", {"site_id": 999999, "purpose": "교통단속"}, "site_id"),
        ("post", "/api/cameras", {"site_id": site_id, "purpose": "교통단속", "lat": 91}, "lat"),
        (
            "post",
            "/api/cameras",
            {"site_id": site_id, "purpose": "교통단속", "main_stream_url": "http://x"},
            "main_stream_url",
        ),
        (
            "post",
            "/api/cameras",
            {"site_id": site_id, "purpose": "교통단속", "colour": "red"},
            "colour",
        ),
        ("post", "/api/sites", {"owner_id": world["dong"]["id"], "lat": 35.1}, "lon"),
        ("post", "/api/agencies", {"name": "x", "kind": "army"}, "kind"),
        ("patch", f"/api/cameras/{world['cams']['a']}", {"azimuth_deg": 360}, "azimuth_deg"),
        ("patch", f"/api/cameras/{world['cams']['a']}", {"lat": None}, "lat"),
    ]
    for method, url, body, field in cases:
        response = getattr(client, method)(url, json=body)
        assert response.status_code == 422, (url, body, response.text)
        assert field in _message(response), (field, response.text)
    bad_params: list[tuple[dict[str, Any], str]] = [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "127,36,126,35"}, "bbox"),
        ({"near": "35.1"}, "near"),
        ({"near": "35.1,126.9", "radius": -5}, "radius"),
        ({"sort": "colour"}, "sort"),
        ({"sort": "distance"}, "sort"),
        ({"limit": 0}, "limit"),
        ({"purpose": "관광"}, "purpose"),
    ]
    for params, field in bad_params:
        response = client.get("/api/cameras", params=params)
        assert response.status_code == 422, (params, response.text)
        assert field in _message(response), (field, response.text)
    assert client.get("/api/cameras").json()["total"] == before
    assert client.get(f"/api/cameras/{world['cams']['a']}").json()["lat"] != 91


def test_conflicts(client: TestClient) -> None:
    world = _small_city(client)
    duplicate = client.post("/api/agencies", json={"name": "광주광역시 동구", "kind": "district"})
    assert duplicate.status_code == 409
    assert client.delete(f"/api/agencies/{world['dong']['id']}").status_code == 409
    site_id = client.get(f"/api/cameras/{world['cams']['a']}").json()["site_id"]
    assert client.delete(f"/api/sites/{site_id}").status_code == 409
    cycle = client.patch(
        f"/api/agencies/{world['city']['id']}", json={"parent_id": world["dong"]["id"]}
    )
    assert cycle.status_code == 422 and "parent_id" in _message(cycle)
    assert client.get(f"/api/agencies/{world['dong']['id']}").status_code == 200


def test_moving_a_site_moves_its_cameras(client: TestClient) -> None:
    world = _small_city(client)
    camera = client.get(f"/api/cameras/{world['cams']['c']}").json()
    moved = client.patch(f"/api/sites/{camera['site_id']}", json={"lat": 35.2, "lon": 126.9})
    assert moved.status_code == 200
    after = client.get(f"/api/cameras/{camera['id']}").json()
    assert (after["lat"], after["lon"]) == (35.2, 126.9)


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/api/health").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert "/api/cameras" in spec["paths"] and "/api/cameras.geojson" in spec["paths"]
