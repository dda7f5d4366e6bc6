"""Section: sessions per core with real media, through the open-source LiveKit server on loopback.

N callers, each in its own room, talk to one agent worker over two-way WebRTC: every caller
publishes a question clip at real time, hears the reply (the stand-in TTS speaks one sentence of
tone), waits a moment and asks again, for the phase's length. The worker runs the real pipeline
on the stand-in remote models, so its processes decode Opus, resample, run the VAD and the turn
gate, and encode the reply, which the mock-room ramp (`capacity`) leaves out. Measured per load
level, over a steady window: the worker's CPU and PSS (its main and job processes), the server's
CPU apart (in production that is LiveKit Cloud's), the callers' CPU (this process) apart, the
agent's own e2e against a one-caller baseline (overhead), the silence each caller heard, and the
longest gap inside each reply (the caller hears the agent stutter when its output falls behind).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil
from livekit import rtc

from benchmarks.clips import DATA_DIR, clips_of
from benchmarks.live_call import TIMEOUT, Worker, free_ports, join_token
from benchmarks.report import table
from meridian.contract import Env
from meridian.local.server import LocalServer, local_config
from meridian.smoke.media import FRAME_MS, Clip, is_speech, load_clip
from meridian.stats import percentile
from meridian.tables import fmt_seconds_as_ms as ms

# One short sentence, so the reply is one TTS segment (any gap inside it is the pipeline falling
# behind) and the stand-in LLM has streamed it whole soon after its first token.
REPLY = "We are open every day from eight in the morning to eight at night."
# Not an FAQ: every turn goes through the LLM and TTS stand-ins.
TRANSCRIPT = "Can you tell me when I can reach somebody on the phone?"
TTS_SECONDS_PER_CHAR = 0.02
# A caller waits this long after the reply before asking again.
PAUSE_AFTER_REPLY = 1.0
OVERHEAD_LIMIT = 0.050
GAP_LIMIT = 0.100


@dataclass
class Turn:
    """One question: when it ended (the caller's clock), and the reply's loud frames after it."""

    question_end: float
    loud: list[float] = field(default_factory=list)

    @property
    def heard(self) -> float | None:
        return self.loud[0] - self.question_end if self.loud else None

    @property
    def longest_gap(self) -> float:
        """The longest silence between two loud frames of the reply."""
        steps = np.diff(self.loud) if len(self.loud) > 1 else np.zeros(1)
        return max(0.0, float(steps.max()) - FRAME_MS / 1000)


class Talker:
    """One caller who keeps asking: one microphone track, questions and silence at real time."""

    def __init__(self, clip: Clip) -> None:
        self.clip = clip
        self.turns: list[Turn] = []
        self.room = rtc.Room()
        self._agent_track: asyncio.Future[rtc.RemoteAudioTrack] = (
            asyncio.get_running_loop().create_future()
        )
        self._reply_done = asyncio.Event()
        self.room.on("track_subscribed", self._on_track)

    async def joined(self) -> None:
        """Return once the agent's audio track has arrived."""
        await asyncio.shield(self._agent_track)

    def _on_track(self, track: rtc.Track, *_: object) -> None:
        if isinstance(track, rtc.RemoteAudioTrack) and not self._agent_track.done():
            self._agent_track.set_result(track)

    async def _listen(self) -> None:
        track = await self._agent_track
        stream = rtc.AudioStream.from_track(track=track, sample_rate=16000, num_channels=1)
        quiet_since: float | None = None
        try:
            async for event in stream:
                now = time.monotonic()
                turn = self.turns[-1] if self.turns else None
                if is_speech(np.frombuffer(event.frame.data, dtype=np.int16)):
                    quiet_since = None
                    if turn is not None and now >= turn.question_end:
                        turn.loud.append(now)
                elif turn is not None and turn.loud:
                    quiet_since = quiet_since or now
                    if now - quiet_since >= 0.5:
                        self._reply_done.set()
        finally:
            await stream.aclose()

    async def talk(self, url: str, token: str, seconds: float, rng: random.Random) -> None:
        """Join, then ask until `seconds` have passed, each question once the last reply ended."""
        await self.room.connect(url, token, rtc.RoomOptions(auto_subscribe=True))
        source = rtc.AudioSource(self.clip.sample_rate, 1)
        track = rtc.LocalAudioTrack.create_audio_track("microphone", source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self.room.local_participant.publish_track(track, options)
        listener = asyncio.create_task(self._listen())
        frame = self.clip.sample_rate * FRAME_MS // 1000
        silence = rtc.AudioFrame.create(self.clip.sample_rate, 1, frame)
        samples = self.clip.samples
        try:
            await asyncio.wait_for(self._agent_track, TIMEOUT)
            # callers do not speak in lockstep
            for _ in range(int(rng.uniform(0, 2) * 1000 / FRAME_MS)):
                await source.capture_frame(silence)
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                for start in range(0, len(samples) - frame + 1, frame):
                    chunk = samples[start : start + frame]
                    await source.capture_frame(
                        rtc.AudioFrame(chunk.tobytes(), self.clip.sample_rate, 1, frame)
                    )
                self._reply_done.clear()
                self.turns.append(Turn(time.monotonic() + source.queued_duration))
                reply_deadline = time.monotonic() + TIMEOUT
                # keep the microphone live (silence) until the reply has been heard out
                while not self._reply_done.is_set() and time.monotonic() < reply_deadline:
                    await source.capture_frame(silence)
                for _ in range(int(PAUSE_AFTER_REPLY * 1000 / FRAME_MS)):
                    await source.capture_frame(silence)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            await source.aclose()
            await self.room.disconnect()


@dataclass(frozen=True)
class MediaPhase:
    """One load level with real media, and what it cost."""

    sessions: int
    turns: int
    answered: int
    e2e_p50: float | None
    e2e_p95: float | None
    heard_p50: float | None
    heard_p95: float | None
    # p95 over the replies of the longest gap inside each
    gap_p95: float
    worker_cpu_per_session: float
    worker_pss_per_session_mb: float
    server_cpu: float
    callers_cpu: float

    def overhead_p95(self, baseline_e2e: float | None) -> float | None:
        """The agent's e2e p95 beyond the one-caller baseline's p50."""
        if self.e2e_p95 is None or baseline_e2e is None:
            return None
        return self.e2e_p95 - baseline_e2e

    def holds(self, baseline_e2e: float | None) -> bool:
        """Every question answered, p95 overhead within the limit, replies without stutter."""
        overhead = self.overhead_p95(baseline_e2e)
        return (
            self.answered == self.turns
            and overhead is not None
            and overhead <= OVERHEAD_LIMIT
            and self.gap_p95 <= GAP_LIMIT
        )


def _tree(pid: int) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    return []


def _cpu_seconds(procs: list[psutil.Process]) -> dict[int, float]:
    out: dict[int, float] = {}
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            out[proc.pid] = times.user + times.system
    return out


def _pss(procs: list[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_full_info().pss
    return total


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(after[pid] - before[pid] for pid in after if pid in before)


async def run_phase(
    server: LocalServer, worker: Worker, sessions: int, seconds: float, clip: Clip
) -> MediaPhase:
    """`sessions` callers talking for about `seconds`, one after another joining."""
    assert worker.process is not None and server.pid is not None
    phase = f"media-{sessions}-{time.monotonic_ns()}"
    talkers = [Talker(clip) for _ in range(sessions)]
    tasks = []
    for i, talker in enumerate(talkers):
        token = join_token(server.config, f"{phase}-{i}", worker.agent_name)
        tasks.append(
            asyncio.create_task(talker.talk(server.config.url, token, seconds, random.Random(i)))
        )
        # one at a time: an idle worker takes only as many jobs at once as it has idle processes
        await asyncio.wait_for(talker.joined(), TIMEOUT)
    # steady state: every caller has asked at least once
    await asyncio.sleep(min(6.0, seconds / 3))
    me = psutil.Process()
    worker_procs, server_procs = _tree(worker.process.pid), _tree(server.pid)
    before = [_cpu_seconds(worker_procs), _cpu_seconds(server_procs), _cpu_seconds([me])]
    t0 = time.monotonic()
    await asyncio.sleep(min(10.0, seconds / 3))
    after = [_cpu_seconds(worker_procs), _cpu_seconds(server_procs), _cpu_seconds([me])]
    window = time.monotonic() - t0
    pss = _pss(worker_procs)
    await asyncio.wait_for(asyncio.gather(*tasks), seconds + TIMEOUT)
    assert worker.output is not None
    by_room: dict[str, list[float]] = {}
    for event in worker.output.events("turn"):
        room = str(event.get("room", ""))
        if room.startswith(phase) and event.get("e2e_latency") is not None:
            by_room.setdefault(room, []).append(event["e2e_latency"])
    # a session's first turn pays one-off costs (first model calls)
    e2e = [e for values in by_room.values() for e in values[1:]]
    turns = [t for talker in talkers for t in talker.turns[1:]]
    heard = [t.heard for t in turns if t.heard is not None]
    worker_cpu, server_cpu, callers_cpu = (
        _used(b, a) / window for b, a in zip(before, after, strict=True)
    )
    return MediaPhase(
        sessions=sessions,
        turns=len(turns),
        answered=len(heard),
        e2e_p50=percentile(e2e, 50),
        e2e_p95=percentile(e2e, 95),
        heard_p50=percentile(heard, 50),
        heard_p95=percentile(heard, 95),
        gap_p95=percentile([t.longest_gap for t in turns if t.loud], 95) or 0.0,
        worker_cpu_per_session=worker_cpu / sessions,
        worker_pss_per_session_mb=pss / sessions / 2**20,
        server_cpu=server_cpu,
        callers_cpu=callers_cpu,
    )


def _ramp(quick: bool) -> tuple[int, ...]:
    return (2, 4) if quick else (2, 4, 6, 8, 12)


async def measure(quick: bool) -> tuple[MediaPhase, list[MediaPhase]]:
    """(the one-caller baseline, the ramp up to the first level that does not hold)."""
    seconds = 15.0 if quick else 24.0
    clip = load_clip(DATA_DIR / f"{clips_of('complete', split='report')[0].name}.wav")
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="meridian-media-") as workdir:
        config = local_config().with_ports(free_ports())
        async with LocalServer(config, Path(workdir)) as server:
            worker = Worker(
                "eu-west",
                config,
                TEST_TRANSCRIPT=TRANSCRIPT,
                TEST_REPLY=REPLY,
                TEST_TTS_SECONDS_PER_CHAR=str(TTS_SECONDS_PER_CHAR),
                **{Env.IDLE_PROCESSES: str(cores)},
            )
            try:
                await worker.start()
                # one caller for longer: its e2e p50 is what every level's overhead is taken from
                baseline = await run_phase(server, worker, 1, 2 * seconds, clip)
                ramp: list[MediaPhase] = []
                for n in _ramp(quick):
                    ramp.append(await run_phase(server, worker, n, seconds, clip))
                    if not ramp[-1].holds(baseline.e2e_p50):
                        break
                return baseline, ramp
            finally:
                await worker.stop()


def render(baseline: MediaPhase, ramp: list[MediaPhase]) -> str:
    """The real-media ramp and its sessions-per-core verdict."""
    cores = len(os.sched_getaffinity(0))
    header = [
        "callers",
        "answered",
        "agent e2e p50",
        "e2e p95",
        "overhead p95",
        "heard p50",
        "heard p95",
        "gap in a reply p95",
        "worker CPU / session (% of a core)",
        "worker PSS / session (MB)",
        "server CPU (% of a core)",
        "callers' CPU (% of a core)",
        "holds",
    ]

    def row(p: MediaPhase, label: str) -> list[object]:
        return [
            label,
            f"{p.answered}/{p.turns}",
            ms(p.e2e_p50),
            ms(p.e2e_p95),
            ms(p.overhead_p95(baseline.e2e_p50)),
            ms(p.heard_p50),
            ms(p.heard_p95),
            ms(p.gap_p95),
            f"{p.worker_cpu_per_session * 100:.1f}",
            f"{p.worker_pss_per_session_mb:.0f}",
            f"{p.server_cpu * 100:.0f}",
            f"{p.callers_cpu * 100:.0f}",
            "yes" if p.holds(baseline.e2e_p50) else "no",
        ]

    rows = [row(baseline, "1 (baseline)"), *(row(p, str(p.sessions)) for p in ramp)]
    held = [p for p in ramp if p.holds(baseline.e2e_p50)]
    best = max(held, key=lambda p: p.sessions) if held else None
    if best is None:
        verdict = (
            "\nNo load level held (every question answered, p95 overhead <= 50 ms, reply gaps"
            " p95 <= 100 ms)."
        )
    else:
        by_cpu = 1 / best.worker_cpu_per_session if best.worker_cpu_per_session else float("inf")
        verdict = (
            f"\nLargest N that holds on this machine (worker, server and callers sharing {cores}"
            f" cores): {best.sessions} = {best.sessions / cores:.1f} per core. The worker alone"
            f" uses {best.worker_cpu_per_session * 100:.1f}% of a core per session, so a core"
            f" that runs only the worker carries about {by_cpu:.0f} sessions at full use;"
            f" PSS {best.worker_pss_per_session_mb:.0f} MB per session. The callers' own WebRTC"
            " (this process) is most of what else the machine runs."
        )
        if held[-1] is ramp[-1]:
            verdict += " The ramp ended before the limit: capacity is at least this."
    return (
        table(
            "Capacity with real media: callers over WebRTC through the local LiveKit server"
            " (ms unless stated)",
            header,
            rows,
        )
        + verdict
    )


RESULTS = Path(__file__).with_name("results") / "media_capacity.json"


def write_results(baseline: MediaPhase, ramp: list[MediaPhase], path: Path = RESULTS) -> None:
    """The baseline and every load level, as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    levels = {
        "baseline": dataclasses.asdict(baseline),
        "ramp": [dataclasses.asdict(p) for p in ramp],
    }
    path.write_text(json.dumps(levels, indent=1) + "\n")


def main(quick: bool) -> str:
    """Measure and render the real-media capacity section; the levels also go to RESULTS."""
    baseline, ramp = asyncio.run(measure(quick))
    write_results(baseline, ramp)
    return render(baseline, ramp)
