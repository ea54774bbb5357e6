"""Simulated cameras may come with presets stored, as an installer leaves an enforcement unit
(what `argus simulate` does, so that `make demo`'s tours have spots to visit)."""

from __future__ import annotations

import pytest

from argus.onvif.ptz_state import PtzCommandError, PtzRegistry, spread_presets


def test_seeded_presets_exist_before_the_first_command_and_are_spread_over_the_pan() -> None:
    now = [0.0]
    registry = PtzRegistry(preset_seed=spread_presets(4), clock=lambda: now[0])
    presets = registry.presets(7)
    assert [p.token for p in presets] == ["1", "2", "3", "4"]
    assert [p.position.pan for p in presets] == [-0.75, -0.25, 0.25, 0.75]
    registry.goto_preset(7, "3")
    now[0] += 60.0
    assert registry.position(7).pan == pytest.approx(0.25)
    with pytest.raises(PtzCommandError):
        registry.goto_preset(7, "5")


def test_without_a_seed_a_camera_has_no_presets() -> None:
    registry = PtzRegistry()
    assert registry.presets(7) == []
    with pytest.raises(PtzCommandError):
        registry.goto_preset(7, "1")
