"""Revocation publishes one event naming exactly the affected tokens, and they stay refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from argus.events import EventBus
from argus.sharing.live_grants import GrantsRevoked, LiveGrants
from argus.sharing.tokens import StreamClaims, TokenSigner

NOW = datetime(2026, 11, 25, 23, 0, tzinfo=UTC)


def claims(signer: TokenSigner, grant: str, camera: int, user: int) -> StreamClaims:
    _, issued = signer.issue(
        grant=grant,
        camera_id=camera,
        capability="live",
        purpose="crime_prevention",
        case_number=None,
        user_id=user,
        agency_id=1,
        now=NOW,
    )
    return issued


def test_revocation_hits_exactly_the_affected_grants() -> None:
    bus = EventBus()
    seen: list[object] = []
    bus.subscribe(seen.append)
    live = LiveGrants(bus)
    signer = TokenSigner(Ed25519PrivateKey.generate())
    a = claims(signer, "agreement:7", 1, user=10)
    b = claims(signer, "agreement:7", 2, user=11)
    c = claims(signer, "agreement:8", 1, user=10)
    d = claims(signer, "ownership:3", 3, user=12)
    for item in (a, b, c, d):
        live.add(item)
    event = live.revoke_grant(
        ["agreement:7"], cause="agreement.revoke", reason="agreement 7 was revoked", now=NOW
    )
    assert event is not None
    assert seen == [event]
    assert isinstance(event, GrantsRevoked)
    assert set(event.jtis) == {a.jti, b.jti} and event.cameras == (1, 2)
    assert live.is_revoked(a.jti) and live.is_revoked(b.jti)
    assert not live.is_revoked(c.jti) and not live.is_revoked(d.jti)
    # nothing left to revoke for that agreement: no second event
    assert (
        live.revoke_grant(["agreement:7"], cause="agreement.revoke", reason="again", now=NOW)
        is None
    )
    user = live.revoke_user(10, reason="user 10 was disabled", now=NOW)
    assert user is not None and user.jtis == (c.jti,)
    assert len(seen) == 2


def test_expired_tokens_are_forgotten() -> None:
    live = LiveGrants(EventBus())
    signer = TokenSigner(Ed25519PrivateKey.generate())
    token = claims(signer, "agreement:9", 5, user=1)
    live.add(token)
    later = NOW + timedelta(minutes=11)
    assert live.live(later) == []
    assert (
        live.revoke_grant(["agreement:9"], cause="agreement.revoke", reason="x", now=later) is None
    )


def test_a_failing_subscriber_does_not_stop_the_others() -> None:
    bus = EventBus()
    got: list[object] = []

    def broken(_event: object) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(broken)
    unsubscribe = bus.subscribe(got.append)
    bus.publish("one")
    unsubscribe()
    bus.publish("two")
    assert got == ["one"]


def test_closing_an_incident_revokes_only_its_grants() -> None:
    bus = EventBus()
    seen: list[object] = []
    bus.subscribe(seen.append)
    live = LiveGrants(bus)
    signer = TokenSigner(Ed25519PrivateKey.generate())
    by_incident = [claims(signer, "incident:12", camera, user=30) for camera in (7, 8)]
    other_incident = claims(signer, "incident:13", 7, user=30)
    by_agreement = claims(signer, "agreement:7", 7, user=30)
    for item in [*by_incident, other_incident, by_agreement]:
        live.add(item)
    event = live.revoke_grant(
        ["incident:12"], cause="incident.close", reason="incident 12 was closed", now=NOW
    )
    assert event is not None and seen == [event]
    assert set(event.jtis) == {c.jti for c in by_incident} and event.cameras == (7, 8)
    assert not live.is_revoked(other_incident.jti) and not live.is_revoked(by_agreement.jti)
