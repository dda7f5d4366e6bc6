"""What runs, per region: the deployed image and revision from the stack outputs, dispatch health
as the global entry and the region's peers see it, the registered worker, and drift."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from infra.global_refs import GlobalOutput
from infra.manifest import Manifest
from infra.program import RegionOutput
from meridian.contract import region_route_prefix
from meridian.images import image_digest
from meridian.release.orchestrate import EXIT_FAILED, EXIT_OK, preview
from meridian.release.plan import Deployer, PreviewOutcome, StackNames, StackState
from meridian.worker_load import MalformedLoad, WorkerLoad, read_worker_load

HTTP_TIMEOUT_S = 5.0
PEER_UNREACHABLE = "unknown (peer unreachable)"
REPLICAS_NOTE = (
    "running replicas are not a stack output; see `az containerapp replica list -g {rg} -n {app}`"
)


@dataclass(frozen=True)
class Probe:
    """One GET: the HTTP status and JSON body, or why there was none."""

    url: str
    status: int | None = None
    body: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200

    def as_json(self) -> dict[str, Any]:
        return {"url": self.url, "status": self.status, "body": self.body, "error": self.error}

    def why(self) -> str:
        return self.error or f"HTTP {self.status}"


@dataclass
class RegionStatus:
    """One region: what its stack deployed, how dispatch answers, what its peers see, drift."""

    region: str
    stack: str
    deployed: bool
    outputs: Mapping[str, Any] = field(default_factory=dict)
    last_good: str | None = None
    replicas_configured: tuple[int, int] = (0, 0)
    replicas_note: str = ""
    own: Probe | None = None
    view: Probe | None = None
    via_global: Probe | None = None
    peers: dict[str, str] = field(default_factory=dict)
    drift: PreviewOutcome | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def image(self) -> str | None:
        return self.outputs.get(RegionOutput.IMAGE)

    @property
    def revision(self) -> str | None:
        return self.outputs.get(RegionOutput.LATEST_REVISION)

    @property
    def dispatch_url(self) -> str | None:
        url = self.outputs.get(RegionOutput.DISPATCH_URL)
        return url.rstrip("/") if isinstance(url, str) and url else None

    @property
    def worker(self) -> dict[str, Any] | None:
        body = self.own.body if self.own and self.own.ok else None
        worker = body.get("worker") if isinstance(body, dict) else None
        return worker if isinstance(worker, dict) else None

    @property
    def load(self) -> WorkerLoad | None:
        """The worker's jobs and load as dispatch reports them; None when it reports none (its
        worker is down) or a malformed one."""
        worker = self.worker
        if worker is None or not ({"active_jobs", "worker_load"} & worker.keys()):
            return None
        try:
            return read_worker_load(worker)
        except MalformedLoad:
            return None

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        worker = self.worker
        return {
            "region": self.region,
            "stack": self.stack,
            "deployed": self.deployed,
            "healthy": self.healthy,
            "problems": self.problems,
            "image": self.image,
            "digest": image_digest(self.image) if self.image else None,
            "last_good_image": self.last_good,
            "revision": self.revision,
            "replicas": {
                "running": None,
                "configured_min": self.replicas_configured[0],
                "configured_max": self.replicas_configured[1],
                "note": self.replicas_note,
            },
            "dispatch_url": self.dispatch_url,
            "dispatch": self.own.as_json() if self.own else None,
            "via_global": self.via_global.as_json() if self.via_global else None,
            "worker": worker,
            "peers": self.peers,
            "drift": self.drift.as_json() if self.drift else None,
        }


@dataclass
class StatusReport:
    """Every region, and the global entry."""

    global_stack: str
    global_deployed: bool
    global_url: str | None
    global_probe: Probe | None
    global_drift: PreviewOutcome | None
    regions: list[RegionStatus]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.healthy for r in self.regions)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_FAILED

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "exit_code": self.exit_code,
            "global": {
                "stack": self.global_stack,
                "deployed": self.global_deployed,
                "url": self.global_url,
                "healthz": self.global_probe.as_json() if self.global_probe else None,
                "drift": self.global_drift.as_json() if self.global_drift else None,
                "problems": self.problems,
            },
            "regions": [r.as_json() for r in self.regions],
        }


@dataclass
class DriftReport:
    """`--drift-only`: every stack's refresh-preview; drift is any change it would make."""

    stacks: list[PreviewOutcome]

    @property
    def drifted(self) -> list[PreviewOutcome]:
        return [p for p in self.stacks if not p.ok or p.changed]

    @property
    def ok(self) -> bool:
        return not self.drifted

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_FAILED

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "exit_code": self.exit_code,
            "stacks": [p.as_json() for p in self.stacks],
        }


def check_drift(manifest: Manifest, names: StackNames, deployer: Deployer) -> DriftReport:
    """Refresh-preview every stack with the image it runs: the one drift check."""
    return DriftReport(preview(manifest, names, deployer, None, refresh=True).stacks)


def collect(
    manifest: Manifest,
    names: StackNames,
    deployer: Deployer,
    *,
    drift: bool = True,
    timeout: float = HTTP_TIMEOUT_S,
) -> StatusReport:
    """Read every stack, probe every dispatch service, and (with `drift`) preview every stack."""
    global_state = deployer.state(names.global_stack)
    states = {key: deployer.state(names.region(key)) for key in manifest.regions}
    global_url = _global_url(global_state, states.values())
    regions = [_region_status(manifest, key, states[key]) for key in manifest.regions]
    global_probe = asyncio.run(_probe_all(regions, global_url, timeout))
    global_drift = None
    if drift:
        drifts = {p.stack: p for p in check_drift(manifest, names, deployer).stacks}
        global_drift = drifts.get(names.global_stack)
        for status in regions:
            status.drift = drifts.get(status.stack)
    report = StatusReport(
        names.global_stack, global_state.exists, global_url, global_probe, global_drift, regions
    )
    _judge(report)
    return report


def _global_url(global_state: StackState, states: Any) -> str | None:
    url = global_state.outputs.get(GlobalOutput.GLOBAL_URL)
    if not url:
        url = next((s.outputs.get(RegionOutput.GLOBAL_URL) for s in states if s.outputs), None)
    return url.rstrip("/") if isinstance(url, str) and url else None


def _region_status(manifest: Manifest, key: str, state: StackState) -> RegionStatus:
    region = manifest.regions[key]
    # The stack's own outputs name its resources (prefixed in a prefixed environment).
    rg = state.outputs.get(RegionOutput.RESOURCE_GROUP) or region.names.resource_group
    app = state.outputs.get(RegionOutput.APP_NAME) or region.names.app
    return RegionStatus(
        region=key,
        stack=state.stack,
        deployed=state.exists and bool(state.outputs),
        outputs=state.outputs,
        last_good=state.last_good,
        replicas_configured=(region.replicas.min, region.replicas.max),
        replicas_note=REPLICAS_NOTE.format(rg=rg, app=app),
    )


async def _probe_all(
    regions: Sequence[RegionStatus], global_url: str | None, timeout: float
) -> Probe | None:
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=client_timeout) as http:

        async def own(status: RegionStatus) -> None:
            # /healthz is always open; behind Front Door a region's view of the others is read
            # through its own route on the global URL, since it answers only Front Door.
            if global_url:
                table = f"{global_url}{region_route_prefix(status.region)}/regions"
            else:
                table = f"{status.dispatch_url}/regions"
            if status.dispatch_url:
                status.own, status.view = await asyncio.gather(
                    get_json(http, f"{status.dispatch_url}/healthz"), get_json(http, table)
                )

        async def routed(status: RegionStatus) -> None:
            if global_url:
                prefix = region_route_prefix(status.region)
                status.via_global = await get_json(http, f"{global_url}{prefix}/healthz")

        tasks = [own(r) for r in regions] + [routed(r) for r in regions]
        probe: Probe | None = None
        if global_url:
            probe, *_ = await asyncio.gather(get_json(http, f"{global_url}/healthz"), *tasks)
        else:
            await asyncio.gather(*tasks)
    for status in regions:
        status.peers = _peer_views(status.region, regions)
    return probe


def _peer_views(key: str, regions: Sequence[RegionStatus]) -> dict[str, str]:
    """Each other deployed region's view of `key`, from its dispatch's /regions answer."""
    views: dict[str, str] = {}
    for peer in regions:
        if peer.region == key or not peer.dispatch_url:
            continue
        view = peer.view
        if view is None or not view.ok or not isinstance(view.body, dict):
            views[peer.region] = PEER_UNREACHABLE
            continue
        rows = view.body.get("regions")
        row = (
            next(
                (r for r in rows if isinstance(r, dict) and r.get("region") == key),
                None,
            )
            if isinstance(rows, list)
            else None
        )
        views[peer.region] = str(row.get("state")) if row else "not listed"
    return views


def _judge(report: StatusReport) -> None:
    if not report.global_deployed:
        report.problems.append(f"global stack {report.global_stack} does not exist")
    if report.global_probe is not None and not _serving(report.global_probe):
        report.problems.append(f"global entry /healthz: {_not_serving(report.global_probe)}")
    if report.global_drift is not None:
        report.problems += _drift_problems(report.global_drift)
    for status in report.regions:
        problems = status.problems
        if not status.deployed:
            problems.append("not deployed (no stack or no outputs)")
        if status.deployed and not status.dispatch_url:
            problems.append("no dispatchUrl output")
        if status.own is not None:
            if not status.own.ok:
                problems.append(f"dispatch /healthz: {status.own.why()}")
            elif (status.worker or {}).get("state") != "up":
                reason = (status.worker or {}).get("reason") or "no reason given"
                problems.append(f"worker not up: {reason}")
        if status.via_global is not None and not _serving(status.via_global):
            problems.append(f"via the global entry: {_not_serving(status.via_global)}")
        for peer, state in status.peers.items():
            # An unreachable peer is that peer's problem, reported on its own row.
            if state not in ("up", PEER_UNREACHABLE):
                problems.append(f"{peer} sees it {state}")
        if status.drift is not None:
            problems += _drift_problems(status.drift)


def _serving(probe: Probe) -> bool:
    """A dispatch /healthz that answers and whose own worker is up."""
    body = probe.body if isinstance(probe.body, dict) else {}
    return probe.ok and body.get("status") == "ok"


def _not_serving(probe: Probe) -> str:
    if not probe.ok:
        return probe.why()
    body = probe.body if isinstance(probe.body, dict) else {}
    return f"answers status {body.get('status')!r}"


def _drift_problems(drift: PreviewOutcome) -> list[str]:
    if not drift.ok:
        return [f"drift check failed: {drift.error}"]
    if drift.changed:
        return [f"drift: {drift.changed} resource change(s) pending"]
    return []


async def get_json(http: aiohttp.ClientSession, url: str) -> Probe:
    """GET `url` and parse its JSON; a Probe says what happened, never raises."""
    try:
        async with http.get(url) as resp:
            try:
                body = await resp.json(content_type=None)
            except ValueError:
                body = None
            return Probe(url, resp.status, body)
    except TimeoutError:
        return Probe(url, error="timed out")
    except aiohttp.ClientError as exc:
        return Probe(url, error=f"unreachable: {type(exc).__name__}")
