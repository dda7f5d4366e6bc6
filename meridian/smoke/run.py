"""One region's smoke run: seven timed steps, and a clean-up that runs whatever happened.

The run talks to the dispatch service over HTTP, to LiveKit's server API through livekit-api,
and to the room through a `MediaSession`, so tests can swap in fakes for all three.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from livekit import api

from meridian.contract import DISPATCH_KEY_HEADER, REGION_ATTRIBUTE, REVISION_ATTRIBUTE, Env
from meridian.geo.latency import site_location
from meridian.smoke.media import Clip, MediaFactory, MediaSession
from meridian.worker_load import MalformedLoad, read_worker_load

Status = Literal["passed", "failed", "skipped", "not_run"]

STEPS: tuple[tuple[str, str], ...] = (
    ("dispatch", "Dispatch service"),
    ("livekit_api", "LiveKit API"),
    ("room", "Room and dispatch"),
    ("join", "Join"),
    ("agent", "Agent arrives"),
    ("turn", "A real turn"),
    ("cleanup", "Clean up"),
)
TITLES = dict(STEPS)
# If clean-up itself fails, LiveKit still closes the room this long after everyone left.
ROOM_EMPTY_TIMEOUT_S = 60


@dataclass(frozen=True)
class Target:
    """Everything the run needs to know about the region under test."""

    region: str
    location: str
    agent_name: str
    resource_group: str
    app_name: str
    latency_budget_ms: int
    livekit_url: str
    dispatch_url: str | None = None
    # the Container Apps revision the agent must run (the stack's latestRevision), if known
    revision: str | None = None


@dataclass(frozen=True)
class Credentials:
    """LiveKit API key pair, and the dispatch service's optional shared secret."""

    api_key: str
    api_secret: str = field(repr=False)
    dispatch_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Limits:
    """Seconds each wait may take; `total` bounds the whole run before clean-up."""

    total: float = 90.0
    http: float = 10.0
    agent: float = 20.0
    reply: float = 20.0
    cleanup: float = 15.0


@dataclass(frozen=True)
class StepResult:
    """One step's outcome; failed steps carry the reason and a hint for the user."""

    name: str
    status: Status = "not_run"
    duration_ms: float | None = None
    detail: str | None = None
    hint: str | None = None

    @property
    def title(self) -> str:
        return TITLES[self.name]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "duration_ms": None if self.duration_ms is None else round(self.duration_ms, 1),
            "detail": self.detail,
            "hint": self.hint,
        }


@dataclass(frozen=True)
class RegionResult:
    """The outcome of one region's run, complete enough to render as a table or JSON."""

    target: Target
    room_name: str
    steps: tuple[StepResult, ...]
    question_ms: float | None = None
    reply_latency_ms: float | None = None
    dispatch_deleted: bool | None = None
    room_deleted: bool | None = None
    interrupted: bool = False

    @property
    def failed_step(self) -> StepResult | None:
        return next((s for s in self.steps if s.status == "failed"), None)

    @property
    def ok(self) -> bool:
        return self.failed_step is None and not self.interrupted

    @property
    def within_budget(self) -> bool | None:
        if self.reply_latency_ms is None:
            return None
        return self.reply_latency_ms <= self.target.latency_budget_ms

    def as_json(self) -> dict[str, Any]:
        failed = self.failed_step
        return {
            "region": self.target.region,
            "ok": self.ok,
            "location": self.target.location,
            "agent_name": self.target.agent_name,
            "livekit_url": self.target.livekit_url,
            "dispatch_url": self.target.dispatch_url,
            "revision": self.target.revision,
            "room_name": self.room_name,
            "latency_budget_ms": self.target.latency_budget_ms,
            "question_ms": _round(self.question_ms),
            "reply_latency_ms": _round(self.reply_latency_ms),
            "within_budget": self.within_budget,
            "failed_step": failed.name if failed else None,
            "reason": failed.detail if failed else None,
            "hint": failed.hint if failed else None,
            "interrupted": self.interrupted,
            "cleanup": {
                "dispatch_deleted": self.dispatch_deleted,
                "room_deleted": self.room_deleted,
            },
            "steps": [s.as_json() for s in self.steps],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


class StepFailed(Exception):
    """A step's failure: what went wrong, and what the user should check."""

    def __init__(self, reason: str, hint: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


class _Stop(Exception):
    """A step failed and was recorded; skip the remaining steps."""


class SmokeRun:
    """Runs the steps for one region; `result()` is readable at any time, even mid-run."""

    def __init__(
        self,
        target: Target,
        credentials: Credentials,
        clip: Clip,
        media_factory: MediaFactory,
        limits: Limits = Limits(),
    ) -> None:
        self.target = target
        self.credentials = credentials
        self.clip = clip
        self.media_factory = media_factory
        self.limits = limits
        suffix = secrets.token_hex(4)
        self.room_name = f"meridian-smoke-{target.region}-{suffix}"
        self.identity = f"meridian-smoke-{suffix}"
        self._steps = {name: StepResult(name) for name, _ in STEPS}
        self._question_ms: float | None = None
        self._latency_ms: float | None = None
        self._room_requested = False
        self._dispatch_requested = False
        self._dispatch_id: str | None = None
        self._dispatch_deleted: bool | None = None
        self._room_deleted: bool | None = None
        self._media: MediaSession | None = None
        self._current: str | None = None
        self._interrupted = False
        self._deadline = 0.0
        self._started = 0.0

    def result(self) -> RegionResult:
        """A snapshot of the run so far."""
        return RegionResult(
            target=self.target,
            room_name=self.room_name,
            steps=tuple(self._steps[name] for name, _ in STEPS),
            question_ms=self._question_ms,
            reply_latency_ms=self._latency_ms,
            dispatch_deleted=self._dispatch_deleted,
            room_deleted=self._room_deleted,
            interrupted=self._interrupted,
        )

    async def run(self) -> RegionResult:
        """Run every step until one fails, then always clean up; cancellation cleans up too."""
        loop = asyncio.get_running_loop()
        self._deadline = loop.time() + self.limits.total
        async with aiohttp.ClientSession() as http:
            lk = api.LiveKitAPI(
                self.target.livekit_url,
                self.credentials.api_key,
                self.credentials.api_secret,
                session=http,
                # Failing over to another LiveKit region would hide the region's own problems.
                failover=False,
            )
            try:
                await self._steps_in_order(http, lk)
            except _Stop:
                pass
            except asyncio.CancelledError:
                self._interrupted = True
                if self._current is not None:
                    self._fail(
                        self._current,
                        self._started,
                        "interrupted (Ctrl-C) during this step",
                        None,
                    )
                raise
            finally:
                cleanup = asyncio.create_task(self._cleanup(lk))
                try:
                    await asyncio.shield(cleanup)
                except asyncio.CancelledError:
                    # A second cancellation must still not leave the room and dispatch behind.
                    await cleanup
                    raise
        return self.result()

    async def _steps_in_order(self, http: aiohttp.ClientSession, lk: api.LiveKitAPI) -> None:
        limits = self.limits
        if self.target.dispatch_url is None:
            self._steps["dispatch"] = StepResult(
                "dispatch",
                "skipped",
                detail="not checked (--skip-dispatch)",
            )
        else:
            await self._step(
                "dispatch",
                lambda: self._check_dispatch(http, self.target.dispatch_url or ""),
                limits.http,
                f"the dispatch service did not answer within {limits.http:g} s",
                "is the dispatch container app running? check its logs",
            )
        await self._step(
            "livekit_api",
            lambda: self._check_api(lk),
            limits.http,
            f"the LiveKit API at {self.target.livekit_url} did not answer within {limits.http:g} s",
            f"check {Env.LIVEKIT_URL} and that this machine can reach it over HTTPS",
        )
        await self._step(
            "room",
            lambda: self._create_room_and_dispatch(lk),
            limits.http,
            f"creating the room and dispatch took over {limits.http:g} s",
            "LiveKit's API is slow or unreachable from here; retry, then check LiveKit's status",
        )
        await self._step(
            "join",
            self._join,
            limits.http,
            f"joining the room took over {limits.http:g} s",
            _JOIN_HINT,
        )
        await self._step(
            "agent",
            self._wait_for_agent,
            limits.agent,
            f"no agent joined within {limits.agent:g} s",
            f"are workers registered as {self.target.agent_name}? check the container app's logs:"
            f" {self._logs_command()}",
        )
        await self._step(
            "turn",
            self._ask,
            # The limit starts before the question plays, so it includes the clip itself.
            limits.reply + self.clip.duration_s,
            f"the agent did not speak within {limits.reply:g} s after the question",
            "the agent joined but stayed silent: look for STT, LLM or TTS errors (keys, endpoints,"
            f" quotas) in its logs: {self._logs_command()}",
        )

    def _logs_command(self) -> str:
        return (
            f"az containerapp logs show -g {self.target.resource_group}"
            f" -n {self.target.app_name} --follow"
        )

    # --- step plumbing ------------------------------------------------------------------

    async def _step(
        self,
        name: str,
        action: Callable[[], Awaitable[str]],
        limit: float,
        timeout_reason: str,
        hint: str,
    ) -> None:
        loop = asyncio.get_running_loop()
        self._current = name
        self._started = loop.time()
        deadline = min(self._deadline, self._started + limit)
        try:
            async with asyncio.timeout_at(deadline):
                detail = await action()
        except TimeoutError:
            if deadline >= self._deadline:
                timeout_reason = (
                    f"the run timed out after {self.limits.total:g} s (--timeout) during this step"
                )
            self._fail(name, self._started, timeout_reason, hint)
            raise _Stop from None
        except StepFailed as exc:
            self._fail(name, self._started, exc.reason, exc.hint)
            raise _Stop from None
        except Exception as exc:
            self._fail(name, self._started, f"unexpected {type(exc).__name__}: {exc}", hint)
            raise _Stop from None
        self._steps[name] = StepResult(name, "passed", self._elapsed_ms(self._started), detail)
        self._current = None

    def _fail(self, name: str, started: float, reason: str, hint: str | None) -> None:
        self._steps[name] = StepResult(name, "failed", self._elapsed_ms(started), reason, hint)
        self._current = None

    @staticmethod
    def _elapsed_ms(started: float) -> float:
        return (asyncio.get_running_loop().time() - started) * 1000

    # --- the steps ----------------------------------------------------------------------

    async def _check_dispatch(self, http: aiohttp.ClientSession, url: str) -> str:
        region = self.target.region
        status, health = await _get_json(http, f"{url}/healthz")
        if status != 200:
            raise StepFailed(
                f"GET {url}/healthz answered HTTP {status}",
                "is the dispatch container app running? check its logs",
            )
        served = health.get("region")
        if served != region:
            raise StepFailed(
                f"the dispatch service at {url} serves region {served!r}, not {region!r}",
                f"use the dispatchUrl output of the {region} stack",
            )
        if health.get("status") != "ok":
            worker = health.get("worker")
            why = worker.get("reason") if isinstance(worker, dict) else None
            raise StepFailed(
                f"the dispatch service reports this region's agent worker down: {why or 'no reason given'}",
                f"check the agent container app's logs: {self._logs_command()}",
            )

        site = site_location(self.target.location)
        headers = {}
        if self.credentials.dispatch_secret:
            headers[DISPATCH_KEY_HEADER] = self.credentials.dispatch_secret
        # Coordinates only: deployments may refuse the standard fields, never these hints.
        payload = {"latitude": site.latitude, "longitude": site.longitude}
        status, body = await _post_json(http, f"{url}/", payload, headers)
        if status != 201:
            raise StepFailed(
                f"the token request answered HTTP {status}: {body.get('error') or 'no error given'}",
                _TOKEN_HINTS.get(status, f"check the dispatch service's logs at {url}"),
            )
        routed = body.get("region")
        if routed != region:
            raise StepFailed(
                f"a user in {self.target.location} was routed to {routed!r}, not {region!r}"
                f" ({body.get('reason') or 'no reason given'})",
                f"the dispatch service may consider {region} down; see GET {url}/regions",
            )
        missing = [k for k in ("participant_token", "server_url", "agent_name") if not body.get(k)]
        if missing:
            raise StepFailed(f"the token response lacks {', '.join(missing)}")
        if body["agent_name"] != self.target.agent_name:
            raise StepFailed(
                f"the token dispatches {body['agent_name']!r}, not {self.target.agent_name!r}",
                f"the dispatch service's {Env.AGENT_BASE_NAME} differs from regions.yaml's agent.name",
            )
        return f"healthy{_load_note(health)}; a user in {self.target.location} is routed here"

    async def _check_api(self, lk: api.LiveKitAPI) -> str:
        try:
            await lk.room.list_rooms(api.ListRoomsRequest(names=[self.room_name]))
        except (api.ServerError, aiohttp.ClientError) as exc:
            raise self._api_failure(exc, "listing rooms") from None
        return "reachable; credentials accepted"

    async def _create_room_and_dispatch(self, lk: api.LiveKitAPI) -> str:
        metadata = json.dumps({"meridian.smoke_test": True, "region": self.target.region})
        try:
            self._room_requested = True
            await lk.room.create_room(
                api.CreateRoomRequest(
                    name=self.room_name,
                    empty_timeout=ROOM_EMPTY_TIMEOUT_S,
                    metadata=metadata,
                )
            )
            self._dispatch_requested = True
            dispatch = await lk.agent_dispatch.create_dispatch(
                api.CreateAgentDispatchRequest(
                    agent_name=self.target.agent_name, room=self.room_name, metadata=metadata
                )
            )
        except (api.ServerError, aiohttp.ClientError) as exc:
            what = "creating the dispatch" if self._dispatch_requested else "creating the room"
            raise self._api_failure(exc, what) from None
        self._dispatch_id = dispatch.id
        return f"room {self.room_name}; dispatch {dispatch.id} for {self.target.agent_name}"

    async def _join(self) -> str:
        token = (
            api.AccessToken(self.credentials.api_key, self.credentials.api_secret)
            .with_identity(self.identity)
            .with_name("Meridian smoke test")
            .with_ttl(datetime.timedelta(seconds=self.limits.total + 60))
            .with_grants(
                api.VideoGrants(
                    room_join=True, room=self.room_name, can_publish=True, can_subscribe=True
                )
            )
            .to_jwt()
        )
        self._media = self.media_factory()
        try:
            await self._media.join(self.target.livekit_url, token)
        except (StepFailed, asyncio.CancelledError):
            raise
        except Exception as exc:
            raise StepFailed(f"could not join the room: {exc}", _JOIN_HINT) from None
        return f"joined as {self.identity}"

    async def _wait_for_agent(self) -> str:
        assert self._media is not None
        presence = await self._media.wait_for_agent()
        region = self.target.region
        if presence.region is None:
            raise StepFailed(
                f"agent {presence.identity} joined without the {REGION_ATTRIBUTE} attribute",
                "is the container running this project's agent image? it tags itself on join",
            )
        if presence.region != region:
            raise StepFailed(
                f"agent {presence.identity} says it is in region {presence.region!r},"
                f" not {region!r}",
                f"workers of region {presence.region} register as {self.target.agent_name}:"
                f" check {Env.LIVEKIT_AGENT_NAME} and {Env.REGION} of the {presence.region} app",
            )
        expected = self.target.revision
        if expected is not None and presence.revision != expected:
            revisions = (
                f"az containerapp revision list -g {self.target.resource_group}"
                f" -n {self.target.app_name} -o table"
            )
            if presence.revision is None:
                raise StepFailed(
                    f"agent {presence.identity} joined without the {REVISION_ATTRIBUTE} attribute,"
                    f" so it is not from revision {expected}",
                    "a worker of an older image took the job: is the new revision running and"
                    f" ready? {revisions}",
                )
            raise StepFailed(
                f"agent {presence.identity} runs revision {presence.revision!r}, not the deployed"
                f" {expected!r}",
                f"the old revision's workers still take jobs: is the new one running? {revisions}",
            )
        detail = f"{presence.identity} joined, {REGION_ATTRIBUTE}={presence.region}"
        if presence.revision is not None:
            detail += f", {REVISION_ATTRIBUTE}={presence.revision}"
        return detail

    async def _ask(self) -> str:
        assert self._media is not None
        timing = await self._media.ask(self.clip)
        self._question_ms = timing.question_ms
        self._latency_ms = timing.latency_ms
        budget = self.target.latency_budget_ms
        if timing.latency_ms > budget:
            raise StepFailed(
                f"the first reply came {timing.latency_ms:.0f} ms after the question,"
                f" over the {budget} ms budget",
                "the region answers, but slowly: compare regions with --all, and break the turn"
                " down with python scripts/latency_report.py on the agent's logs",
            )
        return f"reply after {timing.latency_ms:.0f} ms (budget {budget} ms)"

    def _api_failure(self, exc: BaseException, action: str) -> StepFailed:
        url = self.target.livekit_url
        if isinstance(exc, api.ServerError):
            if exc.status in (401, 403):
                return StepFailed(
                    f"LiveKit rejected the credentials while {action}"
                    f" ({exc.code}: {exc.message or 'no message'})",
                    f"{Env.LIVEKIT_API_KEY} and {Env.LIVEKIT_API_SECRET} must be a key pair of the project at {url}",
                )
            return StepFailed(
                f"LiveKit answered HTTP {exc.status} ({exc.code}: {exc.message or 'no message'})"
                f" while {action}",
                "retry; if it persists, check LiveKit's status page and the project's limits",
            )
        return StepFailed(
            f"cannot reach the LiveKit API at {url} while {action}: {exc}",
            f"check {Env.LIVEKIT_URL} (wss://<project>.livekit.cloud) and this machine's network",
        )

    # --- clean-up -----------------------------------------------------------------------

    async def _cleanup(self, lk: api.LiveKitAPI) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        problems: list[str] = []
        done: list[str] = []
        try:
            async with asyncio.timeout(self.limits.cleanup):
                if self._media is not None:
                    try:
                        await self._media.close()
                        done.append("left the room")
                    except Exception as exc:
                        problems.append(f"leaving the room failed: {exc}")
                if self._dispatch_requested:
                    try:
                        await self._delete_dispatch(lk)
                        self._dispatch_deleted = True
                        done.append("dispatch deleted")
                    except (api.ServerError, aiohttp.ClientError) as exc:
                        self._dispatch_deleted = False
                        problems.append(f"deleting the dispatch failed: {exc}")
                if self._room_requested:
                    try:
                        await _ignore_not_found(
                            lk.room.delete_room(api.DeleteRoomRequest(room=self.room_name))
                        )
                        self._room_deleted = True
                        done.append("room deleted")
                    except (api.ServerError, aiohttp.ClientError) as exc:
                        self._room_deleted = False
                        problems.append(f"deleting the room failed: {exc}")
        except TimeoutError:
            problems.append(f"clean-up did not finish within {self.limits.cleanup:g} s")
            if self._dispatch_requested and self._dispatch_deleted is None:
                self._dispatch_deleted = False
            if self._room_requested and self._room_deleted is None:
                self._room_deleted = False
        elapsed = self._elapsed_ms(started)
        if problems:
            self._steps["cleanup"] = StepResult(
                "cleanup",
                "failed",
                elapsed,
                "; ".join(problems),
                f"delete it by hand: lk room delete {self.room_name} (LiveKit also closes it"
                f" {ROOM_EMPTY_TIMEOUT_S} s after it empties)",
            )
        else:
            self._steps["cleanup"] = StepResult(
                "cleanup", "passed", elapsed, ", ".join(done) or "nothing to clean up"
            )

    async def _delete_dispatch(self, lk: api.LiveKitAPI) -> None:
        if self._dispatch_id is not None:
            ids = [self._dispatch_id]
        else:
            # Interrupted before the id came back: find the dispatch by room and agent name.
            try:
                listed = await lk.agent_dispatch.list_dispatch(self.room_name)
            except api.ServerError as exc:
                if exc.code == api.ServerErrorCode.NOT_FOUND:
                    return
                raise
            ids = [d.id for d in listed if d.agent_name == self.target.agent_name]
        for dispatch_id in ids:
            await _ignore_not_found(lk.agent_dispatch.delete_dispatch(dispatch_id, self.room_name))


def _load_note(health: dict[str, Any]) -> str:
    """What the region's worker is busy with, as dispatch reports it, e.g. " (2 active jobs)"."""
    worker = health.get("worker")
    if not isinstance(worker, dict) or "active_jobs" not in worker:
        return ""
    try:
        jobs = read_worker_load(worker).active_jobs
    except MalformedLoad:
        return " (load report unreadable)"
    return f" ({jobs} active job{'' if jobs == 1 else 's'})"


async def _ignore_not_found(call: Awaitable[Any]) -> None:
    """Run an API delete; something already gone counts as deleted."""
    try:
        await call
    except api.ServerError as exc:
        if exc.code != api.ServerErrorCode.NOT_FOUND:
            raise


async def _get_json(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]]:
    try:
        async with http.get(url) as resp:
            return resp.status, await _json_body(resp)
    except aiohttp.ClientError as exc:
        raise StepFailed(
            f"cannot reach {url}: {exc}", "check the dispatch URL and that the app is running"
        ) from None


async def _post_json(
    http: aiohttp.ClientSession, url: str, payload: dict[str, Any], headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    try:
        async with http.post(url, json=payload, headers=headers) as resp:
            return resp.status, await _json_body(resp)
    except aiohttp.ClientError as exc:
        raise StepFailed(
            f"cannot reach {url}: {exc}", "check the dispatch URL and that the app is running"
        ) from None


async def _json_body(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        body = await resp.json(content_type=None)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


_JOIN_HINT = (
    "the API answered, so media is the problem: WebRTC needs UDP 443/7881 or TCP 443"
    " (TURN) from this machine to LiveKit"
)
_TOKEN_HINTS = {
    401: f"set {Env.DISPATCH_SHARED_SECRET} to the dispatch service's shared secret",
    403: "the dispatch service refused the request: check its CORS and client-field settings",
    429: "the dispatch service rate-limited this machine; wait a minute and retry",
    503: "the dispatch service considers every candidate region down; see GET /regions",
}


async def run_all(runs: Sequence[SmokeRun]) -> list[RegionResult]:
    """Run every region at once; after Ctrl-C, wait for their clean-ups and return partials."""
    tasks = [asyncio.create_task(run.run()) for run in runs]
    try:
        await asyncio.gather(*tasks)
    except asyncio.CancelledError:
        # gather raises only once every run has finished its clean-up.
        await asyncio.gather(*tasks, return_exceptions=True)
    return [run.result() for run in runs]


def run_smoke(
    targets: Sequence[Target],
    credentials: Credentials,
    clip: Clip,
    media_factory: MediaFactory,
    limits: Limits | None = None,
) -> list[RegionResult]:
    """Smoke-test every target at once, in-process; one RegionResult per target, in order.

    Ctrl-C cancels the runs and waits for their clean-ups; a second one stops clean-up early and
    the results say what is known.
    """
    runs = [SmokeRun(t, credentials, clip, media_factory, limits or Limits()) for t in targets]
    try:
        return asyncio.run(run_all(runs))
    except KeyboardInterrupt:
        return [run.result() for run in runs]
