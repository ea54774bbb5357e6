"""Reading recorded init segments back into the format the players are told (codec string)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from argus.media.fmp4 import Fmp4Error, init_segment
from argus.media.fmp4 import video_format as make_video_format
from argus.media.nal import ParameterSets
from argus.recording.fmp4_read import parse_init
from argus.recording.footage import format_of_init
from tests.media.test_h265_sps import encode_hevc, parameter_sets
from tests.recording.test_fmp4_read import NAMES, h264_stream


@pytest.mark.parametrize("name", NAMES)
def test_an_h264_recording_names_the_format_it_was_recorded_with(name: str) -> None:
    fmt = h264_stream(name)[0]
    assert format_of_init(parse_init(init_segment(fmt))) == fmt


@pytest.mark.parametrize(("width", "height"), [(320, 240), (1280, 720)])
def test_an_h265_recording_names_the_format_it_was_recorded_with(width: int, height: int) -> None:
    vps, sps, pps = parameter_sets(encode_hevc(width, height))
    fmt = make_video_format("h265", ParameterSets(vps, sps, pps))
    back = format_of_init(parse_init(init_segment(fmt)))
    assert back == fmt and back.mime_type.startswith('video/mp4; codecs="hvc1.')


def test_a_damaged_sample_description_is_a_clear_error() -> None:
    init = init_segment(h264_stream(NAMES[0])[0])
    info = parse_init(init)
    cut = info.stsd[: info.stsd.find(b"avcC") + 8]  # the configuration record cut short
    with pytest.raises(Fmp4Error, match="not known"):
        format_of_init(replace(info, stsd=cut))
