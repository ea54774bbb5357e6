"""Stream tokens: the media plane's only key. Forged, expired or wrong ones are refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from argus.sharing.tokens import MAX_TTL, TokenError, TokenSigner, read_token

NOW = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


def issue(signer: TokenSigner, **overrides: object) -> str:
    values: dict[str, object] = dict(
        grant="agreement:7",
        camera_id=42,
        capability="live",
        purpose="crime_prevention",
        case_number=None,
        user_id=5,
        agency_id=2,
        now=NOW,
    )
    values.update(overrides)
    token, _ = signer.issue(**values)  # type: ignore[arg-type]
    return token


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(Ed25519PrivateKey.generate())


def test_round_trip(signer: TokenSigner) -> None:
    claims = read_token(issue(signer), signer.public_key, now=NOW, camera_id=42, capability="live")
    assert (claims.grant, claims.camera_id, claims.user_id, claims.purpose) == (
        "agreement:7",
        42,
        5,
        "crime_prevention",
    )
    assert claims.expires - NOW == MAX_TTL


def test_lifetime_is_capped_at_ten_minutes(signer: TokenSigner) -> None:
    token = issue(signer, ttl=timedelta(hours=2))
    assert read_token(token, signer.public_key, now=NOW).expires == NOW + timedelta(minutes=10)
    with pytest.raises(TokenError) as caught:
        read_token(token, signer.public_key, now=NOW + timedelta(minutes=10))
    assert caught.value.code == "expired"


@pytest.mark.parametrize(
    ("camera", "capability", "code"),
    [(43, "live", "wrong_camera"), (42, "playback", "wrong_capability")],
)
def test_wrong_camera_or_capability(
    signer: TokenSigner, camera: int, capability: str, code: str
) -> None:
    with pytest.raises(TokenError) as caught:
        read_token(
            issue(signer), signer.public_key, now=NOW, camera_id=camera, capability=capability
        )
    assert caught.value.code == code


def test_forged_and_tampered_tokens(signer: TokenSigner) -> None:
    other = TokenSigner(Ed25519PrivateKey.generate())
    with pytest.raises(TokenError) as caught:
        read_token(issue(other), signer.public_key, now=NOW)
    assert caught.value.code == "bad_signature"
    body, signature = issue(signer).split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["camera_id"] = 43  # widen the token to another camera
    forged = (
        base64.urlsafe_b64encode(
            json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        )
        .rstrip(b"=")
        .decode()
    )
    with pytest.raises(TokenError) as caught:
        read_token(f"{forged}.{signature}", signer.public_key, now=NOW)
    assert caught.value.code == "bad_signature"


@given(st.text(max_size=300))
def test_garbage_is_refused_cleanly(text: str) -> None:
    signer = TokenSigner(Ed25519PrivateKey.generate())
    with pytest.raises(TokenError) as caught:
        read_token(text, signer.public_key, now=NOW)
    assert caught.value.code in {"malformed", "bad_signature"}


def test_key_file_is_created_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "stream-signing.key"
    first = TokenSigner.from_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    again = TokenSigner.from_file(path)
    assert read_token(issue(first), again.public_key, now=NOW).camera_id == 42
    assert first.public_pem() == again.public_pem()
