"""Dispatch keeps its region table current from the one the global layer publishes: a new region
is routed to without touching this region's stack, and a failed read keeps the last good table."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from azure.core.credentials import AccessToken
from pydantic import ValidationError
from structlog.testing import capture_logs

from meridian.dispatch.app import BOARD_KEY, PROBER_KEY, REFRESHER_KEY, create_app
from meridian.dispatch.health import ProbeResult
from meridian.dispatch.region_table import (
    MAX_TABLE_BYTES,
    STORAGE_API_VERSION,
    STORAGE_SCOPE,
    BlobTableSource,
    RegionTableRefresher,
    TableReadError,
)
from meridian.dispatch.settings import DispatchSettings, load_settings, parse_regions
from meridian.region_table import RegionEntry, RegionTable
from tests.dispatch.support import DEFAULT_REGIONS, base_env, board_for, start_stub, worker_app


# As infra publishes it, every region has a dispatch URL its peers probe; nothing listens on
# port 1 of loopback, so a probe of one fails at once.
def _peer_url(key: str) -> str:
    return f"https://127.0.0.1:1/regions/{key}"


PUBLISHED = [{**r, "dispatch_url": _peer_url(r["region"])} for r in DEFAULT_REGIONS]
OWN = [r for r in PUBLISHED if r["region"] == "eu-west"]
SA_EAST = {
    "region": "sa-east",
    "location": "brazilsouth",
    "livekit_url": "wss://sa.example.livekit.cloud",
    "dispatch_url": _peer_url("sa-east"),
}
WITH_SA_EAST = [*PUBLISHED, SA_EAST]
# In São Paulo: sa-east is its nearest region once the table has it.
SAO_PAULO = {
    "participant_attributes": {"meridian.latitude": "-23.55", "meridian.longitude": "-46.63"}
}


class ScriptedSource:
    """Stands in for the published blob: each read answers the next scripted table (a list of
    rows), None (unchanged), an exception, or `HANG` (never answers)."""

    HANG = object()

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.reads = 0
        self.forgot = 0
        self.closed = False

    async def read(self) -> str | None:
        self.reads += 1
        answer = self.answers.pop(0) if self.answers else None
        if answer is self.HANG:
            await asyncio.Event().wait()
        if isinstance(answer, Exception):
            raise answer
        return None if answer is None else json.dumps(answer)

    def forget_version(self) -> None:
        self.forgot += 1

    async def close(self) -> None:
        self.closed = True


class Ticks:
    """The refresher's sleep, stepped by the test: `asleep()` returns once the loop has finished
    a read and is waiting for the next, `wake()` ends that wait."""

    def __init__(self) -> None:
        self.intervals: list[float] = []
        self._sleeping: asyncio.Queue[None] = asyncio.Queue()
        self._wake: asyncio.Queue[None] = asyncio.Queue()

    async def sleep(self, seconds: float) -> None:
        self.intervals.append(seconds)
        self._sleeping.put_nowait(None)
        await self._wake.get()

    async def asleep(self) -> None:
        async with asyncio.timeout(5):
            await self._sleeping.get()

    def wake(self) -> None:
        self._wake.put_nowait(None)


def regions(table: tuple[RegionEntry, ...]) -> list[str]:
    return [e.region for e in table]


def own_table() -> tuple[RegionEntry, ...]:
    return parse_regions(json.dumps(OWN), "eu-west")


def refresher_for(
    source: ScriptedSource, applied: list[tuple[RegionEntry, ...]], ticks: Ticks | None = None
) -> RegionTableRefresher:
    sleep = (ticks or Ticks()).sleep
    return RegionTableRefresher(source, "eu-west", own_table(), applied.append, 60, sleep=sleep)


def own_region_settings() -> DispatchSettings:
    """A region's dispatch as infra renders it: its environment holds its own region only."""
    return load_settings(base_env(MERIDIAN_REGIONS=json.dumps(OWN)))


@pytest.fixture
async def started() -> AsyncIterator:
    """Start a dispatch app (no background probing) on a scripted table source."""
    clients: list[TestClient] = []

    async def start(
        source: ScriptedSource, settings: DispatchSettings | None = None, probe: bool = False
    ) -> tuple[web.Application, TestClient]:
        settings = settings or own_region_settings()
        board = None if probe else board_for(settings)
        app = create_app(settings, board=board, probe=probe, table_source=source)
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return app, client

    yield start
    for client in clients:
        await client.close()


async def listed(client: TestClient) -> dict[str, str]:
    body = await (await client.get("/regions")).json()
    return {row["region"]: row["state"] for row in body["regions"]}


# --- the refresher --------------------------------------------------------------------------


async def test_a_published_table_with_a_new_region_is_applied_and_logged() -> None:
    applied: list[tuple[RegionEntry, ...]] = []
    refresher = refresher_for(ScriptedSource(WITH_SA_EAST), applied)
    with capture_logs() as logs:
        assert await refresher.refresh_once()
    assert [regions(t) for t in applied] == [["us-east", "eu-west", "ap-southeast", "sa-east"]]
    [event] = [e for e in logs if e["event"] == "region_table_updated"]
    assert event["added"] == ["ap-southeast", "sa-east", "us-east"]
    assert event["removed"] == []


async def test_a_failed_read_keeps_the_last_good_table_and_logs_why() -> None:
    applied: list[tuple[RegionEntry, ...]] = []
    failure = TableReadError("https://st.example/meridian/regions.json answered HTTP 403")
    refresher = refresher_for(ScriptedSource(WITH_SA_EAST, failure), applied)
    await refresher.refresh_once()
    with capture_logs() as logs:
        assert not await refresher.refresh_once()
    assert regions(refresher.table) == ["us-east", "eu-west", "ap-southeast", "sa-east"]
    assert len(applied) == 1
    [event] = [e for e in logs if e["event"] == "region_table_refresh_failed"]
    assert event["log_level"] == "warning"
    assert event["reason"] == str(failure)
    assert event["kept"] == ["us-east", "eu-west", "ap-southeast", "sa-east"]


async def test_an_unexpected_error_in_the_source_is_a_failed_read() -> None:
    applied: list[tuple[RegionEntry, ...]] = []
    refresher = refresher_for(ScriptedSource(RuntimeError("boom\nsecond line")), applied)
    with capture_logs() as logs:
        assert not await refresher.refresh_once()
    assert applied == []
    [event] = [e for e in logs if e["event"] == "region_table_refresh_failed"]
    assert event["reason"] == "RuntimeError: boom"


@pytest.mark.parametrize(
    ("published", "reason"),
    [
        ([r for r in PUBLISHED if r["region"] != "eu-west"], "serving region 'eu-west'"),
        ([{**SA_EAST, "location": "atlantis"}, *OWN], "MERIDIAN_REGIONS[0].location"),
        ({"region": "eu-west"}, "MERIDIAN_REGIONS"),
    ],
    ids=["without-the-serving-region", "bad-location", "not-a-list"],
)
async def test_a_table_that_does_not_parse_is_refused_and_read_whole_next_time(
    published: object, reason: str
) -> None:
    applied: list[tuple[RegionEntry, ...]] = []
    source = ScriptedSource(published)
    refresher = refresher_for(source, applied)
    with capture_logs() as logs:
        assert not await refresher.refresh_once()
    assert applied == [] and regions(refresher.table) == ["eu-west"]
    assert source.forgot == 1
    [event] = [e for e in logs if e["event"] == "region_table_refused"]
    assert reason in event["reason"]
    assert event["kept"] == ["eu-west"]


async def test_an_unchanged_table_is_not_applied_again() -> None:
    applied: list[tuple[RegionEntry, ...]] = []
    refresher = refresher_for(ScriptedSource(PUBLISHED, PUBLISHED, None), applied)
    for _ in range(3):
        await refresher.refresh_once()
    assert len(applied) == 1


async def test_it_reads_at_start_then_every_interval_keeping_the_table_through_a_failure() -> None:
    applied: list[tuple[RegionEntry, ...]] = []
    ticks = Ticks()
    failure = TableReadError("https://st.example/meridian/regions.json unreachable: TimeoutError")
    source = ScriptedSource(PUBLISHED, failure, WITH_SA_EAST)
    refresher = refresher_for(source, applied, ticks)
    try:
        await refresher.start(first_read_timeout=5)
        assert regions(refresher.table) == ["us-east", "eu-west", "ap-southeast"]
        await ticks.asleep()
        with capture_logs() as logs:
            ticks.wake()
            await ticks.asleep()
        assert regions(refresher.table) == ["us-east", "eu-west", "ap-southeast"]
        assert [e["event"] for e in logs] == ["region_table_refresh_failed"]
        ticks.wake()
        await ticks.asleep()
        assert regions(refresher.table)[-1] == "sa-east"
    finally:
        await refresher.stop()
    assert source.reads == 3
    assert ticks.intervals == [60, 60, 60]
    assert [len(t) for t in applied] == [3, 4]
    assert source.closed


async def test_a_first_read_that_never_answers_holds_the_start_up_only_as_long_as_allowed() -> None:
    applied: list[tuple[RegionEntry, ...]] = []
    refresher = refresher_for(ScriptedSource(ScriptedSource.HANG), applied)
    try:
        with capture_logs() as logs:
            began = time.monotonic()
            await refresher.start(first_read_timeout=0.05)
            waited = time.monotonic() - began
    finally:
        await refresher.stop()
    assert waited < 2
    assert applied == [] and regions(refresher.table) == ["eu-west"]
    [event] = [e for e in logs if e["event"] == "region_table_refresh_failed"]
    assert event["reason"] == "no answer within 0.05 s"


# --- the service ----------------------------------------------------------------------------


async def test_a_starting_service_serves_the_published_table_before_its_first_request(
    started,
) -> None:
    _, client = await started(ScriptedSource(WITH_SA_EAST))
    # A region new to this replica is not handed out before a probe finds it up.
    assert await listed(client) == {
        "us-east": "down",
        "eu-west": "up",
        "ap-southeast": "down",
        "sa-east": "down",
    }


async def test_a_service_whose_first_read_fails_starts_on_its_own_region(started) -> None:
    failure = TableReadError("https://st.example/meridian/regions.json answered HTTP 404")
    with capture_logs() as logs:
        _, client = await started(ScriptedSource(failure))
    assert await listed(client) == {"eu-west": "up"}
    answer = await client.post("/token", json=SAO_PAULO)
    assert answer.status == 201
    assert (await answer.json())["region"] == "eu-west"
    assert any(e["event"] == "region_table_refresh_failed" for e in logs)


async def test_a_region_learned_from_the_table_gets_callers_once_probed_up(started) -> None:
    app, client = await started(ScriptedSource(WITH_SA_EAST))
    assert (await (await client.post("/token", json=SAO_PAULO)).json())["region"] != "sa-east"
    board = app[BOARD_KEY]
    for _ in range(own_region_settings().policy.probes.up_after_successes):
        board.record("sa-east", ProbeResult(True, "peer reports its worker up"), time.time())
    answer = await (await client.post("/token", json=SAO_PAULO)).json()
    assert answer["region"] == "sa-east"
    assert answer["agent_name"] == "support-agent-sa-east"
    assert answer["server_url"] == SA_EAST["livekit_url"]


async def test_a_region_dropped_from_the_table_is_no_longer_listed_or_routed_to(started) -> None:
    app, client = await started(ScriptedSource(WITH_SA_EAST))
    app[BOARD_KEY].record("sa-east", ProbeResult(True, "up"), time.time())
    refresher = app[REFRESHER_KEY]
    refresher.source.answers.append(PUBLISHED)
    assert await refresher.refresh_once()
    assert "sa-east" not in await listed(client)
    assert (await (await client.post("/token", json=SAO_PAULO)).json())["region"] != "sa-east"


async def test_the_first_probe_round_covers_the_regions_of_the_published_table(started) -> None:
    worker = await start_stub(worker_app("support-agent-eu-west"))
    try:
        url = str(worker.make_url("")).rstrip("/")
        settings = load_settings(
            base_env(MERIDIAN_REGIONS=json.dumps(OWN), MERIDIAN_DISPATCH_WORKER_URL=url)
        )
        app, client = await started(ScriptedSource(WITH_SA_EAST), settings, probe=True)
        assert [e.region for e in app[PROBER_KEY].settings.regions][-1] == "sa-east"
        # Probed before the replica served: its own worker up, the unreachable peers down.
        assert await listed(client) == {
            "us-east": "down",
            "eu-west": "up",
            "ap-southeast": "down",
            "sa-east": "down",
        }
        assert "unreachable" in app[BOARD_KEY].get("sa-east").reason
    finally:
        await worker.close()


async def test_the_service_closes_its_table_source_on_shutdown(started) -> None:
    source = ScriptedSource(PUBLISHED)
    _, client = await started(source)
    await client.close()
    assert source.closed


# --- the blob read --------------------------------------------------------------------------


class FakeCredential:
    """Stands in for azure-identity's credential: issues a fixed token, or fails."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.scopes: list[tuple[str, ...]] = []
        self.closed = False

    async def get_token(self, *scopes: str, **_: object) -> AccessToken:
        self.scopes.append(scopes)
        if self.error is not None:
            raise self.error
        return AccessToken("entra-token-1", int(time.time()) + 3600)

    async def close(self) -> None:
        self.closed = True


@pytest.fixture
async def blob() -> AsyncIterator:
    """A loopback stand-in for the blob endpoint: answers `table` with ETag "v1" (304 when the
    request carries it), or the given status and storage error code."""
    servers: list[TestServer] = []

    async def serve(
        table: str | bytes, status: int = 200, error_code: str | None = None
    ) -> tuple[str, list[dict[str, str]]]:
        seen: list[dict[str, str]] = []

        async def get(request: web.Request) -> web.Response:
            seen.append(dict(request.headers))
            if status == 200 and request.headers.get("If-None-Match") == '"v1"':
                return web.Response(status=304)
            headers = {"ETag": '"v1"'} if status == 200 else {"x-ms-error-code": error_code or ""}
            body = table if isinstance(table, bytes) else table.encode()
            return web.Response(status=status, body=body, headers=headers)

        app = web.Application()
        app.router.add_get("/meridian/regions.json", get)
        server = TestServer(app)
        await server.start_server()
        servers.append(server)
        return str(server.make_url("/meridian/regions.json")), seen

    yield serve
    for server in servers:
        await server.close()


async def test_the_blob_read_sends_the_identitys_token_then_asks_only_for_changes(blob) -> None:
    url, seen = await blob(json.dumps(PUBLISHED))
    credential = FakeCredential()
    source = BlobTableSource(url, credential)
    try:
        assert json.loads(await source.read() or "") == PUBLISHED
        assert await source.read() is None  # 304: unchanged
        source.forget_version()
        assert await source.read() is not None
    finally:
        await source.close()
    assert credential.scopes == [(STORAGE_SCOPE,)] * 3
    assert seen[0]["Authorization"] == "Bearer entra-token-1"
    assert seen[0]["x-ms-version"] == STORAGE_API_VERSION
    assert "If-None-Match" not in seen[0]
    assert seen[1]["If-None-Match"] == '"v1"'
    assert "If-None-Match" not in seen[2]
    assert credential.closed


async def test_a_read_refused_by_storage_names_the_status_and_error_code(blob) -> None:
    url, _ = await blob("<Error/>", status=403, error_code="AuthorizationPermissionMismatch")
    source = BlobTableSource(url, FakeCredential())
    try:
        with pytest.raises(
            TableReadError, match="answered HTTP 403 AuthorizationPermissionMismatch"
        ):
            await source.read()
    finally:
        await source.close()


async def test_a_read_without_a_token_is_a_read_error_of_one_line() -> None:
    credential = FakeCredential(error=RuntimeError("ManagedIdentityCredential: no IMDS\ndetails"))
    source = BlobTableSource("https://st.example/meridian/regions.json", credential)
    try:
        with pytest.raises(TableReadError) as excinfo:
            await source.read()
    finally:
        await source.close()
    assert str(excinfo.value) == (
        "no token for Azure Storage: RuntimeError: ManagedIdentityCredential: no IMDS"
    )


async def test_an_oversized_table_is_a_read_error(blob) -> None:
    url, _ = await blob(b"[" + b" " * MAX_TABLE_BYTES + b"]")
    source = BlobTableSource(url, FakeCredential())
    try:
        with pytest.raises(TableReadError, match="more than"):
            await source.read()
    finally:
        await source.close()


async def test_nothing_listening_is_a_read_error(unused_tcp_port: int) -> None:
    source = BlobTableSource(f"http://127.0.0.1:{unused_tcp_port}/m/r.json", FakeCredential())
    try:
        with pytest.raises(TableReadError, match="unreachable: ClientConnectorError"):
            await source.read()
    finally:
        await source.close()


def test_a_table_entry_may_use_plain_transport_only_on_loopback() -> None:
    local = {"region": "eu-west", "location": "westeurope", "livekit_url": "ws://127.0.0.1:7880"}
    assert RegionTable.validate_python([local])[0].livekit_url == "ws://127.0.0.1:7880"
    with pytest.raises(ValidationError, match="not loopback"):
        RegionTable.validate_python([{**local, "livekit_url": "ws://eu.example.com"}])
