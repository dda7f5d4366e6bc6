"""The real LiveKit server (the pinned open-source build) on free loopback ports, once per
module; its log and every worker's output are attached to a failing test's report."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from meridian.local.server import LocalServer, ServerError, local_config, server_binary
from tests.livekit_server.support import Worker, free_ports


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
    async with server:
        yield server


@pytest_asyncio.fixture(loop_scope="module")
async def workers() -> AsyncIterator[list[Worker]]:
    """The workers a test starts: listed here, a failure shows their output, and each is
    stopped afterwards."""
    started: list[Worker] = []
    yield started
    for worker in started:
        await worker.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.failed:
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, LocalServer):
                report.sections.append(("livekit-server log", value.log()))
            for part in value if isinstance(value, list | tuple) else [value]:
                if hasattr(part, "report_sections"):
                    report.sections.extend(part.report_sections())
    return report
