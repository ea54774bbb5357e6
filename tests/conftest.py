"""Fixtures: every database test runs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from argus.api.app import create_app
from argus.config import Settings
from argus.db import make_engine, make_sessionmaker, upgrade
from argus.registry.service import Registry
from argus.secretbox import load_secret_box
from tests.pgserver import PostgresServer
from tests.shared import SHARED_DATA

DATABASES = [d.strip() for d in os.environ.get("ARGUS_TEST_DB", "sqlite,postgresql").split(",")]
_counter = itertools.count()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared public data folder {SHARED_DATA} is missing")
    return SHARED_DATA


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    try:
        with psycopg.connect(server.url("postgres").replace("+psycopg", ""), autocommit=True) as c:
            c.execute("CREATE DATABASE argus_template")
        engine = make_engine(server.url("argus_template"))
        upgrade(engine)
        engine.dispose()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "argus.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(params=DATABASES)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A fresh, migrated database: an SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "argus.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    if request.param != "postgresql":
        pytest.fail(f"ARGUS_TEST_DB names an unknown database {request.param!r}")
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"t{os.getpid()}_{next(_counter)}"
    admin = server.url("postgres").replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name} TEMPLATE argus_template")
    yield server.url(name)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # the RTSP re-serving server on a free port: tests never collide with a running demo
    return Settings(data_dir=tmp_path / "data", database_url=database_url, media_rtsp_port=0)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def registry(settings: Settings, engine: Engine) -> Registry:
    return Registry(make_sessionmaker(engine), load_secret_box(settings))


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine)) as test_client:
        yield test_client


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """Environment for running `argus` as a subprocess against the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARGUS_")}
    env["ARGUS_DATA_DIR"] = str(settings.data_dir)
    env["ARGUS_DATABASE_URL"] = settings.db_url
    return env
