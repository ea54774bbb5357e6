"""Every API route is guarded, and follows its stated policy for every role.

The routes are read from the running app's OpenAPI document, so a route added without an entry
in POLICY fails ``test_every_route_has_a_policy``. Callers sign in for real (bearer tokens); each
role is tried against the agency's own camera, another agency's camera under an agreement, and
another agency's camera without one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from argus.identity.access import Console
from argus.identity.passwords import Hasher
from argus.identity.principal import Role
from argus.identity.schemas import UserCreate
from argus.registry.schemas import AgencyCreate, CameraCreate, SiteCreate
from argus.registry.service import Registry
from argus.registry.vocab import AgencyKind, Purpose

PASSWORD = "Gwangju-2026!"
PUBLIC = {
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/token"),
    ("GET", "/api/health"),
    # an evidence download: the signed, expiring link is the capability (the recipient may
    # have no account); a bad link gets 410 (tests/evidence/test_export_flow.py)
    ("GET", "/api/exports/download/{link}"),
    # a room's system (112, 119, the disaster room): the HMAC signature of the body is the
    # credential; unsigned or badly signed requests get 401 (tests/incidents/test_intake.py)
    ("POST", "/api/incidents/webhook"),
    ("POST", "/api/incidents/cap"),
}
ANY = frozenset(Role)
ADMINS = frozenset({Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN})
SYSTEM = frozenset({Role.SYSTEM_ADMIN})
AGENCY_ADMIN = frozenset({Role.AGENCY_ADMIN})
AUDITORS = frozenset({Role.AUDITOR, Role.SYSTEM_ADMIN})
OWN_VIDEO = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.AGENCY_ADMIN})
SHARED_VIDEO = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.RESPONDER})


@dataclass
class World:
    city: int
    buk: int
    dong: int
    own_camera: int  # the city's
    shared_camera: int  # 북구's, shared with the city by an accepted agreement
    private_camera: int  # 동구's, shared with nobody
    own_site: int
    agreement: int
    draft: int  # a draft the city requested from 동구
    users: dict[Role, int]  # one user of the city per role
    tokens: dict[Role, dict[str, str]]
    buk_admin: dict[str, str]
    target_user: int  # a city operator that admins act on
    stream_token: str
    playback_token: str  # the city operator's, for the city's own camera


def _bearer(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def world(client: TestClient, registry: Registry) -> World:
    app: Any = client.app
    # argon2id at test strength: the parameters are the deployment's business, not this test's
    app.state.identity.ctx.hasher = Hasher(
        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )

    def agency(name: str, kind: AgencyKind, **extra: Any) -> int:
        return registry.create_agency(AgencyCreate(name=name, kind=kind, **extra)).id

    def camera(owner: int, purpose: Purpose) -> tuple[int, int]:
        site = registry.create_site(SiteCreate(owner_id=owner, lat=35.16, lon=126.9))
        return registry.create_camera(CameraCreate(site_id=site.id, purpose=purpose)).id, site.id

    city = agency("광주광역시", AgencyKind.CITY)
    buk = agency("광주광역시 북구", AgencyKind.DISTRICT, parent_id=city)
    dong = agency("광주광역시 동구", AgencyKind.DISTRICT, parent_id=city)
    own, own_site = camera(city, Purpose.CRIME_PREVENTION)
    shared, _ = camera(buk, Purpose.TRAFFIC_ENFORCEMENT)
    private, _ = camera(dong, Purpose.TRAFFIC_ENFORCEMENT)

    users = app.state.identity.users

    def user(name: str, agency_id: int, role: Role) -> int:
        data = UserCreate(username=name, agency_id=agency_id, roles=[role], password=PASSWORD)
        return int(users.create_user(Console("test"), data).id)

    ids = {role: user(f"city-{role.value}", city, role) for role in Role}
    target = user("city-target", city, Role.OPERATOR)
    user("buk-admin", buk, Role.AGENCY_ADMIN)
    user("dong-admin", dong, Role.AGENCY_ADMIN)
    tokens = {role: _bearer(client, f"city-{role.value}") for role in Role}
    buk_admin = _bearer(client, "buk-admin")
    terms = {
        "purposes": ["crime_prevention"],
        "capabilities": ["live", "playback"],
        "legal_basis": "개인정보 보호법 제25조",
    }
    created = client.post(
        "/api/agreements",
        headers=buk_admin,
        json={
            "owner_agency_id": buk,
            "consumer_agency_id": city,
            "selector": {"camera_ids": [shared]},
            **terms,
        },
    )
    assert created.status_code == 201, created.text
    agreement = created.json()["id"]
    for verb in ("propose", "accept"):
        done = client.post(f"/api/agreements/{agreement}/{verb}", headers=buk_admin)
        assert done.status_code == 200, done.text
    draft = client.post(
        "/api/agreements",
        headers=tokens[Role.AGENCY_ADMIN],
        json={
            "owner_agency_id": dong,
            "consumer_agency_id": city,
            "selector": {"camera_ids": [private]},
            **terms,
        },
    )
    assert draft.status_code == 201, draft.text
    stream = client.post(
        "/api/access/token",
        headers=tokens[Role.OPERATOR],
        json={"camera_id": own, "capability": "live", "purpose": "crime_prevention"},
    )
    assert stream.status_code == 200, stream.text
    playback = client.post(
        "/api/access/token",
        headers=tokens[Role.OPERATOR],
        json={"camera_id": own, "capability": "playback", "purpose": "crime_prevention"},
    )
    assert playback.status_code == 200, playback.text
    return World(
        city=city,
        buk=buk,
        dong=dong,
        own_camera=own,
        shared_camera=shared,
        private_camera=private,
        own_site=own_site,
        agreement=agreement,
        draft=draft.json()["id"],
        users=ids,
        tokens=tokens,
        buk_admin=buk_admin,
        target_user=target,
        stream_token=stream.json()["token"],
        playback_token=playback.json()["token"],
    )


@dataclass(frozen=True)
class Call:
    path: str
    json: Any = None
    params: dict[str, Any] | None = None


Maker = Callable[[World], Call]


@dataclass(frozen=True)
class Rule:
    """Which of the city's roles get past the guard (anything but 401/403) for each call."""

    allowed: frozenset[Role]
    call: Maker


def _token(capability: str = "live") -> Callable[[World, int], Call]:
    def make(w: World, camera: int) -> Call:
        body = {"camera_id": camera, "capability": capability, "purpose": "crime_prevention"}
        return Call("/api/access/token", json=body)

    return make


def fixed(path: str, **kwargs: Any) -> Maker:
    return lambda w: Call(path, **kwargs)


def _hls(file: str) -> list[Rule]:
    """HLS is gated by the stream token alone: refused without one, let through with one."""
    path = "/api/hls/{}/main/" + file
    return [
        Rule(frozenset(), lambda w: Call(path.format(w.own_camera))),
        Rule(ANY, lambda w: Call(path.format(w.own_camera), params={"token": w.stream_token})),
    ]


def _playback(file: str) -> list[Rule]:
    """Playback routes are gated by a playback stream token alone."""

    def call(w: World, token: str | None) -> Call:
        until = datetime.now(UTC)
        params = {"from": (until - timedelta(minutes=10)).isoformat(), "until": until.isoformat()}
        if token is not None:
            params["token"] = token
        return Call(f"/api/playback/{w.own_camera}/{file}", params=params)

    return [
        Rule(frozenset(), lambda w: call(w, None)),
        Rule(frozenset(), lambda w: call(w, w.stream_token)),  # a live token is not enough
        Rule(ANY, lambda w: call(w, w.playback_token)),
    ]


def _hold(w: World, camera: int) -> Call:
    until = datetime.now(UTC)
    body = {
        "camera_id": camera,
        "from": (until - timedelta(hours=1)).isoformat(),
        "until": until.isoformat(),
        "reason": "수사 협조 요청",
        "case_number": "2026-광주북부-1234",
    }
    return Call("/api/recordings/holds", json=body)


def _export(w: World) -> dict[str, Any]:
    until = datetime.now(UTC)
    item = {
        "camera_id": w.own_camera,
        "from": (until - timedelta(minutes=10)).isoformat(),
        "until": until.isoformat(),
    }
    return {
        "items": [item],
        "purpose": "crime_prevention",
        "legal_basis": "개인정보 보호법 제18조",
        "recipient": "광주북부경찰서",
    }


def _trigger(camera: int) -> Call:
    body = {"camera_ids": [camera], "minutes": 1, "reason": "112 신고: 폭행"}
    return Call("/api/recordings/triggers", json=body)


PLAN = {"mode": "continuous"}
PTZ_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.RESPONDER})
TOUR = {
    "stops": [{"preset": "1", "dwell_s": 30}, {"preset": "2", "dwell_s": 30}],
    "revisit_delay_s": 300,
}
SCHEDULE = {"windows": [{"start": "07:00", "end": "22:00", "mode": "enforcement"}]}
RAISERS = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.RESPONDER, Role.SYSTEM_ADMIN})
INCIDENT = {"source": "operator", "type": "assault", "at": {"lat": 35.16, "lon": 126.9}}
HOLD_READERS = frozenset({Role.AGENCY_ADMIN, Role.SUPERVISOR, Role.AUDITOR, Role.SYSTEM_ADMIN})
PLANNERS = frozenset({Role.PLANNER, Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN})
# a demand layer of one blind spot 500 m from the cameras: the solve takes milliseconds
SPOTS = {"demand": [{"name": "spots.csv", "content": "lat,lon,weight\n35.1645,126.9,1\n"}]}

POLICY: dict[tuple[str, str], list[Rule]] = {
    ("POST", "/api/auth/logout"): [Rule(ANY, fixed("/api/auth/logout"))],
    ("GET", "/api/auth/me"): [Rule(ANY, fixed("/api/auth/me"))],
    ("POST", "/api/auth/password"): [
        Rule(
            ANY,
            fixed(
                "/api/auth/password", json={"current_password": PASSWORD, "new_password": "short"}
            ),
        )
    ],
    ("GET", "/api/users"): [Rule(ADMINS, fixed("/api/users"))],
    ("POST", "/api/users"): [
        Rule(
            ADMINS,
            lambda w: Call(
                "/api/users",
                json={
                    "username": "new-user",
                    "agency_id": w.city,
                    "roles": ["operator"],
                    "password": "Gwangju-2027!",
                },
            ),
        )
    ],
    ("GET", "/api/users/{user_id}"): [Rule(ADMINS, lambda w: Call(f"/api/users/{w.target_user}"))],
    ("PATCH", "/api/users/{user_id}"): [
        Rule(ADMINS, lambda w: Call(f"/api/users/{w.target_user}", json={"display_name": "x"}))
    ],
    ("POST", "/api/users/{user_id}/disable"): [
        Rule(ADMINS, lambda w: Call(f"/api/users/{w.target_user}/disable"))
    ],
    ("POST", "/api/users/{user_id}/enable"): [
        Rule(ADMINS, lambda w: Call(f"/api/users/{w.target_user}/enable"))
    ],
    ("POST", "/api/users/{user_id}/reset-password"): [
        Rule(
            ADMINS,
            lambda w: Call(
                f"/api/users/{w.target_user}/reset-password", json={"password": "short"}
            ),
        )
    ],
    ("GET", "/api/users/{user_id}/keys"): [
        Rule(ADMINS, lambda w: Call(f"/api/users/{w.target_user}/keys"))
    ],
    ("POST", "/api/users/{user_id}/keys"): [
        Rule(ADMINS, lambda w: Call(f"/api/users/{w.target_user}/keys", json={"name": "vms"}))
    ],
    ("POST", "/api/users/{user_id}/keys/{key_id}/revoke"): [
        Rule(ADMINS, lambda w: Call(f"/api/users/{w.target_user}/keys/999999/revoke"))
    ],
    ("GET", "/api/agencies"): [Rule(ANY, fixed("/api/agencies"))],
    ("POST", "/api/agencies"): [
        Rule(SYSTEM, fixed("/api/agencies", json={"name": "새 기관", "kind": "other"}))
    ],
    ("GET", "/api/agencies/{agency_id}"): [Rule(ANY, lambda w: Call(f"/api/agencies/{w.city}"))],
    ("PATCH", "/api/agencies/{agency_id}"): [
        Rule(ADMINS, lambda w: Call(f"/api/agencies/{w.city}", json={"phone": "062-120"})),
        Rule(SYSTEM, lambda w: Call(f"/api/agencies/{w.buk}", json={"phone": "062-410"})),
    ],
    ("DELETE", "/api/agencies/{agency_id}"): [
        Rule(SYSTEM, lambda w: Call(f"/api/agencies/{w.dong}"))
    ],
    ("GET", "/api/sites"): [Rule(ANY, fixed("/api/sites"))],
    ("POST", "/api/sites"): [
        Rule(
            ADMINS,
            lambda w: Call("/api/sites", json={"owner_id": w.city, "lat": 35.1, "lon": 126.9}),
        ),
        Rule(
            SYSTEM,
            lambda w: Call("/api/sites", json={"owner_id": w.buk, "lat": 35.1, "lon": 126.9}),
        ),
    ],
    ("GET", "/api/sites/{site_id}"): [Rule(ANY, lambda w: Call(f"/api/sites/{w.own_site}"))],
    ("PATCH", "/api/sites/{site_id}"): [
        Rule(ADMINS, lambda w: Call(f"/api/sites/{w.own_site}", json={"name": "시청 앞"}))
    ],
    ("DELETE", "/api/sites/{site_id}"): [Rule(ADMINS, lambda w: Call(f"/api/sites/{w.own_site}"))],
    ("GET", "/api/cameras"): [Rule(ANY, fixed("/api/cameras"))],
    ("POST", "/api/cameras"): [
        Rule(
            ADMINS,
            lambda w: Call("/api/cameras", json={"site_id": w.own_site, "purpose": "생활방범"}),
        )
    ],
    ("GET", "/api/cameras.geojson"): [Rule(ANY, fixed("/api/cameras.geojson"))],
    ("GET", "/api/cameras/nearest"): [
        Rule(ANY, fixed("/api/cameras/nearest", params={"lat": 35.16, "lon": 126.9}))
    ],
    ("GET", "/api/cameras/{camera_id}"): [
        Rule(ANY, lambda w: Call(f"/api/cameras/{w.private_camera}"))
    ],
    ("PATCH", "/api/cameras/{camera_id}"): [
        Rule(ADMINS, lambda w: Call(f"/api/cameras/{w.own_camera}", json={"name": "x"})),
        Rule(SYSTEM, lambda w: Call(f"/api/cameras/{w.shared_camera}", json={"name": "x"})),
        Rule(SYSTEM, lambda w: Call(f"/api/cameras/{w.private_camera}", json={"name": "x"})),
    ],
    ("DELETE", "/api/cameras/{camera_id}"): [
        Rule(SYSTEM, lambda w: Call(f"/api/cameras/{w.shared_camera}")),
        Rule(ADMINS, lambda w: Call(f"/api/cameras/{w.own_camera}")),
    ],
    ("GET", "/api/agreements"): [Rule(ANY, fixed("/api/agreements"))],
    ("POST", "/api/agreements"): [
        Rule(
            AGENCY_ADMIN,
            lambda w: Call(
                "/api/agreements",
                json={
                    "owner_agency_id": w.dong,
                    "consumer_agency_id": w.city,
                    "selector": {"camera_ids": [w.private_camera]},
                    "purposes": ["disaster"],
                    "capabilities": ["live"],
                    "legal_basis": "재난안전법",
                },
            ),
        )
    ],
    # agreements are shown to the parties' users (others are told they do not exist)
    ("GET", "/api/agreements/{agreement_id}"): [
        Rule(ANY, lambda w: Call(f"/api/agreements/{w.agreement}"))
    ],
    # only the owner's admin (북구) changes an accepted agreement; the city's roles never do
    ("PATCH", "/api/agreements/{agreement_id}"): [
        Rule(
            frozenset(),
            lambda w: Call(f"/api/agreements/{w.agreement}", json={"capabilities": ["live"]}),
        ),
        Rule(
            AGENCY_ADMIN,
            lambda w: Call(f"/api/agreements/{w.draft}", json={"title": "재난 협조 요청"}),
        ),
    ],
    ("POST", "/api/agreements/{agreement_id}/propose"): [
        Rule(AGENCY_ADMIN, lambda w: Call(f"/api/agreements/{w.draft}/propose"))
    ],
    ("POST", "/api/agreements/{agreement_id}/accept"): [
        Rule(frozenset(), lambda w: Call(f"/api/agreements/{w.draft}/accept"))
    ],
    ("POST", "/api/agreements/{agreement_id}/suspend"): [
        Rule(frozenset(), lambda w: Call(f"/api/agreements/{w.agreement}/suspend"))
    ],
    ("POST", "/api/agreements/{agreement_id}/resume"): [
        Rule(frozenset(), lambda w: Call(f"/api/agreements/{w.agreement}/resume"))
    ],
    ("POST", "/api/agreements/{agreement_id}/revoke"): [
        Rule(frozenset(), lambda w: Call(f"/api/agreements/{w.agreement}/revoke"))
    ],
    # a question, not an access: answered for everyone (and audited)
    ("GET", "/api/access/check"): [
        Rule(
            ANY,
            lambda w: Call(
                "/api/access/check",
                params={
                    "camera": w.private_camera,
                    "capability": "live",
                    "purpose": "crime_prevention",
                },
            ),
        )
    ],
    ("POST", "/api/access/token"): [
        Rule(OWN_VIDEO, lambda w: _token()(w, w.own_camera)),
        Rule(SHARED_VIDEO, lambda w: _token()(w, w.shared_camera)),
        Rule(frozenset(), lambda w: _token()(w, w.private_camera)),
        Rule(
            frozenset({Role.SUPERVISOR, Role.AGENCY_ADMIN}),
            lambda w: _token("export")(w, w.own_camera),
        ),
        Rule(frozenset(), lambda w: _token("export")(w, w.shared_camera)),
    ],
    ("POST", "/api/access/token/renew"): [
        Rule(
            frozenset({Role.OPERATOR}),
            lambda w: Call("/api/access/token/renew", json={"token": w.stream_token}),
        )
    ],
    ("POST", "/api/access/token/check"): [
        Rule(ANY, lambda w: Call("/api/access/token/check", json={"token": w.stream_token}))
    ],
    ("GET", "/api/audit"): [Rule(AUDITORS, fixed("/api/audit"))],
    ("GET", "/api/audit/export.jsonl"): [Rule(AUDITORS, fixed("/api/audit/export.jsonl"))],
    ("GET", "/api/audit/export.csv"): [Rule(AUDITORS, fixed("/api/audit/export.csv"))],
    ("GET", "/api/audit/verify"): [Rule(AUDITORS, fixed("/api/audit/verify"))],
    ("GET", "/api/ledger"): [Rule(AUDITORS, fixed("/api/ledger"))],
    ("GET", "/api/ledger.csv"): [Rule(AUDITORS, fixed("/api/ledger.csv"))],
    ("GET", "/api/ledger.html"): [Rule(AUDITORS, fixed("/api/ledger.html"))],
    ("GET", "/api/media/streams"): [
        Rule(OWN_VIDEO | SYSTEM, fixed("/api/media/streams")),
    ],
    ("GET", "/metrics"): [Rule(SYSTEM, fixed("/metrics"))],
    ("GET", "/api/live/{camera_id}/endpoint"): [
        Rule(ANY, lambda w: Call(f"/api/live/{w.own_camera}/endpoint")),
    ],
    ("GET", "/api/hls/{camera_id}/{stream}/index.m3u8"): _hls("index.m3u8"),
    ("GET", "/api/hls/{camera_id}/{stream}/plain.m3u8"): _hls("plain.m3u8"),
    ("GET", "/api/hls/{camera_id}/{stream}/init-{n}.mp4"): _hls("init-1.mp4"),
    ("GET", "/api/hls/{camera_id}/{stream}/seg-{msn}.m4s"): _hls("seg-0.m4s"),
    ("GET", "/api/hls/{camera_id}/{stream}/part-{msn}.{part}.m4s"): _hls("part-0.0.m4s"),
    ("GET", "/api/playback/{camera_id}/timeline"): _playback("timeline"),
    ("GET", "/api/playback/{camera_id}/index.m3u8"): _playback("index.m3u8"),
    ("GET", "/api/playback/{camera_id}/rec/{segment_id}"): _playback("rec/1.mp4"),
    ("GET", "/api/recordings/plans/{camera_id}"): [
        Rule(
            HOLD_READERS | {Role.OPERATOR},
            lambda w: Call(f"/api/recordings/plans/{w.own_camera}"),
        )
    ],
    ("PUT", "/api/recordings/plans/{camera_id}"): [
        Rule(ADMINS, lambda w: Call(f"/api/recordings/plans/{w.own_camera}", json=PLAN)),
        Rule(SYSTEM, lambda w: Call(f"/api/recordings/plans/{w.shared_camera}", json=PLAN)),
    ],
    ("GET", "/api/recordings/holds"): [Rule(HOLD_READERS, fixed("/api/recordings/holds"))],
    ("POST", "/api/recordings/holds"): [
        Rule(ADMINS, lambda w: _hold(w, w.own_camera)),
        Rule(SYSTEM, lambda w: _hold(w, w.shared_camera)),
    ],
    ("POST", "/api/recordings/triggers"): [
        Rule(OWN_VIDEO | SYSTEM, lambda w: _trigger(w.own_camera)),
        Rule(SYSTEM, lambda w: _trigger(w.shared_camera)),
    ],
    ("GET", "/api/recordings/triggers"): [
        Rule(OWN_VIDEO | SYSTEM, fixed("/api/recordings/triggers"))
    ],
    ("POST", "/api/recordings/triggers/{trigger_id}/stop"): [
        Rule(OWN_VIDEO | SYSTEM, fixed("/api/recordings/triggers/999/stop"))
    ],
    ("GET", "/api/console/config"): [Rule(ANY, fixed("/api/console/config"))],
    ("GET", "/api/console/wall"): [Rule(ANY, fixed("/api/console/wall"))],
    ("PUT", "/api/console/wall"): [
        Rule(ANY, fixed("/api/console/wall", json={"size": 4, "tiles": [None, 1]}))
    ],
    ("GET", "/api/console/boundaries/{layer}.geojson"): [
        Rule(ANY, fixed("/api/console/boundaries/districts.geojson"))
    ],
    ("POST", "/api/exports"): [
        Rule(
            frozenset({Role.SUPERVISOR, Role.AGENCY_ADMIN, Role.RESPONDER}),
            lambda w: Call("/api/exports", json=_export(w)),
        )
    ],
    ("GET", "/api/exports"): [Rule(ANY, fixed("/api/exports"))],
    ("GET", "/api/exports/{export_id}"): [Rule(ANY, fixed("/api/exports/999"))],
    ("POST", "/api/exports/{export_id}/approve"): [
        Rule(AGENCY_ADMIN, fixed("/api/exports/999/approve", json={}))
    ],
    ("POST", "/api/exports/{export_id}/refuse"): [
        Rule(AGENCY_ADMIN, fixed("/api/exports/999/refuse", json={"reason": "범위 밖"}))
    ],
    ("POST", "/api/exports/{export_id}/link"): [Rule(ANY, fixed("/api/exports/999/link"))],
    ("GET", "/api/incidents"): [Rule(ANY, fixed("/api/incidents"))],
    ("GET", "/api/incidents/types"): [Rule(ANY, fixed("/api/incidents/types"))],
    ("POST", "/api/incidents"): [Rule(RAISERS, fixed("/api/incidents", json=INCIDENT))],
    ("GET", "/api/incidents/{incident_id}"): [Rule(ANY, fixed("/api/incidents/999"))],
    ("POST", "/api/incidents/{incident_id}/activate"): [
        Rule(RAISERS, fixed("/api/incidents/999/activate"))
    ],
    ("POST", "/api/incidents/{incident_id}/close"): [
        Rule(RAISERS, fixed("/api/incidents/999/close", json={"reason": "종결"}))
    ],
    # PTZ and modes: camera 999 does not exist, so a role that gets past the guard reads 404
    ("GET", "/api/ptz/{camera_id}"): [Rule(PTZ_ROLES, fixed("/api/ptz/999"))],
    ("POST", "/api/ptz/{camera_id}/control"): [
        Rule(PTZ_ROLES, fixed("/api/ptz/999/control", json={"reason": "112 폭행 신고"}))
    ],
    ("POST", "/api/ptz/{camera_id}/move"): [
        Rule(PTZ_ROLES, fixed("/api/ptz/999/move", json={"mode": "relative", "pan": 0.1}))
    ],
    ("POST", "/api/ptz/{camera_id}/stop"): [Rule(PTZ_ROLES, fixed("/api/ptz/999/stop"))],
    ("POST", "/api/ptz/{camera_id}/preset"): [
        Rule(PTZ_ROLES, fixed("/api/ptz/999/preset", json={"preset": "1"}))
    ],
    ("POST", "/api/ptz/{camera_id}/home"): [Rule(PTZ_ROLES, fixed("/api/ptz/999/home"))],
    ("POST", "/api/ptz/{camera_id}/release"): [Rule(PTZ_ROLES, fixed("/api/ptz/999/release"))],
    ("GET", "/api/ptz/{camera_id}/tours/{kind}"): [
        Rule(OWN_VIDEO | SYSTEM, fixed("/api/ptz/999/tours/enforcement"))
    ],
    ("PUT", "/api/ptz/{camera_id}/tours/{kind}"): [
        Rule(ADMINS, fixed("/api/ptz/999/tours/enforcement", json=TOUR))
    ],
    ("GET", "/api/modes/{camera_id}"): [Rule(ANY, fixed("/api/modes/999"))],
    ("PUT", "/api/modes/{camera_id}"): [Rule(ADMINS, fixed("/api/modes/999", json=SCHEDULE))],
    ("POST", "/api/plan/coverage"): [Rule(PLANNERS, fixed("/api/plan/coverage", json=SPOTS))],
    ("GET", "/api/plan/redundancy"): [Rule(PLANNERS, fixed("/api/plan/redundancy"))],
    ("POST", "/api/plan/relocate"): [Rule(PLANNERS, fixed("/api/plan/relocate", json=SPOTS))],
    ("POST", "/api/recordings/holds/{hold_id}/release"): [
        Rule(
            ADMINS,
            lambda w: Call("/api/recordings/holds/999/release", json={"reason": "사건 종결"}),
        )
    ],
}


def _routes(client: TestClient) -> set[tuple[str, str]]:
    paths = client.get("/openapi.json").json()["paths"]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def test_every_route_has_a_policy(client: TestClient) -> None:
    routes = _routes(client)
    missing = routes - PUBLIC - set(POLICY)
    assert not missing, f"routes without a stated policy: {sorted(missing)}"
    stale = (set(POLICY) | PUBLIC) - routes
    assert not stale, f"policies for routes that no longer exist: {sorted(stale)}"


def test_every_route_refuses_the_signed_out(client: TestClient) -> None:
    for method, path in sorted(_routes(client) - PUBLIC):
        concrete = path
        for name in (
            "user_id",
            "key_id",
            "agency_id",
            "site_id",
            "camera_id",
            "agreement_id",
            "hold_id",
            "segment_id",
            "export_id",
            "trigger_id",
            "incident_id",
        ):
            concrete = concrete.replace("{" + name + "}", "1")
        response = client.request(method, concrete)
        assert response.status_code == 401, (method, path, response.status_code)


def _expectations() -> list[tuple[str, str, int, Rule]]:
    return [
        (method, path, index, rule)
        for (method, path), rules in POLICY.items()
        for index, rule in enumerate(rules)
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("method", "path", "index", "rule"),
    _expectations(),
    ids=[f"{m} {p} #{i}" for m, p, i, _ in _expectations()],
)
def test_route_follows_its_policy_for_every_role(
    client: TestClient, world: World, method: str, path: str, index: int, rule: Rule
) -> None:
    wrong: list[str] = []
    # refused roles first: an allowed call may change the world (delete, disable, revoke)
    for role in sorted(Role, key=lambda r: r in rule.allowed):
        headers = world.tokens[role]
        if path == "/api/auth/logout":  # signing out ends the token: use a fresh one
            headers = _bearer(client, f"city-{role.value}")
        call = rule.call(world)
        response = client.request(
            method, call.path, json=call.json, params=call.params, headers=headers
        )
        passed = response.status_code not in (401, 403) and not (
            response.status_code == 404 and "agreement" in call.path
        )
        if response.status_code >= 500:
            wrong.append(f"{role.value}: server error {response.status_code}")
        elif passed != (role in rule.allowed):
            wrong.append(f"{role.value}: {response.status_code} {response.text[:160]}")
    assert not wrong, "\n".join(wrong)
