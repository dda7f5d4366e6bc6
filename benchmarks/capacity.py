"""Section 4: concurrent sessions per core through the worker's real job executor.

Each phase starts an AgentServer (unregistered: no LiveKit server needed) with Meridian's
prewarm, and launches N jobs with `simulate_job(fake_job=True)`, the path `console` mode uses:
real job processes from the real process pool, a mock room. Every job runs Meridian's pipeline
on the stand-ins, hearing live audio at real time and asking a question every few seconds.
N rises until p95 overhead passes 50 ms or audio falls behind real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil
from livekit.agents import AgentServer, JobContext, JobExecutorType, JobProcess

# imported here, on the main thread: plugins refuse to register from a job thread
import agent.server  # noqa: F401
from benchmarks import manifest_defaults
from benchmarks.clips import clips_of
from benchmarks.conversation import Conversation, Variant
from benchmarks.floor import ModelLatencies
from benchmarks.report import table
from benchmarks.runner import quiet_logs
from benchmarks.turn_latency import split_faq
from meridian.stats import percentile
from meridian.tables import fmt_seconds_as_ms as ms

# Job processes learn where to write from the environment, which the forkserver (started once
# per benchmark process, at the first phase) passes to every job; the phase's duration rides
# in the room name.
_OUT = "MERIDIAN_BENCH_OUT"
OVERHEAD_LIMIT = 0.050
# A frame more than this late at the microphone means the process no longer keeps real time.
LAG_LIMIT = 0.100
TURN_GAP = 1.5


def _prewarm(proc: JobProcess) -> None:
    """Meridian's per-process set-up (agent.server.prewarm without the environment)."""
    from agent.server import load_local_models

    quiet_logs()
    load_local_models()
    proc.userdata["ready"] = True


async def _appears(path: Path, *, timeout: float) -> None:
    """Wait for another process to create `path` (files are how jobs and driver talk here)."""
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def _session_job(ctx: JobContext) -> None:
    """One caller: a question every few seconds for the phase's duration, then a summary."""
    assigned = time.time()
    out = Path(os.environ[_OUT])
    seconds = float(ctx.job.room.name.split("_")[3])
    conversation = Conversation(Variant("Meridian"), ModelLatencies())
    await conversation.start()
    ready = time.time()
    (out / f"{ctx.job.room.name}.ready").touch()
    # turns start once every session of the phase is up: a burst of process start-ups is the
    # start-up table's subject, not the steady state's
    go = out / f"{ctx.job.room.name.rsplit('_', 1)[0]}.go"
    await _appears(go, timeout=120)
    # audio must keep up in the steady state; lag while sibling processes were still starting
    # belongs to start-up, which the start-up table measures
    conversation.mic.reset_lag()
    _, questions = split_faq(clips_of("complete"))
    rng = random.Random(ctx.job.room.name)
    # callers do not speak in lockstep
    await asyncio.sleep(rng.uniform(0, 3))
    turns = []
    deadline = time.monotonic() + seconds
    for clip in itertools.cycle(rng.sample(questions, len(questions))):
        if time.monotonic() > deadline:
            break
        turns.append(await conversation.ask(clip, settle=TURN_GAP))
    await conversation.aclose()
    summary = {
        "room": ctx.job.room.name,
        "pid": os.getpid(),
        "entry_at": assigned,
        "ready_at": ready,
        # a job's first turn pays one-off costs (first model calls); start-up is measured apart
        "overheads": [t.overhead for t in turns[1:] if t.overhead is not None],
        "e2e": [t.e2e for t in turns[1:] if t.e2e is not None],
        "max_lag": conversation.mic.max_lag,
        "lag_p95": percentile(conversation.mic.lags or [0.0], 95),
    }
    (out / f"{ctx.job.room.name}.json").write_text(json.dumps(summary))
    ctx.shutdown("benchmark session done")


@dataclass(frozen=True)
class Phase:
    """One load level and what it cost."""

    executor: str
    sessions: int
    idle_processes: int
    turns: int
    overhead_p50: float | None
    overhead_p95: float | None
    e2e_p50: float | None
    max_lag: float
    cpu_per_session: float
    pss_per_session_mb: float
    pss_job_process_mb: float
    startup_p50: float | None
    completed: int

    @property
    def holds(self) -> bool:
        """p95 overhead within the limit, audio kept real time, and every session finished."""
        return (
            self.completed == self.sessions
            and self.overhead_p95 is not None
            and self.overhead_p95 <= OVERHEAD_LIMIT
            and self.max_lag <= LAG_LIMIT
        )


def _job_processes(root: psutil.Process) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        return root.children(recursive=True)
    return []


def _sample(procs: Sequence[psutil.Process]) -> dict[int, tuple[float, float]]:
    """pid -> (CPU seconds so far, PSS bytes now) for the processes still alive."""
    out: dict[int, tuple[float, float]] = {}
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            out[proc.pid] = (times.user + times.system, float(proc.memory_full_info().pss))
    return out


class _ExpectedRampWarnings(logging.Filter):
    """The ramp starts sessions in bursts on purpose, so waiting for a warm process is expected."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "no warmed process available" not in record.getMessage()


async def run_phase(
    sessions: int, *, seconds: float, idle_processes: int, executor: JobExecutorType
) -> Phase:
    """Run `sessions` concurrent jobs for about `seconds` each and measure the worker."""
    tmp = os.environ[_OUT]
    logging.getLogger("livekit.agents").addFilter(_ExpectedRampWarnings())
    server = AgentServer(
        job_executor_type=executor,
        num_idle_processes=idle_processes,
        load_threshold=1.0,
        port=0,
        ws_url="ws://127.0.0.1:1",
        api_key="benchmark",
        api_secret="benchmark-secret-never-used-for-anything",
        setup_fnc=_prewarm,
        initialize_process_timeout=60.0,
    )
    server.rtc_session(_session_job, agent_name="meridian-bench")
    started = asyncio.Event()
    server.on("worker_started", lambda *_: started.set())
    run_task = asyncio.create_task(server.run(devmode=False, unregistered=True))
    await asyncio.wait_for(started.wait(), 120)
    if idle_processes:
        # let the pool warm its idle processes, as a running worker would have
        await asyncio.sleep(min(2.0 + idle_processes, 12.0))
    me = psutil.Process()
    assigned: dict[str, float] = {}
    phase = f"bench_{executor.name.lower()}{idle_processes}_{sessions}_{seconds:g}"
    for i in range(sessions):
        assigned[f"{phase}_{i}"] = time.time()
        await server.simulate_job(f"{phase}_{i}", fake_job=True)
    for room in assigned:
        await _appears(Path(tmp) / f"{room}.ready", timeout=120)
    (Path(tmp) / f"{phase}.go").touch()
    # steady state: every session is past its staggered start and taking turns
    await asyncio.sleep(min(6.0, seconds / 3))
    procs = [me, *_job_processes(me)]
    before = _sample(procs)
    t0 = time.monotonic()
    await asyncio.sleep(min(10.0, seconds / 3))
    after = _sample(procs)
    window = time.monotonic() - t0
    expected = {Path(tmp) / f"{room}.json" for room in assigned}
    deadline = time.monotonic() + seconds + 30
    while time.monotonic() < deadline and not all(p.exists() for p in expected):
        await asyncio.sleep(0.5)
    results = [json.loads(p.read_text()) for p in expected if p.exists()]
    with contextlib.suppress(Exception):
        await asyncio.wait_for(server.aclose(), 30)
    run_task.cancel()
    with contextlib.suppress(BaseException):
        await run_task
    # this driver process is the worker's main process: its CPU and memory count as the worker's
    cpu = sum(after[pid][0] - before[pid][0] for pid in after if pid in before)
    pss_all = sum(pss for _, pss in after.values())
    job_pids = {r["pid"] for r in results}
    pss_jobs = [after[pid][1] for pid in job_pids if pid in after and pid != me.pid]
    overheads = [o for r in results for o in r["overheads"]]
    startups = [r["ready_at"] - assigned[r["room"]] for r in results]
    return Phase(
        executor=executor.name.lower(),
        sessions=sessions,
        idle_processes=idle_processes,
        turns=len(overheads),
        overhead_p50=percentile(overheads, 50),
        overhead_p95=percentile(overheads, 95),
        e2e_p50=percentile([e for r in results for e in r["e2e"]], 50),
        max_lag=max((r["max_lag"] for r in results), default=0.0),
        cpu_per_session=cpu / window / sessions,
        pss_per_session_mb=pss_all / sessions / 2**20,
        pss_job_process_mb=(sum(pss_jobs) / len(pss_jobs) / 2**20) if pss_jobs else 0.0,
        startup_p50=percentile(startups, 50),
        completed=len(results),
    )


def _ramp(quick: bool) -> tuple[int, ...]:
    return (2, 4) if quick else (4, 8, 12, 16, 20, 24, 28)


async def measure(quick: bool) -> tuple[list[Phase], list[Phase]]:
    """(the load ramp on the default executor, the start-up and executor comparisons)."""
    with tempfile.TemporaryDirectory(prefix="meridian-bench-") as tmp:
        os.environ[_OUT] = tmp
        return await _measure(quick)


async def _measure(quick: bool) -> tuple[list[Phase], list[Phase]]:
    seconds = 14.0 if quick else 26.0
    cores = len(os.sched_getaffinity(0))
    ramp: list[Phase] = []
    for n in _ramp(quick):
        phase = await run_phase(
            n, seconds=seconds, idle_processes=cores, executor=JobExecutorType.PROCESS
        )
        ramp.append(phase)
        if not phase.holds:
            break
    extra = [
        await run_phase(1, seconds=6.0, idle_processes=0, executor=JobExecutorType.PROCESS),
        await run_phase(1, seconds=6.0, idle_processes=1, executor=JobExecutorType.PROCESS),
    ]
    largest = max((p.sessions for p in ramp if p.holds), default=_ramp(quick)[0])
    extra.append(
        await run_phase(largest, seconds=seconds, idle_processes=1, executor=JobExecutorType.THREAD)
    )
    return ramp, extra


def render(ramp: Sequence[Phase], extra: Sequence[Phase]) -> str:
    """The capacity tables and the sessions-per-core verdict."""
    cores = len(os.sched_getaffinity(0))
    header = [
        "executor",
        "sessions",
        "turns",
        "overhead p50",
        "overhead p95",
        "e2e p50",
        "max audio lag",
        "CPU / session (% of a core)",
        "PSS / session, all worker processes (MB)",
        "PSS of one job process (MB)",
        "start-up p50 (ms)",
        "holds",
    ]

    def row(p: Phase) -> list[object]:
        return [
            f"{p.executor} (idle {p.idle_processes})",
            f"{p.completed}/{p.sessions}",
            p.turns,
            ms(p.overhead_p50),
            ms(p.overhead_p95),
            ms(p.e2e_p50),
            ms(p.max_lag),
            f"{p.cpu_per_session * 100:.1f}",
            f"{p.pss_per_session_mb:.0f}",
            f"{p.pss_job_process_mb:.0f}",
            ms(p.startup_p50),
            "yes" if p.holds else "no",
        ]

    held = [p for p in ramp if p.holds]
    best = max(held, key=lambda p: p.sessions) if held else None
    verdict = (
        f"\nLargest N that holds: {best.sessions} sessions on {cores} cores = "
        f"{best.sessions / cores:.1f} per core (target >= 10); PSS {best.pss_per_session_mb:.0f} MB "
        f"per session (target <= 150); CPU {best.cpu_per_session * 100:.1f}% of a core per session."
        if best
        else "\nNo load level held (p95 overhead <= 50 ms and audio in real time)."
    )
    if held and held[-1] is ramp[-1]:
        verdict += " The ramp ended before the limit was reached: capacity is at least this."
    parts = []
    limit_found = any(not p.holds for p in ramp)
    if best is not None and not limit_found:
        parts.append("\n(No regions.yaml recommendation: the ramp stopped below the limit.)")
    if best is not None and limit_found:
        cold = next((p for p in extra if p.executor == "process" and p.idle_processes == 0), None)
        warm = next((p for p in extra if p.executor == "process" and p.idle_processes > 0), None)
        parts.append(
            manifest_defaults.render(
                manifest_defaults.recommend(
                    held_sessions=best.sessions,
                    cores=cores,
                    cpu_per_session=best.cpu_per_session,
                    pss_per_session_mb=best.pss_job_process_mb,
                    fixed_pss_mb=best.pss_per_session_mb * best.sessions
                    - best.pss_job_process_mb * best.completed,
                    startup_cold=cold.startup_p50 if cold else None,
                    startup_warm=warm.startup_p50 if warm else None,
                )
            )
        )
    return "\n".join(
        [
            table(
                "Capacity ramp (ms unless stated; default process executor)",
                header,
                [row(p) for p in ramp],
            ),
            verdict,
            table(
                "Job start-up (assignment to ready) and the thread executor",
                header,
                [row(p) for p in extra],
            ),
            *parts,
        ]
    )


def main(quick: bool) -> str:
    """Measure and render the capacity section."""
    ramp, extra = asyncio.run(measure(quick))
    return render(ramp, extra)
