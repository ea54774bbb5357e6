"""`argus modes set` and `argus modes show` (the sub-app, before it is wired into `argus`)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from argus.config import Settings
from argus.errors import FieldError, NotFoundError
from argus.modes.cli import app
from tests.ptz.world import World


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ARGUS_DATABASE_URL", settings.db_url)
    monkeypatch.setenv("ARGUS_DATA_DIR", str(settings.data_dir))
    return CliRunner()


def test_set_and_show_a_schedule(runner: CliRunner, world: World) -> None:
    camera = str(world.parking)
    done = runner.invoke(
        app,
        ["set", camera, "--window", "07:00-22:00=enforcement",
         "--window", "22:00-23:00/sat,sun=enforcement"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "enforcement 07:00–22:00" in done.output
    night = runner.invoke(app, ["show", camera, "--at", "2026-03-07T22:30+09:00"])  # Saturday
    shown = json.loads(night.output)
    assert shown["mode"]["mode"] == "enforcement"
    assert shown["mode"]["until"] == "2026-03-07T14:00:00+00:00"
    friday = json.loads(
        runner.invoke(app, ["show", camera, "--at", "2026-03-06T22:30+09:00"]).output
    )
    assert friday["mode"]["mode"] == "crime_prevention"
    bad = runner.invoke(app, ["set", camera, "--window", "07:00=enforcement"])
    assert isinstance(bad.exception, FieldError) and bad.exception.field == "window"
    naive = runner.invoke(app, ["show", camera, "--at", "2026-03-07T22:30"])
    assert isinstance(naive.exception, FieldError) and naive.exception.field == "at"
    missing = runner.invoke(app, ["show", "999999"])
    assert isinstance(missing.exception, NotFoundError)
