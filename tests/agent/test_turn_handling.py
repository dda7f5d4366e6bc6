"""TurnSettings in the shapes livekit-agents takes."""

from __future__ import annotations

from livekit.agents import room_io

from agent.turn_handling import TurnSettings


def test_the_session_reads_the_callers_audio_in_frames_of_the_set_length() -> None:
    options = TurnSettings(input_frame_ms=20).room_options()
    assert isinstance(options.audio_input, room_io.AudioInputOptions)
    assert options.audio_input.frame_size_ms == 20


def test_the_default_frame_is_one_opus_packet_not_the_frameworks_50_ms() -> None:
    assert TurnSettings().input_frame_ms == 20 < room_io.AudioInputOptions().frame_size_ms
