"""scripts/status.py: stack outputs from a deployer double, dispatch services on loopback."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from infra.global_refs import GlobalOutput
from infra.program import RegionOutput
from meridian.release.cli import status_main
from meridian.release.plan import ResourceChange
from tests.manifests import THREE_REGIONS
from tests.release.fakes import OLD, FakeDeployer, FakeStack, fleet

KEYS = ["us-east", "eu-west", "ap-southeast"]


@dataclass
class Dispatch:
    """What one fake dispatch service answers, in meridian/dispatch/app.py's shapes."""

    region: str
    worker_state: str = "up"
    worker_reason: str = "worker reachable"
    # Its view of every region's state.
    view: dict[str, str] = field(default_factory=lambda: dict.fromkeys(KEYS, "up"))
    # Like dispatch with MERIDIAN_FRONT_DOOR_ID set: only health paths answer direct requests.
    front_door_only: bool = False

    def healthz(self) -> dict[str, Any]:
        worker: dict[str, Any] = {
            "state": self.worker_state,
            "reason": self.worker_reason,
            "last_check": "2026-12-01T03:00:00Z",
        }
        if self.worker_state == "up":
            worker.update(
                agent_name=f"support-agent-{self.region}", active_jobs=2, worker_load=0.125
            )
        status = "ok" if self.worker_state == "up" else "degraded"
        return {"status": status, "region": self.region, "worker": worker}

    def regions(self) -> dict[str, Any]:
        rows = [
            {"region": k, "location": "x", "state": s, "last_check": None, "reason": "r"}
            for k, s in self.view.items()
        ]
        return {"serving_region": self.region, "regions": rows}

    def app(self) -> web.Application:
        async def healthz(_: web.Request) -> web.Response:
            return web.json_response(self.healthz())

        async def regions(request: web.Request) -> web.Response:
            if self.front_door_only and "X-Azure-FDID" not in request.headers:
                return web.json_response({"error": "through Front Door"}, status=403)
            return web.json_response(self.regions())

        app = web.Application()
        app.router.add_get("/healthz", healthz)
        app.router.add_get("/regions", regions)
        return app


def global_entry(dispatches: dict[str, Dispatch]) -> web.Application:
    """Front Door's view: /regions/<key>/healthz reaches that region, /healthz the nearest."""

    async def region_healthz(request: web.Request) -> web.Response:
        d = dispatches.get(request.match_info["key"])
        if d is None:
            return web.json_response({"error": "origin unreachable"}, status=502)
        return web.json_response(d.healthz())

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response(dispatches["eu-west"].healthz())

    async def region_table(request: web.Request) -> web.Response:
        d = dispatches.get(request.match_info["key"])
        if d is None:
            return web.json_response({"error": "origin unreachable"}, status=502)
        return web.json_response(d.regions())

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/regions/{key}/healthz", region_healthz)
    app.router.add_get("/regions/{key}/regions", region_table)
    return app


class Loopback:
    """aiohttp servers on 127.0.0.1, in a loop of their own (status.py runs its own loop)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runners: list[web.AppRunner] = []

    def serve(self, app: web.Application) -> str:
        async def start() -> str:
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.runners.append(runner)
            port = runner.addresses[0][1]
            return f"http://127.0.0.1:{port}"

        return asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)

    def close(self) -> None:
        async def stop() -> None:
            for runner in self.runners:
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    servers = Loopback()
    yield servers
    servers.close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class StatusDeployer(FakeDeployer):
    """FakeDeployer whose stacks point at the loopback dispatch services."""

    def __init__(self, stacks: dict[str, FakeStack], urls: dict[str, str], global_url: str) -> None:
        super().__init__(stacks)
        self.urls = urls
        self.global_url = global_url

    def state(self, stack: str):  # type: ignore[no-untyped-def]
        state = super().state(stack)
        if stack == "global":
            return type(state)(stack, outputs={GlobalOutput.GLOBAL_URL: self.global_url})
        if state.exists and stack in self.urls:
            outputs = {**state.outputs, RegionOutput.DISPATCH_URL: self.urls[stack]}
            outputs[RegionOutput.GLOBAL_URL] = self.global_url
            return type(state)(stack, outputs=outputs, last_good=state.last_good)
        return state


def setup(
    loopback: Loopback, dispatches: dict[str, Dispatch], *, down: set[str] = frozenset()
) -> StatusDeployer:
    urls = {
        key: closed_port_url() if key in down else loopback.serve(d.app())
        for key, d in dispatches.items()
    }
    reachable = {k: d for k, d in dispatches.items() if k not in down}
    global_url = loopback.serve(global_entry(reachable))
    return StatusDeployer(fleet(KEYS), urls, global_url)


def status(deployer: FakeDeployer, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = status_main(
        ["--manifest", str(THREE_REGIONS), "--timeout", "3", *args],
        deployer_factory=lambda log: deployer,
        stdout=out,
        stderr=io.StringIO(),
    )
    return code, out.getvalue()


def test_healthy_regions(loopback: Loopback) -> None:
    deployer = setup(loopback, {k: Dispatch(k) for k in KEYS})
    code, out = status(deployer)
    assert code == 0, out
    row = next(line for line in out.splitlines() if line.startswith("eu-west"))
    assert "sha256:aaaaaaaaaaaa" in row
    assert "eu-west--rev" in row  # latestRevision output
    assert "1-16" in row  # configured replicas; running ones are not an output
    assert "support-agent-eu-west up, 2 jobs, load 0.12" in row
    assert "us-east: up, ap-southeast: up" in row
    assert "no changes" in row
    assert "OK: every region healthy" in out
    assert "entry http://127.0.0.1:" in out and "ok (served by eu-west)" in out
    # Drift is a refresh-preview of every stack with the image it runs.
    previews = [c for c in deployer.calls if c[0] == "preview"]
    assert [(c[1], c[2], c[3]) for c in previews] == [
        ("global", "-", "refresh"),
        ("eu-west", OLD, "refresh"),
        ("us-east", OLD, "refresh"),
        ("ap-southeast", OLD, "refresh"),
    ]
    assert deployer.mutations() == []


def test_healthy_regions_as_json(loopback: Loopback) -> None:
    deployer = setup(loopback, {k: Dispatch(k) for k in KEYS})
    code, out = status(deployer, "--json")
    assert code == 0
    body = json.loads(out)
    region = next(r for r in body["regions"] if r["region"] == "us-east")
    assert region["healthy"] is True
    assert region["digest"] == "sha256:" + "a" * 64
    assert region["revision"].startswith("us-east--rev")
    assert region["replicas"]["running"] is None
    assert "az containerapp replica list -g rg-support-agent-us-east" in region["replicas"]["note"]
    assert region["worker"]["agent_name"] == "support-agent-us-east"
    assert region["via_global"]["status"] == 200
    assert region["peers"] == {"eu-west": "up", "ap-southeast": "up"}
    assert region["drift"]["changed"] == 0
    assert body["global"]["healthz"]["body"]["status"] == "ok"


def test_a_drifted_region(loopback: Loopback) -> None:
    deployer = setup(loopback, {k: Dispatch(k) for k in KEYS})
    deployer.stacks["eu-west"].drift = (
        ResourceChange(
            "update", "azure-native:app:ContainerApp", "support-agent-eu-west", ("template",)
        ),
    )
    code, out = status(deployer)
    assert code == 1
    assert "eu-west: drift: 1 resource change(s) pending" in out
    row = next(line for line in out.splitlines() if line.startswith("eu-west"))
    assert "1 update" in row


def test_drift_only_lists_the_drifted_resources_and_fails() -> None:
    deployer = FakeDeployer(fleet(KEYS))
    deployer.stacks["us-east"].drift = (
        ResourceChange(
            "update", "azure-native:app:ContainerApp", "support-agent-us-east", ("template",)
        ),
        ResourceChange("delete", "azure-native:app:ManagedEnvironment", "cae-extra"),
    )
    code, out = status(deployer, "--drift-only")
    assert code == 1
    assert "us-east drifted:" in out
    assert "update azure-native:app:ContainerApp support-agent-us-east (template)" in out
    assert "delete azure-native:app:ManagedEnvironment cae-extra" in out
    assert "DRIFT in 1 stack(s)" in out
    assert deployer.mutations() == []
    assert all(c[0] in ("state", "preview") for c in deployer.calls)


def test_drift_only_passes_when_nothing_drifted() -> None:
    code, out = status(FakeDeployer(fleet(KEYS)), "--drift-only", "--json")
    assert code == 0
    body = json.loads(out)
    assert body["ok"] is True
    assert [s["stack"] for s in body["stacks"]] == ["global", "eu-west", "us-east", "ap-southeast"]


def test_drift_only_fails_on_a_missing_stack() -> None:
    stacks = fleet(KEYS)
    del stacks["ap-southeast"]
    code, out = status(FakeDeployer(stacks), "--drift-only")
    assert code == 1
    assert "ap-southeast: no such stack" in out


def test_an_unreachable_region(loopback: Loopback) -> None:
    deployer = setup(loopback, {k: Dispatch(k) for k in KEYS}, down={"ap-southeast"})
    code, out = status(deployer, "--no-drift", "--json")
    assert code == 1
    body = json.loads(out)
    regions = {r["region"]: r for r in body["regions"]}
    bad = regions["ap-southeast"]
    assert bad["healthy"] is False
    assert bad["dispatch"]["error"].startswith("unreachable: ")
    assert any(p.startswith("dispatch /healthz: unreachable") for p in bad["problems"])
    assert any(p.startswith("via the global entry: HTTP 502") for p in bad["problems"])
    # The others are healthy; they only cannot hear the unreachable peer.
    assert regions["eu-west"]["healthy"] is True
    assert regions["eu-west"]["peers"]["ap-southeast"] == "unknown (peer unreachable)"
    assert bad["drift"] is None
    assert not [c for c in deployer.calls if c[0] == "preview"]


def test_a_region_its_peers_see_down_and_whose_worker_is_down(loopback: Loopback) -> None:
    dispatches = {k: Dispatch(k) for k in KEYS}
    dispatches["us-east"] = Dispatch("us-east", "down", "worker unreachable: ClientConnectorError")
    for key in ("eu-west", "ap-southeast"):
        dispatches[key].view["us-east"] = "down"
    deployer = setup(loopback, dispatches)
    code, out = status(deployer, "--no-drift")
    assert code == 1
    assert "us-east: worker not up: worker unreachable: ClientConnectorError" in out
    assert "us-east: eu-west sees it down" in out
    assert "us-east: via the global entry: answers status 'degraded'" in out
    row = next(line for line in out.splitlines() if line.startswith("us-east"))
    assert "degraded" in row


def test_a_region_never_deployed(loopback: Loopback) -> None:
    deployer = setup(loopback, {k: Dispatch(k) for k in ("us-east", "eu-west")})
    del deployer.stacks["ap-southeast"]
    code, out = status(deployer, "--no-drift")
    assert code == 1
    assert "ap-southeast: not deployed (no stack or no outputs)" in out


def test_behind_front_door_each_peers_view_comes_through_its_route_on_the_global_url(
    loopback: Loopback,
) -> None:
    dispatches = {k: Dispatch(k, front_door_only=True) for k in KEYS}
    dispatches["eu-west"].view["ap-southeast"] = "down"
    deployer = setup(loopback, dispatches)
    code, out = status(deployer, "--no-drift", "--json")
    body = json.loads(out)
    regions = {r["region"]: r for r in body["regions"]}
    # Direct /regions calls are refused; <global>/regions/<key>/regions reaches each region.
    assert regions["us-east"]["peers"] == {"eu-west": "up", "ap-southeast": "up"}
    assert regions["ap-southeast"]["peers"]["eu-west"] == "down"
    assert regions["ap-southeast"]["problems"] == ["eu-west sees it down"]
    assert regions["us-east"]["healthy"] is True
    assert code == 1
