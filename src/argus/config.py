"""One settings object, from ARGUS_* environment variables and an optional TOML file.

The TOML file is named by ``ARGUS_CONFIG``; environment variables win over the file.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "argus"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ARGUS_", extra="forbid")

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file argus.db in data_dir"
    )
    bind: str = Field(default="127.0.0.1:8080", description="host:port the API listens on")
    secret_key: str | None = Field(
        default=None,
        description="Fernet key (url-safe base64, 32 bytes) that encrypts camera credentials; "
        "default: a key file created in data_dir",
    )
    audit_signing_key: str | None = Field(
        default=None,
        description="Ed25519 private key that signs audit checkpoints (PEM, or the 32-byte seed "
        "in base64); default: a key file audit-signing.key created in data_dir",
    )
    audit_checkpoint_every: int = Field(
        default=1000, ge=1, description="sign an audit checkpoint every this many entries"
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="Secure flag of the session cookie; default: set when the request came "
        "over https (so it stays off for http on 127.0.0.1)",
    )
    simulator_host: str = "127.0.0.1"
    simulator_port: int = Field(default=8554, ge=1, le=65535)
    simulator_onvif_port: int = Field(
        default=8580, ge=1, le=65535, description="where the simulator serves ONVIF (PTZ)"
    )
    media_linger: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="seconds a camera stream stays pulled after its last viewer leaves",
    )
    media_always_on: list[int] = Field(
        default_factory=list, description="camera ids whose main stream is pulled all the time"
    )
    media_workers: int | None = Field(
        default=None,
        ge=0,
        le=256,
        description="media worker processes that `argus serve` starts (cameras are sharded over "
        "them); default one per core; 0 runs the media plane inside the API process",
    )
    media_worker_port: int = Field(
        default=8090,
        ge=1,
        le=65000,
        description="media worker i listens on this port + i, on the API's host",
    )
    media_rtsp_port: int | None = Field(
        default=8555,
        ge=0,
        le=65000,
        description="port of the RTSP re-serving server (media worker i: this port + i); "
        "0 picks a free port, null turns it off",
    )
    media_transport: Literal["tcp", "udp"] = Field(
        default="tcp", description="RTP transport asked of cameras: TCP-interleaved or UDP"
    )

    recording_volumes: list[Path] = Field(
        default_factory=list,
        description="folders that hold recordings, each ideally its own disk; default: "
        "data_dir/recordings",
    )
    recording_min_free_mb: int = Field(
        default=2048,
        ge=0,
        description="free space each recording volume keeps: below it the oldest footage not "
        "under a legal hold is destroyed first (and written to the PIPA ledger), and an alarm "
        "is raised",
    )
    recording_segment_seconds: float = Field(
        default=60.0,
        ge=1.0,
        le=600.0,
        description="a segment file closes at the first keyframe after this many seconds",
    )
    recording_part_seconds: float = Field(
        default=1.0,
        gt=0.0,
        le=1.0,
        description="video a recorder holds in memory before handing it to disk (at most one "
        "second: what a crash may lose)",
    )
    recording_sync_seconds: float = Field(
        default=1.0,
        gt=0.0,
        le=5.0,
        description="how often written video is made durable (fsync) and the index updated",
    )
    recording_sweep_seconds: float = Field(
        default=300.0, gt=0.0, description="how often retention and the storage floor are checked"
    )
    recording_plan_seconds: float = Field(
        default=5.0, gt=0.0, description="how often media workers re-read the recording plans"
    )
    export_dir: Path | None = Field(
        default=None, description="where evidence exports are built; default data_dir/exports"
    )
    export_auto_approve_own: bool = Field(
        default=True,
        description="an export of the requester's own agency's cameras needs no second approval",
    )
    export_link_hours: float = Field(
        default=24.0, gt=0.0, le=24.0 * 30, description="how long an export's download link works"
    )
    console_tile_url: str | None = Field(
        default=None,
        description="a tile server of the deployment's own for the console's map, as "
        "https://tiles.example/{z}/{x}/{y}.png; none: Gwangju's boundaries served by Argus",
    )
    console_tile_attribution: str = Field(
        default="", description="the attribution the tile server's licence asks for"
    )
    incident_112_video_types: list[str] = Field(
        default=[
            "murder",
            "robbery",
            "assault",
            "theft",
            "kidnapping",
            "sexual_violence",
            "domestic_violence",
        ],
        description="the 112 incident types for which video is provided to the police",
    )
    incident_radius_m: float = Field(
        default=500.0, gt=0.0, le=10_000.0, description="default selection radius of an incident"
    )
    incident_max_cameras: int = Field(
        default=16, ge=1, le=100, description="how many of the best cameras an incident lists"
    )
    incident_playback_minutes: float = Field(
        default=30.0,
        ge=0.0,
        le=24 * 60.0,
        description="how far before an incident opened its responders may play back",
    )
    incident_linger_minutes: float = Field(
        default=30.0,
        ge=0.0,
        le=24 * 60.0,
        description="how long after an incident closed its responders may still play back "
        "(live view ends when it closes)",
    )
    incident_record_minutes: float = Field(
        default=120.0,
        gt=0.0,
        le=24 * 60.0,
        description="how long an incident's cameras record at most (the trigger stops at close)",
    )
    ptz_priority_order: str = Field(
        default="incident,supervisor,operator,enforcement_tour,idle_patrol",
        description="PTZ priority classes, strongest first (every class once)",
    )
    ptz_idle_release_s: float = Field(
        default=15.0,
        gt=0.0,
        le=3600.0,
        description="a PTZ lease ends this long after its last command",
    )
    ptz_max_hold_s: float = Field(
        default=600.0, gt=0.0, le=86_400.0, description="the longest one may hold a PTZ camera"
    )
    timezone: str = Field(
        default="Asia/Seoul", description="local time of schedules and of dates shown to people"
    )

    @field_validator("ptz_priority_order")
    @classmethod
    def _check_ptz_order(cls, value: str) -> str:
        from argus.errors import ArgusError
        from argus.ptz.arbitration import parse_order

        try:
            parse_order(value)
        except ArgusError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("bind")
    @classmethod
    def _check_bind(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("bind must be host:port, for example 127.0.0.1:8080")
        return value

    @property
    def host(self) -> str:
        return self.bind.rpartition(":")[0]

    @property
    def port(self) -> int:
        return int(self.bind.rpartition(":")[2])

    @property
    def volumes(self) -> list[Path]:
        return list(self.recording_volumes) or [self.data_dir / "recordings"]

    @property
    def exports_path(self) -> Path:
        return self.export_dir or self.data_dir / "exports"

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'argus.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("ARGUS_CONFIG")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    """Read the settings now (environment and TOML file), with explicit overrides on top."""
    config_file = os.environ.get("ARGUS_CONFIG")
    if config_file and not Path(config_file).is_file():
        from argus.errors import ConfigError

        raise ConfigError(f"ARGUS_CONFIG names {config_file}, which is not a file")
    return Settings(**overrides)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
