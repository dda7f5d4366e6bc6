"""The real worker against a local agent-protocol server: registration, availability, load
reports, and a SIGTERM drain that lets the running job finish before exiting 0."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from livekit import api
from livekit.protocol import agent, models

from meridian.contract import REGION_ATTRIBUTE, REVISION_ATTRIBUTE
from meridian.dispatch.health import ProbeResult, check_worker
from meridian.worker_load import read_worker_load
from tests.agent.protocol_server import AgentProtocolServer
from tests.agent.support import LIVEKIT_KEY, LIVEKIT_SECRET, REPO, base_env

pytestmark = pytest.mark.asyncio(loop_scope="module")

TAGGED_AGENT_NAME = "support-agent-eu-west"
REVISION = "support-agent-eu-west--0000002"
TIMEOUT = 60


@dataclass
class WorkerRun:
    """What one worker process did, start to exit, as seen by the protocol server."""

    server: AgentProtocolServer
    availability: agent.AvailabilityResponse
    marker_after_sigterm: str
    marker_at_exit: str
    exit_code: int
    stdout: str
    health: tuple[int, str] = (0, "")
    status: dict = field(default_factory=dict)
    # the "/worker" answer while the job ran, and what dispatch's worker probe made of it
    status_during_job: dict = field(default_factory=dict)
    probe_during_job: ProbeResult | None = None


class _Output:
    """The worker's stdout, line by line, so a test can wait for a line while it runs."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.lines: list[str] = []
        self._changed = asyncio.Event()
        self.done = asyncio.ensure_future(self._read(stream))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        async for raw in stream:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))
            self._changed.set()

    async def wait_for(self, pattern: str) -> re.Match[str]:
        while True:
            for line in self.lines:
                if found := re.search(pattern, line):
                    return found
            self._changed.clear()
            await self._changed.wait()


async def _probe_health(port: int) -> tuple[str, tuple[int, str], dict]:
    """The health server's base URL, its "/" answer and its "/worker" answer."""
    # the server listens on every interface but logs the port of whichever socket it lists
    # first, IPv4 or IPv6: try both loopbacks
    async with aiohttp.ClientSession() as http:
        for host in ("127.0.0.1", "[::1]"):
            url = f"http://{host}:{port}"
            try:
                async with http.get(f"{url}/") as health:
                    health_answer = (health.status, await health.text())
            except aiohttp.ClientConnectorError:
                continue
            async with http.get(f"{url}/worker") as status:
                return url, health_answer, await status.json(content_type=None)
    raise AssertionError(f"no health server on port {port}")


async def _probe_during_job(url: str) -> tuple[dict, ProbeResult]:
    """The framework's own "/worker" body while a job runs, and dispatch's real probe of it."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/worker") as status:
            body = await status.json(content_type=None)
        return body, await check_worker(http, url, TAGGED_AGENT_NAME, 5.0)


def _job() -> agent.Job:
    return agent.Job(
        id="AJ_drain_test",
        type=agent.JobType.JT_ROOM,
        room=models.Room(sid="RM_test", name="room-under-test"),
        agent_name=TAGGED_AGENT_NAME,
    )


def _room_token() -> str:
    return (
        api.AccessToken(LIVEKIT_KEY, LIVEKIT_SECRET)
        .with_identity("agent-under-test")
        .with_kind("agent")
        .with_grants(api.VideoGrants(room_join=True, room="room-under-test", agent=True))
        .to_jwt()
    )


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def worker_run(tmp_path_factory) -> WorkerRun:
    """Start the worker, register it, give it a job, SIGTERM it mid-job, wait for its exit.

    The job runs until the test releases it, after the worker has reported itself full: what the
    test sees after SIGTERM never depends on how fast a loaded machine runs."""
    server = AgentProtocolServer(api_key=LIVEKIT_KEY, api_secret=LIVEKIT_SECRET)
    await server.start()
    job_dir = tmp_path_factory.mktemp("worker")
    marker, release = job_dir / "job", job_dir / "release"
    env = {
        **os.environ,
        **base_env(
            LIVEKIT_URL=server.url,
            MERIDIAN_IDLE_PROCESSES="1",
            MERIDIAN_DRAIN_SECONDS="30",
            MERIDIAN_LOAD_THRESHOLD="1",
        ),
        # what Container Apps sets in every replica's environment
        "CONTAINER_APP_REVISION": REVISION,
        "TEST_JOB_MARKER": str(marker),
        "TEST_JOB_RELEASE": str(release),
        "PYTHONUNBUFFERED": "1",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.agent.worker_app",
        "start",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = _Output(proc.stdout)  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(server.registered(), TIMEOUT)
        listening = await asyncio.wait_for(
            output.wait_for(r'HTTP server listening on [^"]*:(\d+)"'), TIMEOUT
        )
        health_url, health, status = await _probe_health(int(listening.group(1)))
        availability = await asyncio.wait_for(server.offer_job(_job()), TIMEOUT)
        await server.assign_job(_job(), room_token=_room_token())
        await asyncio.wait_for(
            server.next_message(
                "update_job", lambda m: m.update_job.status == agent.JobStatus.JS_RUNNING
            ),
            TIMEOUT,
        )
        await asyncio.wait_for(_file_says(marker, "started"), TIMEOUT)
        status_during_job, probe_during_job = await _probe_during_job(health_url)
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(
            server.next_message(
                "update_worker", lambda m: m.update_worker.status == agent.WorkerStatus.WS_FULL
            ),
            TIMEOUT,
        )
        marker_after_sigterm = marker.read_text()
        release.touch()  # the caller hangs up: the job ends, and the drain with it
        exit_code = await asyncio.wait_for(proc.wait(), TIMEOUT)
        await output.done
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await server.close()
    return WorkerRun(
        server=server,
        availability=availability,
        marker_after_sigterm=marker_after_sigterm,
        marker_at_exit=marker.read_text(),
        exit_code=exit_code,
        stdout="\n".join(output.lines),
        health=health,
        status=status,
        status_during_job=status_during_job,
        probe_during_job=probe_during_job,
    )


async def _file_says(path: Path, text: str) -> None:
    # the job runs in another process; its marker file is the only thing to watch
    while not (path.exists() and path.read_text() == text):
        await asyncio.sleep(0.05)


async def test_the_worker_registers_under_the_region_tagged_name(worker_run: WorkerRun) -> None:
    registration = worker_run.server.worker.registration
    assert registration.agent_name == TAGGED_AGENT_NAME
    assert registration.type == agent.JobType.JT_ROOM


async def test_the_worker_accepts_a_job_with_the_region_attribute(worker_run: WorkerRun) -> None:
    answer = worker_run.availability
    assert answer.available is True
    assert answer.participant_attributes[REGION_ATTRIBUTE] == "eu-west"


async def test_the_worker_tags_the_agent_with_its_container_apps_revision(
    worker_run: WorkerRun,
) -> None:
    assert worker_run.availability.participant_attributes[REVISION_ATTRIBUTE] == REVISION


async def test_the_worker_reports_its_load(worker_run: WorkerRun) -> None:
    reports = [
        m.update_worker
        for m in worker_run.server.worker.messages
        if m.WhichOneof("message") == "update_worker"
    ]
    assert any(r.status == agent.WorkerStatus.WS_AVAILABLE for r in reports)
    assert all(0.0 <= r.load <= 1.0 for r in reports)


async def test_the_framework_health_server_answers(worker_run: WorkerRun) -> None:
    assert worker_run.health == (200, "OK")
    assert worker_run.status["agent_name"] == TAGGED_AGENT_NAME


async def test_the_worker_endpoint_counts_the_running_job_as_the_framework_writes_it(
    worker_run: WorkerRun,
) -> None:
    # MessageToJson(WorkerInfo): active_jobs is a protobuf float, so one job reads 1.0
    assert worker_run.status_during_job["active_jobs"] == 1.0
    assert read_worker_load(worker_run.status_during_job).active_jobs == 1


async def test_dispatch_probes_a_worker_with_a_running_job_as_up(worker_run: WorkerRun) -> None:
    probe = worker_run.probe_during_job
    assert probe is not None
    assert probe.ok, probe.reason
    assert probe.detail is not None and probe.detail["active_jobs"] == 1


async def test_sigterm_marks_the_worker_unavailable_while_the_job_runs(
    worker_run: WorkerRun,
) -> None:
    assert worker_run.marker_after_sigterm == "started"


async def test_sigterm_lets_the_running_job_finish_then_exits_zero(worker_run: WorkerRun) -> None:
    assert worker_run.marker_at_exit == "finished"
    assert worker_run.exit_code == 0


async def test_the_worker_logs_carry_no_secret(worker_run: WorkerRun) -> None:
    assert LIVEKIT_SECRET not in worker_run.stdout
    json_lines = [line for line in worker_run.stdout.splitlines() if line.startswith("{")]
    assert any(json.loads(line).get("event") == "prewarmed" for line in json_lines)
