"""Settings come from ARGUS_* variables and an optional TOML file; bad values are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from argus.config import load_settings
from argus.errors import ConfigError
from argus.secretbox import SecretBox, load_secret_box


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ARGUS_CONFIG", raising=False)
    monkeypatch.setenv("ARGUS_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.db_url == f"sqlite:///{tmp_path / 'argus.db'}"
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    monkeypatch.setenv("ARGUS_BIND", "127.0.0.1:9000")
    monkeypatch.setenv("ARGUS_DATABASE_URL", "postgresql://u@127.0.0.1/argus")
    settings = load_settings()
    assert settings.port == 9000 and settings.db_url.startswith("postgresql://")


def test_toml_file_and_environment_precedence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "argus.toml"
    config.write_text(f'data_dir = "{tmp_path / "d"}"\nbind = "127.0.0.1:8181"\n')
    monkeypatch.setenv("ARGUS_CONFIG", str(config))
    monkeypatch.delenv("ARGUS_BIND", raising=False)
    monkeypatch.delenv("ARGUS_DATA_DIR", raising=False)
    settings = load_settings()
    assert settings.port == 8181 and settings.data_dir == tmp_path / "d"
    monkeypatch.setenv("ARGUS_BIND", "127.0.0.1:8282")
    assert load_settings().port == 8282


def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ARGUS_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match=r"missing\.toml"):
        load_settings()
    monkeypatch.delenv("ARGUS_CONFIG")
    monkeypatch.setenv("ARGUS_BIND", "8080")
    with pytest.raises(ValidationError, match="host:port"):
        load_settings()
    monkeypatch.delenv("ARGUS_BIND")
    monkeypatch.setenv("ARGUS_PTZ_PRIORITY_ORDER", "operator,incident")
    with pytest.raises(ValidationError, match="name every class exactly once"):
        load_settings()
    monkeypatch.setenv("ARGUS_PTZ_PRIORITY_ORDER", "operator,supervisor,incident,idle_patrol,boss")
    with pytest.raises(ValidationError, match="'boss' is not a PTZ priority class"):
        load_settings()


def test_secret_key_file_is_created_once_and_private(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ARGUS_SECRET_KEY", raising=False)
    monkeypatch.delenv("ARGUS_CONFIG", raising=False)
    settings = load_settings(data_dir=tmp_path)
    box = load_secret_box(settings)
    sealed = box.seal({"username": "u", "password": "p"})
    key_file = tmp_path / "secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert load_secret_box(settings).open(sealed) == {"username": "u", "password": "p"}
    other = SecretBox(Fernet.generate_key())
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        other.open(sealed)
    with pytest.raises(ConfigError, match="32 bytes"):
        SecretBox("short")
