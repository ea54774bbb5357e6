"""The checkpoint key: from the settings or a key file made once, and its public half."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from argus.audit.signing import (
    KEY_FILE,
    Signer,
    load_signer,
    parse_private_key,
    parse_public_key,
    public_key_pem,
    signature_valid,
)
from argus.config import Settings, load_settings
from argus.errors import ConfigError


def test_without_a_configured_key_a_private_key_file_is_made_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = load_signer(settings)
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert isinstance(load_pem_private_key(path.read_bytes(), None), Ed25519PrivateKey)
    assert load_signer(settings).key_id == first.key_id
    assert list(path.parent.iterdir()) == [path]  # no staging file left behind


def test_a_configured_key_is_used_as_pem_or_as_a_base64_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    seed = base64.b64encode(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))
    expected = Signer(key).key_id
    assert load_signer(Settings(data_dir=tmp_path, audit_signing_key=pem)).key_id == expected
    monkeypatch.setenv("ARGUS_AUDIT_SIGNING_KEY", seed.decode())
    monkeypatch.setenv("ARGUS_DATA_DIR", str(tmp_path))
    assert load_signer(load_settings()).key_id == expected
    assert not (tmp_path / KEY_FILE).exists()


@pytest.mark.parametrize(
    "text",
    [
        "not a key",
        base64.b64encode(b"too short").decode(),
        "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n",
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        .decode(),
    ],
)
def test_an_unusable_key_is_refused_naming_the_setting(text: str) -> None:
    with pytest.raises(ConfigError, match="ARGUS_AUDIT_SIGNING_KEY"):
        parse_private_key(text)


def test_the_public_key_verifies_signatures_offline() -> None:
    signer = Signer(Ed25519PrivateKey.generate())
    signature = signer.sign(b"checkpoint")
    pem = public_key_pem(signer.public_key)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    raw = base64.b64encode(signer.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))
    for text in (pem, raw.decode()):
        public = parse_public_key(text)
        assert signature_valid(public, b"checkpoint", signature)
        assert not signature_valid(public, b"checkpoint!", signature)
        assert not signature_valid(public, b"checkpoint", "not base64 at all")
    with pytest.raises(ConfigError, match="public key"):
        parse_public_key("garbage")
