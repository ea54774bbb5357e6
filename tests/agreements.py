"""Helpers for tests that need an accepted sharing agreement, made through the real API."""

from __future__ import annotations

import httpx


def bearer(base: str, username: str, password: str) -> dict[str, str]:
    """The Authorization header of a signed-in user."""
    r = httpx.post(f"{base}/api/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def accepted_agreement(
    base: str,
    admin: dict[str, str],
    owner: int,
    consumer: int,
    purposes: list[str],
    capabilities: list[str],
    legal_basis: str = "광주광역시-북구 CCTV 연계 협약",
) -> int:
    """Draft, propose and accept (as the owner's admin) an agreement over the owner's
    parking-enforcement cameras (교통단속); its id."""
    draft = httpx.post(
        f"{base}/api/agreements",
        headers=admin,
        json={
            "owner_agency_id": owner,
            "consumer_agency_id": consumer,
            "selector": {"purposes": ["교통단속"]},
            "purposes": purposes,
            "capabilities": capabilities,
            "legal_basis": legal_basis,
        },
    )
    assert draft.status_code == 201, draft.text
    agreement = int(draft.json()["id"])
    for step in ("propose", "accept"):
        done = httpx.post(f"{base}/api/agreements/{agreement}/{step}", headers=admin)
        assert done.status_code == 200, done.text
    return agreement
