"""Feed int16 16 kHz samples to the agent's VAD as a room track would, and collect its events."""

from __future__ import annotations

import numpy as np
from livekit import rtc
from livekit.agents import vad as lk_vad

from agent.turn_handling import DEFAULT_TURN_SETTINGS
from benchmarks.clips import SAMPLE_RATE
from benchmarks.microphone import FRAME_SAMPLES


async def vad_events(samples: np.ndarray) -> list[lk_vad.VADEvent]:
    """Every event the VAD (as the agent builds it, DEFAULT_TURN_SETTINGS) reports for these
    samples, 20 ms frames at a time."""
    stream = DEFAULT_TURN_SETTINGS.build_vad().stream()
    for i in range(0, len(samples), FRAME_SAMPLES):
        chunk = np.ascontiguousarray(samples[i : i + FRAME_SAMPLES], dtype=np.int16)
        stream.push_frame(
            rtc.AudioFrame(
                data=chunk.tobytes(),
                sample_rate=SAMPLE_RATE,
                num_channels=1,
                samples_per_channel=len(chunk),
            )
        )
    stream.end_input()
    try:
        return [event async for event in stream]
    finally:
        await stream.aclose()
