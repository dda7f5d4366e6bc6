"""The open-source LiveKit server as a child process on loopback: find the pinned binary, write
its config with the ports asked for, start it, wait until it answers, and stop it."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

import aiohttp
import yaml

# The checked-in config of the local server (its key pair is for loopback only).
CONFIG: Final = Path(__file__).with_name("livekit.yaml")
# Where `make` links the pinned build; LIVEKIT_SERVER_BIN names another.
REPO: Final = Path(__file__).resolve().parents[2]
DEFAULT_BINARY: Final = REPO / ".tools" / "bin" / "livekit-server"
BINARY_ENV: Final = "LIVEKIT_SERVER_BIN"
MISSING_BINARY: Final = (
    "the LiveKit server is not built: run `make test` or `make livekit-server` once "
    "(it needs Go 1.26+), or set LIVEKIT_SERVER_BIN to a livekit-server binary; looked for {path}"
)


class ServerError(Exception):
    """The local LiveKit server could not be found, started, or reached."""


@dataclass(frozen=True)
class Ports:
    """The server's signalling (HTTP and WebSocket), ICE/TCP and ICE/UDP ports (a range, or one
    port when first and last are the same)."""

    http: int = 7880
    rtc_tcp: int = 7881
    udp_first: int = 47100
    udp_last: int = 47300


@dataclass(frozen=True)
class LocalServerConfig:
    """What a client needs to reach the local server, and the ports it listens on."""

    api_key: str
    api_secret: str
    ports: Ports = Ports()
    # where the server posts its signed webhooks (room and participant events), if anywhere
    webhook_urls: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        """The signalling URL (plain ws://, which Meridian allows on loopback only)."""
        return f"ws://127.0.0.1:{self.ports.http}"

    @property
    def http_url(self) -> str:
        """The same server's HTTP base, for its Twirp services (RoomService, AgentDispatch)."""
        return f"http://127.0.0.1:{self.ports.http}"

    def with_ports(self, ports: Ports) -> LocalServerConfig:
        """The same server on other ports."""
        return dataclasses.replace(self, ports=ports)

    def render(self) -> dict[str, Any]:
        """The server's YAML config: the checked-in file with this config's ports and key."""
        data = yaml.safe_load(CONFIG.read_text())
        data["port"] = self.ports.http
        rtc = data["rtc"]
        rtc["tcp_port"] = self.ports.rtc_tcp
        if self.ports.udp_first == self.ports.udp_last:
            # one port: every peer connection shares it through the server's UDP mux
            del rtc["port_range_start"], rtc["port_range_end"]
            rtc["udp_port"] = self.ports.udp_first
        else:
            rtc.update(port_range_start=self.ports.udp_first, port_range_end=self.ports.udp_last)
        data["keys"] = {self.api_key: self.api_secret}
        if self.webhook_urls:
            data["webhook"] = {"api_key": self.api_key, "urls": list(self.webhook_urls)}
        return data


def local_config() -> LocalServerConfig:
    """The checked-in config's key pair and ports."""
    data = yaml.safe_load(CONFIG.read_text())
    ((key, secret),) = data["keys"].items()
    rtc = data["rtc"]
    ports = Ports(data["port"], rtc["tcp_port"], rtc["port_range_start"], rtc["port_range_end"])
    return LocalServerConfig(api_key=key, api_secret=secret, ports=ports)


def server_binary(env: dict[str, str] | None = None) -> Path:
    """The livekit-server binary to run, or ServerError saying how to build it."""
    env = os.environ if env is None else env
    path = Path(env.get(BINARY_ENV) or DEFAULT_BINARY)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise ServerError(MISSING_BINARY.format(path=path))
    return path


async def stop_process(process: asyncio.subprocess.Process, timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited after `timeout` seconds."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()


class LocalServer:
    """One livekit-server process; `async with` starts it and waits until it answers."""

    def __init__(
        self, config: LocalServerConfig, workdir: Path, *, binary: Path | None = None
    ) -> None:
        self.config = config
        self.workdir = workdir
        self.binary = binary or server_binary()
        self.log_path = workdir / "livekit-server.log"
        self._process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The server's process ID while it runs (for tools that measure it)."""
        return self._process.pid if self._process is not None else None

    async def start(self, *, timeout: float = 30.0) -> None:
        """Start the server and return once its HTTP port answers "/" with 200."""
        config_path = self.workdir / "livekit.yaml"
        config_path.write_text(yaml.safe_dump(self.config.render()))
        self._log = self.log_path.open("wb")
        self._process = await asyncio.create_subprocess_exec(
            str(self.binary),
            "--config",
            str(config_path),
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C in the terminal reaches us, and we stop it
        )
        try:
            await asyncio.wait_for(self._until_ready(), timeout)
        except TimeoutError:
            await self.stop()
            raise ServerError(
                f"the LiveKit server did not answer on {self.config.http_url} within"
                f" {timeout:.0f} s; its log: {self.log_path}"
            ) from None

    async def _until_ready(self) -> None:
        assert self._process is not None
        async with aiohttp.ClientSession() as http:
            while True:
                if self._process.returncode is not None:
                    raise ServerError(
                        f"the LiveKit server exited with {self._process.returncode} on start;"
                        f" its log:\n{self.log()}"
                    )
                try:
                    async with http.get(self.config.http_url + "/") as answer:
                        if answer.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)  # polling a port: nothing to await but the next try

    async def stop(self, *, timeout: float = 10.0, grace: float = 1.0) -> None:
        """SIGTERM; a second SIGTERM after `grace` seconds, then SIGKILL after `timeout`;
        idempotent. The server waits for every participant to leave after the first signal,
        polling every 5 s, and a vanished one stays listed until its connection times out;
        the second signal is the server's own way to stop without waiting."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), grace)
            except TimeoutError:
                await stop_process(process, timeout)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log(self, *, last_lines: int = 200, width: int = 600) -> str:
        """The tail of the server's log, for a failing test or a failed start (each line cut to
        `width` characters: the server logs whole SDP offers)."""
        if not self.log_path.exists():
            return ""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(line[:width] for line in lines[-last_lines:])

    async def __aenter__(self) -> LocalServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
