"""Region health: probes with a timeout, and hysteresis (down after K failures, up after M)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import aiohttp
import structlog

from dispatch.settings import DispatchSettings

log = structlog.get_logger("dispatch.health")

State = Literal["up", "down"]


@dataclass(frozen=True)
class ProbeResult:
    """One probe's outcome; ``detail`` carries the worker's own report when there is one."""

    ok: bool
    reason: str
    detail: dict[str, object] | None = None


@dataclass
class RegionHealth:
    """The hysteresis state of one region."""

    state: State = "up"
    reason: str = "not probed yet"
    last_check: float | None = None
    failures: int = 0
    successes: int = 0
    detail: dict[str, object] | None = None


class HealthBoard:
    """Current up/down state of every region, changed only through :meth:`record`."""

    def __init__(self, regions: list[str], down_after: int, up_after: int) -> None:
        # Regions start up: a fresh replica must not answer 503 before its first probe round.
        self._health = {region: RegionHealth() for region in regions}
        self._down_after = down_after
        self._up_after = up_after

    def is_up(self, region: str) -> bool:
        """Whether new users may be sent to the region."""
        return self._health[region].state == "up"

    def get(self, region: str) -> RegionHealth:
        """The region's current health record (read-only by convention)."""
        return self._health[region]

    def regions(self) -> list[str]:
        """Every region the board tracks, in table order."""
        return list(self._health)

    def record(self, region: str, result: ProbeResult, now: float) -> None:
        """Fold one probe result into the region's state."""
        health = self._health[region]
        health.last_check = now
        health.detail = result.detail
        if result.ok:
            health.successes += 1
            health.failures = 0
            if health.state == "down" and health.successes >= self._up_after:
                health.state = "up"
                log.info("region_up", region=region, reason=result.reason)
            if health.state == "up":
                health.reason = result.reason
        else:
            health.failures += 1
            health.successes = 0
            if health.state == "up" and health.failures >= self._down_after:
                health.state = "down"
                log.warning("region_down", region=region, reason=result.reason)
            health.reason = result.reason


async def check_worker(
    session: aiohttp.ClientSession, worker_url: str, expected_agent: str, timeout: float
) -> ProbeResult:
    """Judge the local agent worker: its health ("/") and its status ("/worker"), which must
    report the region's tagged agent name (`expected_agent`)."""
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    try:
        # "/" is 503 while the worker cannot reach LiveKit; "/worker" answers 200 regardless.
        async with session.get(f"{worker_url}/", timeout=client_timeout) as resp:
            if resp.status != 200:
                text = (await resp.text())[:120]
                return ProbeResult(False, f"worker health answered HTTP {resp.status}: {text}")
        async with session.get(f"{worker_url}/worker", timeout=client_timeout) as resp:
            if resp.status != 200:
                return ProbeResult(False, f"worker /worker answered HTTP {resp.status}")
            body = await resp.json(content_type=None)
    except TimeoutError:
        return ProbeResult(False, f"worker timed out after {timeout:g}s")
    except (aiohttp.ClientError, ValueError) as exc:
        return ProbeResult(False, f"worker unreachable: {type(exc).__name__}")
    if not isinstance(body, dict):
        return ProbeResult(False, "worker /worker returned non-object JSON")
    agent = body.get("agent_name", "")
    if agent != expected_agent:
        return ProbeResult(False, f"worker registers as {agent!r}, expected {expected_agent!r}")
    try:
        detail = {
            "agent_name": agent,
            "active_jobs": int(body.get("active_jobs", 0) or 0),
            "worker_load": float(body.get("worker_load", 0.0) or 0.0),
        }
    except (TypeError, ValueError):
        return ProbeResult(False, "worker /worker reported a malformed load")
    return ProbeResult(True, "worker reachable", detail)


async def check_peer(
    session: aiohttp.ClientSession, dispatch_url: str, timeout: float
) -> ProbeResult:
    """Ask another region's dispatch service whether its own worker is up."""
    try:
        async with session.get(
            f"{dispatch_url}/healthz", timeout=aiohttp.ClientTimeout(total=timeout)
        ) as resp:
            if resp.status != 200:
                return ProbeResult(False, f"/healthz answered HTTP {resp.status}")
            body = await resp.json(content_type=None)
    except TimeoutError:
        return ProbeResult(False, f"/healthz timed out after {timeout:g}s")
    except (aiohttp.ClientError, ValueError) as exc:
        return ProbeResult(False, f"/healthz unreachable: {type(exc).__name__}")
    worker = body.get("worker") if isinstance(body, dict) else None
    if not isinstance(worker, dict) or worker.get("state") != "up":
        reason = worker.get("reason") if isinstance(worker, dict) else None
        return ProbeResult(False, f"peer reports its worker down: {reason or 'no worker state'}")
    return ProbeResult(True, "peer reports its worker up")


class Prober:
    """Probes the local worker and every peer region on an interval, feeding a HealthBoard."""

    def __init__(
        self,
        settings: DispatchSettings,
        board: HealthBoard,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._board = board
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    async def probe_once(self) -> None:
        """Run one round of probes concurrently and record the results."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        settings = self._settings
        probes = settings.policy.probes
        targets: list[tuple[str, asyncio.Future[ProbeResult] | asyncio.Task[ProbeResult]]] = []
        for entry in settings.regions:
            if entry.region == settings.region:
                coro = check_worker(
                    self._session,
                    settings.worker_url,
                    settings.tagged_agent_name(settings.region),
                    probes.timeout_seconds,
                )
            elif entry.dispatch_url:
                coro = check_peer(self._session, entry.dispatch_url, probes.timeout_seconds)
            else:
                # Without a URL there is nothing to probe; the region stays routable as rendered.
                continue
            targets.append((entry.region, asyncio.ensure_future(coro)))
        results = await asyncio.gather(*(task for _, task in targets))
        now = self._clock()
        for (region, _), result in zip(targets, results, strict=True):
            self._board.record(region, result, now)

    async def _run(self) -> None:
        while True:
            try:
                await self.probe_once()
            except Exception:
                log.exception("probe_round_failed")
            await asyncio.sleep(self._settings.policy.probes.interval_seconds)

    def start(self) -> None:
        """Start probing in the background."""
        self._task = asyncio.create_task(self._run(), name="dispatch-prober")

    async def stop(self) -> None:
        """Stop probing and close the HTTP session."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()
