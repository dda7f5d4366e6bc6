"""Heard latency: the silence a caller hears, through the real LiveKit server on loopback, beside
the agent's own `e2e_latency` for the same turn.

Each turn is one call: a caller on the livekit rtc SDK publishes a report-split question clip at
real time over WebRTC; the agent runs the real pipeline (VAD, turn gate, FAQ cache) with the
stand-in remote models. Heard latency runs from the clip's last speech sample leaving the
caller's audio source to the first audible frame of the reply out of the caller's jitter buffer
and decoder. The agent's "speaking" state (the `lk.agent.state` attribute, set when its first
reply frame goes to the room) splits the gap: before it, capture, Opus encoding, the hop in and
the agent's own detection; after it, the agent's output queue, encoding, the hop out, the
jitter buffer and decoding. On loopback the hops are near zero: a deployment adds its RTT.

The agent's `turn` event also carries `heard_estimate`, its e2e plus a fixed media path
(agent/telemetry.py MEDIA_PATH_SECONDS). The media path is fitted here as the median gap on the
fit half of the clips, and the logged estimate is checked against what the caller heard on the
report half.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from agent.telemetry import MEDIA_PATH_SECONDS
from benchmarks.clips import DATA_DIR, clips_of
from benchmarks.live_call import TIMEOUT, Caller, Worker, free_ports, join_token
from benchmarks.report import table
from meridian.local.server import LocalServer, local_config
from meridian.smoke.media import load_clip
from meridian.stats import percentile
from meridian.tables import fmt_seconds_as_ms as ms


@dataclass(frozen=True)
class HeardTurn:
    """One turn's timings in seconds, from the true end of the caller's speech."""

    clip: str
    split: str
    heard: float
    speaking: float | None  # when the agent's state turned "speaking", as the caller saw it
    e2e: float | None  # the agent's own figure, from its `turn` event
    cache_hit: bool
    estimate: float | None = None  # the agent's logged heard_estimate
    # the mean time the reply spent in the caller's jitter buffer (WebRTC inbound-rtp stats)
    caller_jitter_buffer: float | None = None

    @property
    def estimate_error(self) -> float | None:
        return None if self.estimate is None else self.estimate - self.heard

    @property
    def gap(self) -> float | None:
        return None if self.e2e is None else self.heard - self.e2e

    @property
    def downlink(self) -> float | None:
        return None if self.speaking is None else self.heard - self.speaking


async def _turn(server: LocalServer, worker: Worker, name: str, split: str) -> HeardTurn:
    clip_path = DATA_DIR / f"{name}.wav"
    room = f"heard-{name}"
    caller = Caller()
    try:
        await caller.join(server.config.url, join_token(server.config, room, worker.agent_name))
        await asyncio.wait_for(caller.wait_for_agent(), TIMEOUT)
        reply = await asyncio.wait_for(caller.ask(load_clip(clip_path)), TIMEOUT)
        heard_at = time.monotonic()  # ask returns on the first audible reply frame
        await asyncio.wait_for(caller.until_agent_listens(), TIMEOUT)
        jitter_buffer = await caller.jitter_buffer_delay()
    finally:
        await caller.close()
    assert worker.output is not None
    await asyncio.wait_for(worker.output.wait_for(rf'"room": "{room}".*"event": "turn"'), TIMEOUT)
    turn = next(t for t in worker.output.events("turn") if t["room"] == room)
    # the clips end on their last speech sample, so the question's end is the speech's end
    speech_end = heard_at - reply.latency_ms / 1000
    speaking = [t - speech_end for t in caller.speaking_at if t >= speech_end]
    return HeardTurn(
        clip=name,
        split=split,
        heard=reply.latency_ms / 1000,
        speaking=speaking[0] if speaking else None,
        e2e=turn.get("e2e_latency"),
        cache_hit=bool(turn.get("cache_hit")),
        estimate=turn.get("heard_estimate"),
        caller_jitter_buffer=jitter_buffer,
    )


async def measure(turns: int) -> list[HeardTurn]:
    """Run `turns` calls of each half, one question each, against one worker on a local
    server."""
    texts = {
        (split, c.name): c.text
        for split in ("fit", "report")
        for c in clips_of("complete", split=split)[:turns]
    }
    with tempfile.TemporaryDirectory(prefix="meridian-heard-") as workdir:
        transcript = Path(workdir) / "transcript"
        config = local_config().with_ports(free_ports())
        async with LocalServer(config, Path(workdir)) as server:
            worker = Worker("eu-west", config, TEST_TRANSCRIPT_FILE=str(transcript))
            try:
                await worker.start()
                results = []
                for (split, name), text in texts.items():
                    # what the stand-in STT hears in this call: the clip's own words
                    transcript.write_text(text)
                    results.append(await _turn(server, worker, name, split))
                return results
            finally:
                await worker.stop()


def fitted_media_path(turns: list[HeardTurn]) -> float | None:
    """The median gap between what the caller heard and the agent's e2e, on the fit half."""
    return percentile([t.gap for t in turns if t.split == "fit"], 50)


def render(all_turns: list[HeardTurn]) -> str:
    """p50 and p95 of each figure on the report half, for all turns and for the LLM-answered
    ones; the media path fitted on the fit half, and the logged estimate's error."""
    turns = [t for t in all_turns if t.split == "report"]

    def row(label: str, chosen: list[HeardTurn]) -> list[object]:
        cells: list[object] = [label, len(chosen)]
        for values in (
            [t.heard for t in chosen],
            [t.e2e for t in chosen],
            [t.gap for t in chosen],
            [t.speaking for t in chosen],
            [t.downlink for t in chosen],
            [t.caller_jitter_buffer for t in chosen],
        ):
            cells += [ms(percentile(values, 50)), ms(percentile(values, 95))]
        return cells

    header = [
        "turns",
        "n",
        "heard p50",
        "heard p95",
        "agent e2e p50",
        "e2e p95",
        "gap p50",
        "gap p95",
        "agent speaking p50",
        "speaking p95",
        "speaking→heard p50",
        "speaking→heard p95",
        "caller's jitter buffer, call mean p50",
        "jitter buffer p95",
    ]
    groups = {
        "all": turns,
        "answered by the LLM": [t for t in turns if not t.cache_hit],
        "answered from the FAQ cache": [t for t in turns if t.cache_hit],
    }
    rows = [row(label, chosen) for label, chosen in groups.items() if chosen]
    errors = [t.estimate_error for t in turns if t.estimate_error is not None]
    absolute = [abs(e) for e in errors]
    fitted = fitted_media_path(all_turns)
    estimate_rows = [
        ["media path fitted on the fit half (median gap)", ms(fitted)],
        ["media path the agent adds (MEDIA_PATH_SECONDS)", ms(MEDIA_PATH_SECONDS)],
        ["logged heard_estimate minus heard, p50 (report half)", ms(percentile(errors, 50))],
        [
            "logged minus heard, absolute: p50 / p95 (goal within 20)",
            f"{ms(percentile(absolute, 50))} / {ms(percentile(absolute, 95))}",
        ],
    ]
    return table(
        "Heard latency through the real LiveKit server (loopback, stand-in remote models;"
        " report half)",
        header,
        rows,
    ) + table("What the agent logs as heard (ms)", ["measure", "value"], estimate_rows)


RESULTS = Path(__file__).with_name("results") / "heard_latency.json"


def write_results(turns: list[HeardTurn], path: Path = RESULTS) -> None:
    """Every turn's timings (seconds), as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([dataclasses.asdict(t) for t in turns], indent=1) + "\n")


def main(quick: bool) -> str:
    """Measure and render: 20 calls of each half (6 with --quick); every turn also goes to
    RESULTS."""
    turns = asyncio.run(measure(6 if quick else 20))
    write_results(turns)
    return render(turns)
