"""Section: a region-loss drill through the real LiveKit server on loopback.

Three regions (eu-west, us-east, ap-southeast), each with its agent worker (stand-in remote
models) and its real dispatch service; the server posts its signed webhooks to eu-west's
dispatch, as LiveKit Cloud posts to the global entry. Callers each join their own room with a
token from eu-west's dispatch and get eu-west's agent. Then eu-west's worker and its job
processes are SIGKILLed mid-call, without a word to anyone, and the drill measures, from that
instant: when each call's new agent joins its room and when the caller hears it speak (its
"I'm back" line), the calls that never get one (lost), and when eu-west's dispatch stops
sending new callers to eu-west.

Dispatch probes as the repository's regions.yaml says (`dispatch.probes`), so the drill measures
the failover a deployment with that manifest gets.

Then a planned rolling restart of ap-southeast, as a new revision rolls in: callers talking to
its worker, a replacement worker registers, the old one gets SIGTERM. Each caller asks a question
after the SIGTERM (a call is dropped if it gets no answer), new callers arrive during the drain
(the replacement should take them), and the old worker should exit once its calls hang up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from livekit import api

from benchmarks.clips import DATA_DIR, clips_of
from benchmarks.live_call import Caller, Dispatch, Regions, free_ports, kill_group
from benchmarks.report import table
from infra.manifest import load_manifest
from meridian.contract import REGION_ATTRIBUTE, Env
from meridian.local.server import LocalServer, LocalServerConfig, local_config
from meridian.smoke.media import Clip, load_clip
from meridian.stats import percentile
from meridian.tables import fmt_seconds_as_ms as ms

REGIONS = {"eu-west": "westeurope", "us-east": "eastus", "ap-southeast": "southeastasia"}
LOST = "eu-west"
RESTARTED = "ap-southeast"
RESULTS = Path(__file__).with_name("results") / "region_drill.json"
# a call whose new agent has not spoken by then is lost
GIVE_UP = 90.0
TIMEOUT = 60.0
# the drill asks the lost region's dispatch for a token four times a second, from one address
_UNLIMITED = {Env.dispatch("rate_per_minute"): "100000", Env.dispatch("rate_burst"): "1000"}


@dataclass(frozen=True)
class Probing:
    """How often each dispatch probes the workers, and after how many failures one is down."""

    interval_seconds: float
    timeout_seconds: float
    down_after_failures: int

    def env(self) -> dict[str, str]:
        """The dispatch setting that applies it."""
        return {Env.dispatch("probes"): json.dumps(dataclasses.asdict(self))}

    def describe(self) -> str:
        """The policy in words, for the table's title."""
        return (
            f"dispatch probes every {self.interval_seconds:g} s, down after "
            f"{self.down_after_failures} failures"
        )


def shipped_probing() -> Probing:
    """The probe policy of the repository's regions.yaml."""
    probes = load_manifest().dispatch.policy.probes
    return Probing(probes.interval_seconds, probes.timeout_seconds, probes.down_after_failures)


@dataclass(frozen=True)
class CallOutcome:
    """One call after its region's worker died: seconds from the kill, or None if never."""

    joined: float | None
    heard: float | None
    region: str | None

    @property
    def lost(self) -> bool:
        return self.heard is None


@dataclass(frozen=True)
class RestartOutcome:
    """A planned rolling restart: SIGTERM to a region's worker once its replacement registered."""

    # heard latency (s) of the question each call in progress asked after the SIGTERM; None
    # for a call that got no answer (dropped)
    answered: tuple[float | None, ...]
    new_calls: int
    # new callers during the drain whose job went to the replacement worker
    new_calls_on_replacement: int
    exit_code: int | None
    # seconds from the last call's hang-up to the old worker's exit; None if it did not exit
    exit_after_hang_up: float | None

    @property
    def dropped(self) -> int:
        return sum(a is None for a in self.answered)


@dataclass(frozen=True)
class Drill:
    """The drill's outcome: every call's, when new callers stopped going to the lost region
    (seconds from the kill; None if they never did within GIVE_UP), and the rolling restart."""

    probing: Probing
    calls: tuple[CallOutcome, ...]
    rerouted: float | None
    restart: RestartOutcome | None = None


def region_of(token: str, server: LocalServerConfig) -> str | None:
    """The region whose agent a dispatch token brings (its RoomConfiguration)."""
    claims = api.TokenVerifier(server.api_key, server.api_secret).verify(token)
    agents = claims.room_config.agents if claims.room_config else []
    return agents[0].agent_name.removeprefix("support-agent-") if agents else None


async def _rerouted(dispatch: Dispatch, server: LocalServerConfig, killed_at: float) -> float:
    """Seconds from the kill until the dispatch's tokens bring another region's agent."""
    while True:
        _, token = await dispatch.token()
        if region_of(token, server) != LOST:
            return time.monotonic() - killed_at
        await asyncio.sleep(0.25)  # dispatch's board changes on its probe rounds only


async def _after_kill(caller: Caller, first: str, killed_at: float) -> CallOutcome:
    try:
        agent = await asyncio.wait_for(caller.next_agent(first), GIVE_UP)
    except TimeoutError:
        return CallOutcome(None, None, None)
    joined = time.monotonic() - killed_at
    try:
        await asyncio.wait_for(caller.spoke.wait(), GIVE_UP)
    except TimeoutError:
        return CallOutcome(joined, None, agent.attributes.get(REGION_ATTRIBUTE))
    heard = caller.speaking_at[-1] - killed_at
    return CallOutcome(joined, heard, agent.attributes.get(REGION_ATTRIBUTE))


async def _answer(caller: Caller, question: Clip) -> float | None:
    try:
        reply = await asyncio.wait_for(caller.ask(question), TIMEOUT)
    except TimeoutError:
        return None
    return reply.latency_ms / 1000


async def _join(caller: Caller, dispatch: Dispatch) -> None:
    await caller.join(*await dispatch.token())
    await asyncio.wait_for(caller.wait_for_agent(), TIMEOUT)


async def rolling_restart(regions: Regions, calls: int) -> RestartOutcome:
    """Restart RESTARTED's worker under `calls` live calls, as a new revision rolls in."""
    old, dispatch = regions.workers[RESTARTED], regions.dispatches[RESTARTED]
    question = load_clip(DATA_DIR / f"{clips_of('complete', split='report')[0].name}.wav")
    talking = [Caller() for _ in range(calls)]
    newcomers = [Caller() for _ in range(calls)]
    new = regions.replacement(RESTARTED)
    try:
        for caller in talking:
            await _join(caller, dispatch)
            await asyncio.wait_for(caller.until_agent_listens(), TIMEOUT)
        await new.start()
        old.terminate()
        assert old.output is not None
        await asyncio.wait_for(old.output.wait_for('"draining worker"'), TIMEOUT)
        answered = await asyncio.gather(*(_answer(c, question) for c in talking))
        for caller in newcomers:
            await _join(caller, dispatch)
        on_new = sum(c.room_name in new.accepted_rooms() for c in newcomers)
        # Newcomers hang up first: the drill's dispatch probes the old worker's own port (in
        # Azure it probes the app's ingress, which moves to the new revision), so once the old
        # worker exits it finds the region down and sweeps it; no call of the region is left.
        for caller in [*newcomers, *talking]:
            await caller.close()
        hung_up = time.monotonic()
        try:
            code: int | None = await old.wait(TIMEOUT)
            exit_after: float | None = time.monotonic() - hung_up
        except TimeoutError:
            code = exit_after = None
        return RestartOutcome(tuple(answered), len(newcomers), on_new, code, exit_after)
    finally:
        for caller in [*talking, *newcomers]:
            await caller.close()
        await new.stop()


async def drill(calls: int, probing: Probing) -> Drill:
    """Run the drill with `calls` live calls in the region that is lost, dispatch probing as
    `probing` says; then the rolling restart."""
    with tempfile.TemporaryDirectory(prefix="meridian-drill-") as workdir:
        regions = Regions(
            REGIONS,
            local_config().with_ports(free_ports()),
            webhooks_to=LOST,
            **_UNLIMITED,
            **probing.env(),
        )
        config = regions.config
        callers = [Caller() for _ in range(calls)]
        async with LocalServer(config, Path(workdir)) as _server:
            try:
                await regions.start()
                lost_dispatch = regions.dispatches[LOST]
                firsts = []
                for caller in callers:
                    url, token = await lost_dispatch.token()
                    await caller.join(url, token)
                    firsts.append(await asyncio.wait_for(caller.wait_for_agent(), TIMEOUT))
                for caller in callers:
                    await asyncio.wait_for(caller.until_agent_listens(), TIMEOUT)
                    caller.spoke.clear()
                process = regions.workers[LOST].process
                assert process is not None
                killed_at = time.monotonic()
                kill_group(process)
                outcomes, rerouted = await asyncio.gather(
                    asyncio.gather(
                        *(
                            _after_kill(c, f.identity, killed_at)
                            for c, f in zip(callers, firsts, strict=True)
                        )
                    ),
                    asyncio.wait_for(_rerouted(lost_dispatch, config, killed_at), GIVE_UP),
                    return_exceptions=True,
                )
                if isinstance(outcomes, BaseException):
                    raise outcomes
                for caller in callers:
                    await caller.close()
                return Drill(
                    probing,
                    tuple(outcomes),
                    None if isinstance(rerouted, BaseException) else rerouted,
                    await rolling_restart(regions, calls),
                )
            finally:
                for caller in callers:
                    await caller.close()
                await regions.stop()


def render(result: Drill) -> str:
    """The drill's table."""
    heard = [c.heard for c in result.calls if c.heard is not None]
    joined = [c.joined for c in result.calls if c.joined is not None]
    regions = sorted({c.region for c in result.calls if c.region})
    rows = [
        ["live calls in the lost region", len(result.calls)],
        [
            "calls lost (no agent heard again within 90 s; goal 0)",
            sum(c.lost for c in result.calls),
        ],
        [
            "new agent joined the same room: p50 / max (ms)",
            f"{ms(percentile(joined, 50))} / {ms(max(joined, default=None))}",
        ],
        [
            "caller hears the new agent: p50 / max (ms; goal p50 <= 5,000)",
            f"{ms(percentile(heard, 50))} / {ms(max(heard, default=None))}",
        ],
        ["region that took over", ", ".join(regions) or "-"],
        ["new callers routed elsewhere after (ms)", ms(result.rerouted)],
    ]
    loss = table(
        f"Region-loss drill: {LOST}'s worker SIGKILLed mid-call (3 regions, real LiveKit server "
        f"on loopback, stand-in remote models; {result.probing.describe()})",
        ["measure", "value"],
        rows,
    )
    return loss if result.restart is None else loss + render_restart(result.restart)


def render_restart(restart: RestartOutcome) -> str:
    """The rolling restart's table."""
    heard = [a for a in restart.answered if a is not None]
    exited = "-" if restart.exit_code is None else f"{ms(restart.exit_after_hang_up)}"
    rows = [
        ["calls in progress at the SIGTERM", len(restart.answered)],
        ["calls dropped (a question after the SIGTERM got no answer; goal 0)", restart.dropped],
        [
            "answer to that question, heard: p50 / max (ms)",
            f"{ms(percentile(heard, 50))} / {ms(max(heard, default=None))}",
        ],
        [
            "new callers during the drain taken by the new worker",
            f"{restart.new_calls_on_replacement}/{restart.new_calls}",
        ],
        ["old worker's exit code", "-" if restart.exit_code is None else restart.exit_code],
        ["old worker exited after its last call hung up (ms)", exited],
    ]
    return table(
        f"Rolling restart: {RESTARTED}'s worker SIGTERMed once its replacement registered",
        ["measure", "value"],
        rows,
    )


def write_results(result: Drill, path: Path = RESULTS) -> None:
    """The probe policy, every call's outcome, the reroute time and the restart, as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dataclasses.asdict(result), indent=1) + "\n")


def main(quick: bool) -> str:
    """Two calls when quick, four otherwise, probing as regions.yaml says; the outcome also goes
    to RESULTS."""
    result = asyncio.run(drill(2 if quick else 4, shipped_probing()))
    write_results(result)
    return render(result)
