"""`python -m meridian.local` (`make local`): one region of the manifest on this machine.

It starts the LiveKit server on loopback, the region's agent worker (`python -m agent dev`, with
the environment infra renders for that region) and its dispatch service (`python -m
meridian.dispatch`), prints where to reach them, and stops all three on Ctrl-C or when one exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import signal
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from infra.env import agent_env
from infra.manifest import DEFAULT_MANIFEST, Manifest, ManifestError, Region, load_manifest
from meridian.contract import (
    AGENT_COMMAND,
    AGENT_HEALTH_PORT,
    DISPATCH_COMMAND,
    DISPATCH_PORT,
    WEBHOOK_PATH,
    Env,
)
from meridian.local.server import (
    LocalServer,
    LocalServerConfig,
    ServerError,
    local_config,
    stop_process,
)
from meridian.policy import policy_env
from meridian.region_table import RegionEntry, render_region_table

READY_TIMEOUT_S = 60.0
# What livekit-agents logs once the LiveKit server has accepted the worker's registration.
REGISTERED = b"registered worker"
# The longest output line relayed (the framework can log a whole job request on one line).
OUTPUT_LINE_LIMIT = 1 << 20
STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class LocalPorts:
    """Where each part listens on loopback."""

    livekit: int = local_config().ports.http
    agent: int = AGENT_HEALTH_PORT
    dispatch: int = DISPATCH_PORT


def local_agent_env(
    region: Region, server: LocalServerConfig, port: int, environ: Mapping[str, str]
) -> dict[str, str]:
    """The region's agent environment as infra renders it, under the caller's own environment
    (model keys, overrides), with the local server's URL and key pair on top."""
    rendered = {v.name: v.value for v in agent_env(region) if v.value is not None}
    return {
        **rendered,
        **environ,
        Env.LIVEKIT_URL: server.url,
        Env.LIVEKIT_API_KEY: server.api_key,
        Env.LIVEKIT_API_SECRET: server.api_secret,
        Env.HEALTH_PORT: str(port),
        # a local Ctrl-C should not wait out a production drain
        Env.DRAIN_SECONDS: environ.get(Env.DRAIN_SECONDS, "10"),
        # its output reaches the terminal through this process, line by line
        "PYTHONUNBUFFERED": "1",
    }


def local_dispatch_env(
    manifest: Manifest,
    region: Region,
    server: LocalServerConfig,
    ports: LocalPorts,
    environ: Mapping[str, str],
) -> dict[str, str]:
    """Dispatch for the one local region: its own table entry, the manifest's policy, and the
    local worker to probe."""
    entry = RegionEntry(region=region.key, location=region.location, livekit_url=server.url)
    return {
        **environ,
        Env.REGION: region.key,
        Env.AGENT_BASE_NAME: manifest.agent.name,
        Env.REGIONS: render_region_table([entry]),
        Env.LIVEKIT_API_KEY: server.api_key,
        Env.LIVEKIT_API_SECRET: server.api_secret,
        Env.dispatch("worker_url"): f"http://127.0.0.1:{ports.agent}",
        Env.dispatch("port"): str(ports.dispatch),
        **policy_env(manifest.dispatch.policy),
    }


class LocalError(Exception):
    """A part did not start; str() says which and why."""


async def _spawn(
    command: Sequence[str], env: dict[str, str], *, piped: bool = False
) -> asyncio.subprocess.Process:
    # its own session: a Ctrl-C reaches this process only, which stops the parts in order
    return await asyncio.create_subprocess_exec(
        *command,
        env=env,
        start_new_session=True,
        limit=OUTPUT_LINE_LIMIT,
        stdout=asyncio.subprocess.PIPE if piped else None,
        stderr=asyncio.subprocess.STDOUT if piped else None,
    )


async def _relay(stream: asyncio.StreamReader, registered: asyncio.Event) -> None:
    """Copy the agent's output to ours, and note when it has registered with the server: its
    health server answers before that, and a room created in between gets no agent."""
    async for line in stream:
        sys.stdout.buffer.write(line)
        sys.stdout.flush()
        if REGISTERED in line:
            registered.set()


async def _until_registered(registered: asyncio.Event, process: asyncio.subprocess.Process) -> None:
    exited = asyncio.ensure_future(process.wait())
    waiting = asyncio.ensure_future(registered.wait())
    try:
        done, _ = await asyncio.wait(
            [exited, waiting], timeout=READY_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        exited.cancel()
        waiting.cancel()
    if waiting not in done:
        what = f"exited with {process.returncode}" if exited in done else "did not register"
        raise LocalError(f"the agent {what} with the LiveKit server within {READY_TIMEOUT_S:.0f} s")


async def _until_answers(url: str, process: asyncio.subprocess.Process, what: str) -> None:
    async with aiohttp.ClientSession() as http:
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                while process.returncode is None:
                    with contextlib.suppress(aiohttp.ClientError):
                        async with http.get(url) as answer:
                            if answer.status == 200:
                                return
                    await asyncio.sleep(0.1)  # a port to poll: nothing to await
        except TimeoutError:
            raise LocalError(
                f"{what} did not answer on {url} within {READY_TIMEOUT_S:.0f} s"
            ) from None
    raise LocalError(f"{what} exited with {process.returncode} before it answered on {url}")


async def run_local(manifest: Manifest, region: Region, ports: LocalPorts, workdir: Path) -> int:
    """Start the three parts, print how to use them, and run until a signal or a part exits."""
    base = local_config()
    config = dataclasses.replace(
        base.with_ports(
            dataclasses.replace(base.ports, http=ports.livekit, rtc_tcp=ports.livekit + 1)
        ),
        # the server's signed webhooks reach dispatch, as LiveKit Cloud's do through Front Door
        webhook_urls=(f"http://127.0.0.1:{ports.dispatch}{WEBHOOK_PATH}",),
    )
    environ = dict(os.environ)
    parts: list[asyncio.subprocess.Process] = []
    relay: asyncio.Future[None] | None = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with LocalServer(config, workdir) as server:
        try:
            agent = await _spawn(
                [sys.executable, *AGENT_COMMAND[1:], "dev"],
                local_agent_env(region, config, ports.agent, environ),
                piped=True,
            )
            registered = asyncio.Event()
            assert agent.stdout is not None
            relay = asyncio.ensure_future(_relay(agent.stdout, registered))
            parts.append(agent)
            await _until_registered(registered, agent)
            dispatch = await _spawn(
                [sys.executable, *DISPATCH_COMMAND[1:]],
                local_dispatch_env(manifest, region, config, ports, environ),
            )
            parts.append(dispatch)
            token_url = f"http://127.0.0.1:{ports.dispatch}/token"
            await _until_answers(f"http://127.0.0.1:{ports.dispatch}/healthz", dispatch, "dispatch")
            print(_summary(region, config, token_url, server), flush=True)
            exits = [asyncio.ensure_future(p.wait()) for p in parts]
            stopped = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait([*exits, stopped], return_when=asyncio.FIRST_COMPLETED)
            if stopped not in done:
                print("meridian.local: a part exited; stopping the others", file=sys.stderr)
                return 1
            return 0
        except LocalError as exc:
            print(f"meridian.local: {exc}", file=sys.stderr)
            return 1
        finally:
            for part in reversed(parts):
                await stop_process(part, STOP_TIMEOUT_S)
            if relay is not None:
                await relay


def _summary(region: Region, config: LocalServerConfig, token_url: str, server: LocalServer) -> str:
    return "\n".join(
        [
            f"meridian.local: region {region.key} is running on this machine",
            f"  LiveKit server  {config.url}  (key {config.api_key}; log {server.log_path})",
            f"  agent worker    registered as {region.names.tagged_agent_name}",
            f"  token endpoint  POST {token_url}",
            f"  try:            curl -s -X POST {token_url} -H 'Content-Type: application/json' -d '{{}}'",
            "  Ctrl-C stops all three.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and the manifest, then run the region until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m meridian.local", description=__doc__)
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST, help="regions manifest")
    parser.add_argument("--region", help="the region to run (default: the manifest's first)")
    defaults = LocalPorts()
    parser.add_argument("--livekit-port", type=int, default=defaults.livekit)
    parser.add_argument("--agent-port", type=int, default=defaults.agent)
    parser.add_argument("--dispatch-port", type=int, default=defaults.dispatch)
    args = parser.parse_args(argv)
    try:
        manifest = load_manifest(args.manifest)
    except ManifestError as exc:
        print(exc, file=sys.stderr)
        return 2
    key = args.region or next(iter(manifest.regions))
    if key not in manifest.regions:
        known = ", ".join(manifest.regions)
        print(f"{args.manifest}: no region {key!r}; the manifest has {known}", file=sys.stderr)
        return 2
    ports = LocalPorts(args.livekit_port, args.agent_port, args.dispatch_port)
    try:
        with tempfile.TemporaryDirectory(prefix="meridian-local-") as workdir:
            return asyncio.run(run_local(manifest, manifest.regions[key], ports, Path(workdir)))
    except ServerError as exc:
        print(f"meridian.local: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
