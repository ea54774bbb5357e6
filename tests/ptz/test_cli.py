"""`argus ptz tour` and `argus ptz tours` (the sub-app, before it is wired into `argus`)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from argus.config import Settings
from argus.errors import FieldError
from argus.ptz.cli import app
from tests.ptz.world import World


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ARGUS_DATABASE_URL", settings.db_url)
    monkeypatch.setenv("ARGUS_DATA_DIR", str(settings.data_dir))
    return CliRunner()


def test_set_and_list_tours(runner: CliRunner, world: World) -> None:
    camera = str(world.parking)
    done = runner.invoke(
        app, ["tour", camera, "--stop", "1=20", "--stop", "2=25", "--revisit", "420"]
    )
    assert done.exit_code == 0, done.output
    runner.invoke(app, ["tour", camera, "--kind", "patrol", "--stop", "9=30", "--no-enabled"])
    listed = [
        json.loads(line) for line in runner.invoke(app, ["tours", camera]).output.splitlines()
    ]
    assert [(t["kind"], t["enabled"]) for t in listed] == [
        ("enforcement", True),
        ("patrol", False),
    ]
    assert listed[0]["stops"] == [{"preset": "1", "dwell_s": 20}, {"preset": "2", "dwell_s": 25}]
    assert listed[0]["revisit_delay_s"] == 420
    bad = runner.invoke(app, ["tour", camera, "--stop", "1:20"])
    assert isinstance(bad.exception, FieldError) and bad.exception.field == "stop"
    early = runner.invoke(app, ["tour", camera, "--stop", "1=20", "--revisit", "60"])
    assert isinstance(early.exception, FieldError)
    assert early.exception.field == "revisit_delay_s"
