"""Region health: probes with a timeout, and hysteresis (down after K failures, up after M)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Literal

import aiohttp
import structlog
from yarl import URL

from meridian.dispatch import jsonsafe
from meridian.dispatch.settings import DispatchSettings
from meridian.worker_load import MalformedLoad, read_worker_load

log = structlog.get_logger("dispatch.health")

State = Literal["up", "down"]


@dataclass(frozen=True)
class ProbeResult:
    """One probe's outcome; ``detail`` carries the worker's own report when there is one."""

    ok: bool
    reason: str
    detail: dict[str, object] | None = None
    # For operators only: logged when the region goes down, never served by /healthz or /regions.
    note: str | None = None


NOT_PROBED_YET = "not probed yet"
NOT_PROBED = "not probed: no dispatch_url"


@dataclass
class RegionHealth:
    """The hysteresis state of one region; `awaiting_first_probe` until a probe result is in."""

    state: State = "down"
    reason: str = NOT_PROBED_YET
    last_check: float | None = None
    failures: int = 0
    successes: int = 0
    detail: dict[str, object] | None = None
    awaiting_first_probe: bool = True


def probed_regions(settings: DispatchSettings) -> list[str]:
    """The regions a prober checks: its own (the local worker) and every peer with a URL."""
    return [e.region for e in settings.regions if e.region == settings.region or e.dispatch_url]


class HealthBoard:
    """Current up/down state of every region, changed only through :meth:`record`.

    A region is down until its first probe result, which is taken as it is: a new replica hands
    out no token for a dead or undeployed region, and answers for a live one after one round.
    Hysteresis (down after K failures, up after M successes) applies from then on. Regions in
    `unprobed` have nothing to probe (no dispatch_url) and stay routable as rendered.
    """

    def __init__(
        self,
        regions: list[str],
        down_after: int,
        up_after: int,
        *,
        unprobed: Collection[str] = (),
        probing: bool = True,
    ) -> None:
        self._probing = probing
        self._health = {region: RegionHealth() for region in regions}
        for region in unprobed:
            self._health[region] = RegionHealth(
                state="up", reason=NOT_PROBED, awaiting_first_probe=False
            )
        self._down_after = down_after
        self._up_after = up_after
        self._on_down: list[Callable[[str, str], None]] = []

    @classmethod
    def for_settings(cls, settings: DispatchSettings, *, probing: bool = True) -> HealthBoard:
        """The board for a dispatch service: every deployed region, those it probes waiting for
        their first result (without `probing`, nothing is probed: all are routable as rendered)."""
        probed = set(probed_regions(settings)) if probing else set()
        regions = [e.region for e in settings.regions]
        return cls(
            regions,
            down_after=settings.policy.probes.down_after_failures,
            up_after=settings.policy.probes.up_after_successes,
            unprobed=[r for r in regions if r not in probed],
            probing=probing,
        )

    def on_down(self, callback: Callable[[str, str], None]) -> None:
        """Call `callback(region, reason)` each time a region that was up is found down (not
        for a first probe that finds a region down: nothing was routed to it before)."""
        self._on_down.append(callback)

    def awaiting_first_probe(self) -> list[str]:
        """The regions with no probe result yet (not routable)."""
        return [r for r, health in self._health.items() if health.awaiting_first_probe]

    def is_up(self, region: str) -> bool:
        """Whether new users may be sent to the region."""
        return self._health[region].state == "up"

    def get(self, region: str) -> RegionHealth:
        """The region's current health record (read-only by convention)."""
        return self._health[region]

    def regions(self) -> list[str]:
        """Every region the board tracks, in table order."""
        return list(self._health)

    def sync(self, settings: DispatchSettings) -> None:
        """Track exactly the regions of `settings` (a new region table): those it tracks keep
        their state; a new one that is probed waits for its first probe, like every region of a
        new replica, so no user is sent to it before a probe finds it up."""
        probed = set(probed_regions(settings)) if self._probing else set()
        health: dict[str, RegionHealth] = {}
        for entry in settings.regions:
            known = self._health.get(entry.region)
            if known is not None:
                health[entry.region] = known
            elif entry.region in probed:
                health[entry.region] = RegionHealth()
            else:
                health[entry.region] = RegionHealth(
                    state="up", reason=NOT_PROBED, awaiting_first_probe=False
                )
        self._health = health

    def record(self, region: str, result: ProbeResult, now: float) -> None:
        """Fold one probe result into the region's state (none for a region the table dropped
        while it was being probed)."""
        health = self._health.get(region)
        if health is None:
            return
        health.last_check = now
        health.detail = result.detail
        if health.awaiting_first_probe:
            # the first result stands alone: a region starts where its first probe finds it
            health.awaiting_first_probe = False
            health.state = "up" if result.ok else "down"
            health.successes, health.failures = (1, 0) if result.ok else (0, 1)
            health.reason = result.reason
            if result.ok:
                log.info("region_up", region=region, reason=result.reason, first_probe=True)
            else:
                log.warning(
                    "region_down",
                    region=region,
                    reason=result.reason,
                    note=result.note,
                    first_probe=True,
                )
            return
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
            went_down = health.state == "up" and health.failures >= self._down_after
            health.reason = result.reason
            if went_down:
                health.state = "down"
                log.warning("region_down", region=region, reason=result.reason, note=result.note)
                for callback in self._on_down:
                    callback(region, result.reason)


# A probe reads at most this much of an answer: /healthz and /worker are a few hundred bytes, and
# a peer answering megabytes must not cost this process memory.
MAX_PROBE_BODY_BYTES = 64 * 1024


class _ProbeFailed(Exception):
    """A probe answer that does not count as healthy; `reason` is a fixed, public phrase."""

    def __init__(self, reason: str, note: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.note = note


def health_url(dispatch_url: str) -> str:
    """Where a peer answers its health: ``<dispatch_url>/healthz``, for a bare origin
    (``https://dispatch.example``) and for an origin with a path prefix
    (``https://global.example/regions/eu-west``) alike."""
    url = URL(dispatch_url)
    if not url.is_absolute() or url.query_string or url.fragment:
        raise ValueError(f"not a dispatch URL: {dispatch_url!r}")
    return str(url.with_path(url.path.rstrip("/") + "/healthz"))


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> bytes:
    if resp.content_length is not None and resp.content_length > cap:
        raise _ProbeFailed(f"answered more than {cap} bytes")
    data = bytearray()
    while chunk := await resp.content.read(cap + 1 - len(data)):
        data += chunk
        if len(data) > cap:
            raise _ProbeFailed(f"answered more than {cap} bytes")
    return bytes(data)


async def _get(
    session: aiohttp.ClientSession, url: str, timeout: float, *, want_body: bool
) -> dict[str, object] | None:
    """GET `url` without following redirects; a 200 JSON object (if `want_body`), else a failure."""
    async with session.get(
        url, timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=False
    ) as resp:
        if resp.status != 200:
            # The body is not read: a public page must not echo what another service says.
            raise _ProbeFailed(f"answered HTTP {resp.status}")
        if not want_body:
            return None
        raw = await _read_capped(resp, MAX_PROBE_BODY_BYTES)
    try:
        body = jsonsafe.loads(raw)
    except jsonsafe.JsonError as exc:
        raise _ProbeFailed("answered malformed JSON", note=exc.message) from None
    if not isinstance(body, dict):
        raise _ProbeFailed("answered JSON that is not an object")
    return body


async def _probe(label: str, timeout: float, check: Awaitable[ProbeResult]) -> ProbeResult:
    """Run one check within `timeout` overall; every way it can go wrong is a failed probe."""
    try:
        async with asyncio.timeout(timeout):
            return await check
    except _ProbeFailed as exc:
        return ProbeResult(False, f"{label} {exc.reason}", note=exc.note)
    except TimeoutError:
        return ProbeResult(False, f"{label} timed out after {timeout:g}s")
    except aiohttp.ClientError as exc:
        return ProbeResult(False, f"{label} unreachable: {type(exc).__name__}")
    except Exception as exc:  # an isolated probe: one odd answer fails only this region
        log.warning("probe_error", probe=label, error=type(exc).__name__)
        return ProbeResult(False, f"{label} probe failed: {type(exc).__name__}")


async def check_worker(
    session: aiohttp.ClientSession, worker_url: str, expected_agent: str, timeout: float
) -> ProbeResult:
    """Judge the local agent worker: its health ("/") and its status ("/worker"), which must
    report the region's tagged agent name (`expected_agent`)."""

    async def check() -> ProbeResult:
        # "/" is 503 while the worker cannot reach LiveKit; "/worker" answers 200 regardless.
        try:
            await _get(session, f"{worker_url}/", timeout, want_body=False)
        except _ProbeFailed as exc:
            raise _ProbeFailed(f"health {exc.reason}", exc.note) from None
        body = await _get(session, f"{worker_url}/worker", timeout, want_body=True)
        assert body is not None
        agent = body.get("agent_name")
        if agent != expected_agent:
            raise _ProbeFailed(
                f"registers under another agent name, expected {expected_agent!r}",
                note=f"agent_name {str(agent)[:80]!r}",
            )
        try:
            load = read_worker_load(body)
        except MalformedLoad as exc:
            raise _ProbeFailed("reported a malformed load", note=str(exc)) from None
        return ProbeResult(
            True, "worker reachable", {"agent_name": expected_agent, **load.as_json()}
        )

    return await _probe("worker", timeout, check())


async def check_peer(
    session: aiohttp.ClientSession, dispatch_url: str, timeout: float
) -> ProbeResult:
    """Ask another region's dispatch service whether its own worker is up."""

    async def check() -> ProbeResult:
        body = await _get(session, health_url(dispatch_url), timeout, want_body=True)
        assert body is not None
        worker = body.get("worker")
        if not isinstance(worker, dict) or worker.get("state") != "up":
            raise _ProbeFailed("peer reports its worker down")
        return ProbeResult(True, "peer reports its worker up")

    return await _probe("/healthz", timeout, check())


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

    @property
    def settings(self) -> DispatchSettings:
        """The settings (and so the region table) the next round probes by."""
        return self._settings

    def update_settings(self, settings: DispatchSettings) -> None:
        """Probe the regions of `settings` from the next round on (a new region table)."""
        self._settings = settings

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
        # Each check turns its own failures into a failed result; return_exceptions keeps one
        # probe's surprise from discarding the others' results all the same.
        results = await asyncio.gather(*(task for _, task in targets), return_exceptions=True)
        now = self._clock()
        for (region, _), result in zip(targets, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("probe_error", region=region, error=type(result).__name__)
                result = ProbeResult(False, f"probe failed: {type(result).__name__}")
            self._board.record(region, result, now)

    async def _round(self) -> None:
        try:
            # each probe has its own timeout; this bounds the round if scheduling stalls
            async with asyncio.timeout(self._settings.policy.probes.timeout_seconds + 1):
                await self.probe_once()
        except Exception:
            log.exception("probe_round_failed")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._settings.policy.probes.interval_seconds)
            await self._round()

    async def start(self) -> None:
        """Run the first round of probes, then keep probing in the background.

        The first round is awaited (it takes at most about `probes.timeout_seconds`), so the
        service starts listening only once every probed region has a state."""
        await self._round()
        self._task = asyncio.create_task(self._run(), name="dispatch-prober")

    async def stop(self) -> None:
        """Stop probing and close the HTTP session."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()
