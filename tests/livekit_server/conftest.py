"""The real LiveKit server (the pinned open-source build) on free loopback ports, once per
module; its log and the output of every part the module started are attached to the report of
a test that fails, in its fixture or in itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from benchmarks.live_call import STARTED, free_ports
from meridian.local.server import LocalServer, ServerError, local_config, server_binary
from tests.livekit_server.support import SERVERS


@pytest.fixture(scope="session")
def livekit_binary():
    """The pinned livekit-server; a missing build fails the test with how to make it."""
    try:
        return server_binary()
    except ServerError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def livekit_server(livekit_binary, tmp_path_factory) -> AsyncIterator[LocalServer]:
    server = LocalServer(
        local_config().with_ports(free_ports()),
        tmp_path_factory.mktemp("livekit-server"),
        binary=livekit_binary,
    )
    SERVERS.append(server)
    async with server:
        yield server


@pytest.fixture(scope="module", autouse=True)
def _parts_of_this_module() -> Iterator[None]:
    STARTED.clear()
    SERVERS.clear()
    yield
    STARTED.clear()
    SERVERS.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A failing test (or fixture) reports the server's log and the output of every process
    its module started."""
    report = yield
    if report.failed:
        for server in SERVERS:
            report.sections.append(("livekit-server log", server.log()))
        for output in STARTED:
            report.sections.append((f"{output.name} output", "\n".join(output.lines[-300:])))
    return report
