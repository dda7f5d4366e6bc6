"""The smoke test's failure paths, clean-up, exit codes and output.

tests/livekit_server/test_smoke_test.py runs it end to end against the real LiveKit server. This
file keeps a Twirp fake of LiveKit's server API (driven by the real livekit-api client) for the
faults that server cannot produce on demand: a 500 while the dispatch is created, a hung API, a
failed room deletion, a cancellation at a chosen moment. The room participant is scripted, for
agents that misbehave (another region, an old revision, silence, a slow reply). The dispatch
service is the real dispatch app on loopback.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import textwrap
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr

from meridian.dispatch.app import create_app
from meridian.dispatch.health import HealthBoard, ProbeResult
from meridian.dispatch.settings import DispatchSettings, RegionEntry
from meridian.policy import DispatchPolicy
from meridian.smoke import cli as smoke_test
from meridian.smoke.config import configure
from meridian.smoke.media import AgentPresence, ReplyTiming, load_clip
from meridian.smoke.run import Credentials, SmokeRun, Target
from tests.manifests import THREE_REGIONS
from tests.smoke.fake_livekit import Failure, FakeLiveKit, LoopbackServer
from tests.smoke.fake_participant import NEVER, FakeParticipant, Script

REGIONS = {"us-east": "eastus", "eu-west": "westeurope", "ap-southeast": "southeastasia"}
STEP_NAMES = ["dispatch", "livekit_api", "room", "join", "agent", "turn", "cleanup"]
# The steps after dispatch, for tests about them: the dispatch step is skipped on purpose.
AGENT_ONLY = ("--region", "eu-west", "--skip-dispatch")


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    regions = "".join(f"  {key}:\n    location: {loc}\n" for key, loc in REGIONS.items())
    path = tmp_path / "regions.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            agent:
              name: support-agent
              image: ghcr.io/meridian-voice/agent:0.1.0
            livekit_url: wss://meridian.livekit.cloud
            global: {location: westeurope}
            defaults:
              resources: {cpu: 2.0, memory: 4Gi}
              replicas: {min: 1, max: 10}
              scale: {cpu_percent: 50}
              worker: {load_threshold: 0.7, idle_processes: 2}
              drain_seconds: 570
              probes:
                startup: {initial_delay_seconds: 3, period_seconds: 5, timeout_seconds: 3, failure_threshold: 10}
                liveness: {initial_delay_seconds: 10, period_seconds: 15, timeout_seconds: 5, failure_threshold: 3}
              latency_budget_ms: 1500
              models:
                stt: {provider: livekit, model: deepgram/nova-3}
                llm: {provider: livekit, model: openai/gpt-4.1-mini}
                tts: {provider: livekit, model: cartesia/sonic-3}
            regions:
            """
        )
        + regions
    )
    return path


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    loopback = LoopbackServer()
    yield loopback
    loopback.close()


@pytest.fixture
def livekit(server: LoopbackServer) -> FakeLiveKit:
    fake = FakeLiveKit(release=server.release)
    fake.url = server.serve(fake.app())  # type: ignore[attr-defined]
    return fake


@pytest.fixture
def board() -> HealthBoard:
    """Every region up, as after a first probe round that found them so."""
    board = HealthBoard(list(REGIONS), down_after=1, up_after=1)
    for region in REGIONS:
        board.record(region, ProbeResult(True, "worker reachable"), 0.0)
    return board


def serve_dispatch(
    server: LoopbackServer, livekit: FakeLiveKit, board: HealthBoard, **settings: Any
) -> str:
    """The real dispatch service for eu-west, without background probes."""
    config = DispatchSettings(
        region="eu-west",
        agent_name="support-agent",
        regions=tuple(
            RegionEntry(region=key, location=loc, livekit_url="wss://meridian.livekit.cloud")
            for key, loc in REGIONS.items()
        ),
        api_key=SecretStr(livekit.api_key),
        api_secret=SecretStr(livekit.api_secret),
        **settings,
    )
    return server.serve(create_app(config, board=board, probe=False))


@pytest.fixture
def dispatch_url(server: LoopbackServer, livekit: FakeLiveKit, board: HealthBoard) -> str:
    return serve_dispatch(server, livekit, board)


def stub_dispatch(server: LoopbackServer, health: dict[str, Any], token: dict[str, Any]) -> str:
    """A dispatch service that answers fixed bodies, for misrouting the real one cannot show."""
    app = web.Application()

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response(health)

    async def issue(_: web.Request) -> web.Response:
        return web.json_response(token, status=201)

    app.router.add_get("/healthz", healthz)
    app.router.add_post("/", issue)
    return server.serve(app)


def env_for(livekit: FakeLiveKit, **overrides: str) -> dict[str, str]:
    env = {
        "LIVEKIT_URL": livekit.url,  # type: ignore[attr-defined]
        "LIVEKIT_API_KEY": livekit.api_key,
        "LIVEKIT_API_SECRET": livekit.api_secret,
    }
    env.update(overrides)
    return env


class Cli:
    """Runs the real CLI with a fake participant per region and parses its JSON output."""

    def __init__(self, manifest: Path, livekit: FakeLiveKit) -> None:
        self.manifest = manifest
        self.livekit = livekit
        self.participants: list[FakeParticipant] = []
        self.stderr = ""

    def run(
        self,
        *args: str,
        script: Script | None = None,
        env: dict[str, str] | None = None,
        on_factory: Callable[[FakeParticipant], None] | None = None,
        capsys: pytest.CaptureFixture[str] | None = None,
    ) -> tuple[int, str]:
        def factory() -> FakeParticipant:
            participant = FakeParticipant(script or Script())
            if on_factory is not None:
                on_factory(participant)
            self.participants.append(participant)
            return participant

        out = io.StringIO()
        code = smoke_test.main(
            ["--manifest", str(self.manifest), *args],
            env=env if env is not None else env_for(self.livekit),
            media_factory=factory,
            stdout=out,
        )
        return code, out.getvalue()

    def run_json(self, *args: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        code, out = self.run(*args, "--json", **kwargs)
        return code, json.loads(out)


@pytest.fixture
def cli(manifest: Path, livekit: FakeLiveKit) -> Cli:
    return Cli(manifest, livekit)


def only_region(report: dict[str, Any]) -> dict[str, Any]:
    assert len(report["regions"]) == 1
    return report["regions"][0]


def statuses(region: dict[str, Any]) -> dict[str, str]:
    return {step["name"]: step["status"] for step in region["steps"]}


def assert_cleaned_up(livekit: FakeLiveKit, region: dict[str, Any]) -> None:
    assert livekit.rooms == {}
    assert livekit.dispatches == {}
    assert statuses(region)["cleanup"] == "passed"


# --- a passing run ------------------------------------------------------------------------


def test_the_test_participant_may_join_only_the_created_room(
    cli: Cli, livekit: FakeLiveKit
) -> None:
    _, report = cli.run_json(*AGENT_ONLY)

    claims = cli.participants[0].token_claims
    assert claims is not None and claims.video is not None
    assert claims.video.room == only_region(report)["room_name"]
    assert claims.video.room_join is True
    assert not claims.video.room_admin
    assert cli.participants[0].joined_url == livekit.url  # type: ignore[attr-defined]


def test_the_committed_question_clip_is_what_the_agent_hears(cli: Cli) -> None:
    cli.run_json(*AGENT_ONLY)

    asked = cli.participants[0].asked
    assert asked is not None
    assert asked.path.name == "question.wav"


def test_with_skip_dispatch_the_dispatch_step_is_skipped_and_the_run_still_passes(
    cli: Cli,
) -> None:
    code, report = cli.run_json(*AGENT_ONLY)

    region = only_region(report)
    assert code == 0
    assert statuses(region)["dispatch"] == "skipped"
    assert "--skip-dispatch" in region["steps"][0]["detail"]


def test_without_a_dispatch_url_for_every_region_all_is_refused_naming_them(
    cli: Cli, livekit: FakeLiveKit, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = cli.run_json("--all")

    err = capsys.readouterr().err
    assert code == 2
    assert report["ok"] is False and report["regions"] == []
    assert report["error"].startswith("no dispatch URL for us-east, eu-west, ap-southeast")
    assert "--skip-dispatch" in report["error"]
    assert report["error"] in err
    assert livekit.calls == []


def test_all_with_the_global_stacks_outputs_checks_each_regions_dispatch_at_its_route(
    cli: Cli, livekit: FakeLiveKit, tmp_path: Path
) -> None:
    outputs = tmp_path / "global.json"
    outputs.write_text(json.dumps({"globalUrl": "http://127.0.0.1:9", "registryLoginServer": "r"}))

    code, report = cli.run_json("--all", "--stack-outputs", str(outputs))

    assert code == 1
    for region in report["regions"]:
        assert region["dispatch_url"] == f"http://127.0.0.1:9/regions/{region['region']}"
        assert region["failed_step"] == "dispatch"
        assert statuses(region)["dispatch"] == "failed"


def test_a_global_url_reaches_every_region_at_its_route() -> None:
    targets, _, _ = configure(
        THREE_REGIONS,
        None,
        {"LIVEKIT_API_KEY": "k", "LIVEKIT_API_SECRET": "s" * 32},
        global_url="https://support-agent-x1.z01.azurefd.net/",
    )
    assert {t.region: t.dispatch_url for t in targets} == {
        key: f"https://support-agent-x1.z01.azurefd.net/regions/{key}"
        for key in ("us-east", "eu-west", "ap-southeast")
    }


def test_the_dispatch_url_can_come_from_pulumi_stack_outputs(
    cli: Cli, dispatch_url: str, tmp_path: Path
) -> None:
    outputs = tmp_path / "eu-west.json"
    outputs.write_text(json.dumps({"region": "eu-west", "dispatchUrl": dispatch_url}))

    code, report = cli.run_json("--region", "eu-west", "--stack-outputs", str(outputs))

    region = only_region(report)
    assert code == 0
    assert region["dispatch_url"] == dispatch_url
    assert statuses(region)["dispatch"] == "passed"


def test_behind_front_door_the_region_is_reached_through_its_route_on_the_global_url(
    tmp_path: Path,
) -> None:
    # Direct calls to a region's dispatch are refused behind Front Door; /regions/<key> on the
    # global URL reaches exactly that region.
    outputs = tmp_path / "eu-west.json"
    outputs.write_text(
        json.dumps(
            {
                "region": "eu-west",
                "dispatchUrl": "https://dispatch-eu-west.example.azurecontainerapps.io",
                "globalUrl": "https://support-agent-x1.z01.azurefd.net",
            }
        )
    )
    targets, _, _ = configure(
        THREE_REGIONS,
        "eu-west",
        {"LIVEKIT_API_KEY": "k", "LIVEKIT_API_SECRET": "s" * 32},
        stack_outputs=[outputs],
    )
    assert targets[0].dispatch_url == "https://support-agent-x1.z01.azurefd.net/regions/eu-west"


def test_the_people_table_names_every_step_and_the_verdict(cli: Cli, dispatch_url: str) -> None:
    code, out = cli.run("--region", "eu-west", "--dispatch-url", dispatch_url)

    assert code == 0
    for title in ("Dispatch service", "LiveKit API", "Room and dispatch", "Join"):
        assert title in out
    assert "PASS eu-west: first reply 640 ms after the question (budget 1500 ms)" in out


# --- JSON for CI --------------------------------------------------------------------------


def test_the_json_output_has_every_field_a_ci_job_reads(cli: Cli) -> None:
    _, report = cli.run_json(*AGENT_ONLY)

    assert set(report) == {"ok", "exit_code", "regions"}
    region = only_region(report)
    assert set(region) == {
        "region",
        "ok",
        "location",
        "agent_name",
        "livekit_url",
        "dispatch_url",
        "revision",
        "room_name",
        "latency_budget_ms",
        "question_ms",
        "reply_latency_ms",
        "within_budget",
        "failed_step",
        "reason",
        "hint",
        "interrupted",
        "cleanup",
        "steps",
    }
    assert [s["name"] for s in region["steps"]] == STEP_NAMES
    for step in region["steps"]:
        assert set(step) == {"name", "title", "status", "duration_ms", "detail", "hint"}
    assert (region["agent_name"], region["latency_budget_ms"]) == ("support-agent-eu-west", 1500)


def test_the_json_output_never_contains_the_api_secret_or_tokens(
    cli: Cli, livekit: FakeLiveKit
) -> None:
    _, out = cli.run(*AGENT_ONLY, "--json")

    assert livekit.api_secret not in out
    assert "eyJ" not in out  # no JWT


# --- failure paths: each names the step, the reason and a hint, and cleans up -------------


def test_an_unreachable_dispatch_service_fails_the_first_step_and_creates_nothing(
    cli: Cli, livekit: FakeLiveKit
) -> None:
    code, report = cli.run_json("--region", "eu-west", "--dispatch-url", "http://127.0.0.1:9")

    region = only_region(report)
    assert code == 1
    assert region["failed_step"] == "dispatch"
    assert "cannot reach http://127.0.0.1:9/healthz" in region["reason"]
    assert region["hint"]
    assert livekit.created_rooms == []
    assert statuses(region)["livekit_api"] == "not_run"


def test_a_dispatch_service_with_its_worker_down_fails_with_the_workers_reason(
    cli: Cli, board: HealthBoard, dispatch_url: str
) -> None:
    board.record("eu-west", ProbeResult(False, "worker /worker answered HTTP 503"), 0.0)

    code, report = cli.run_json("--region", "eu-west", "--dispatch-url", dispatch_url)

    region = only_region(report)
    assert code == 1
    assert region["failed_step"] == "dispatch"
    assert "worker /worker answered HTTP 503" in region["reason"]
    assert "az containerapp logs show -g rg-support-agent-eu-west" in region["hint"]


def test_the_routing_check_works_when_clients_may_set_no_token_fields(
    cli: Cli, server: LoopbackServer, livekit: FakeLiveKit, board: HealthBoard
) -> None:
    url = serve_dispatch(server, livekit, board, policy=DispatchPolicy(client_fields=()))

    code, report = cli.run_json("--region", "eu-west", "--dispatch-url", url)

    assert code == 0
    assert statuses(only_region(report))["dispatch"] == "passed"


def test_the_dispatch_shared_secret_is_sent_from_the_environment(
    cli: Cli, server: LoopbackServer, livekit: FakeLiveKit, board: HealthBoard
) -> None:
    secret = "a-shared-secret-of-16+"
    url = serve_dispatch(server, livekit, board, shared_secret=SecretStr(secret))

    code, _ = cli.run_json(
        "--region",
        "eu-west",
        "--dispatch-url",
        url,
        env=env_for(livekit, MERIDIAN_DISPATCH_SHARED_SECRET=secret),
    )

    assert code == 0


def test_a_missing_dispatch_shared_secret_fails_with_a_hint_to_set_it(
    cli: Cli, server: LoopbackServer, livekit: FakeLiveKit, board: HealthBoard
) -> None:
    url = serve_dispatch(server, livekit, board, shared_secret=SecretStr("a-shared-secret-of-16+"))

    code, report = cli.run_json("--region", "eu-west", "--dispatch-url", url)

    region = only_region(report)
    assert code == 1
    assert "answered HTTP 401" in region["reason"]
    assert "MERIDIAN_DISPATCH_SHARED_SECRET" in region["hint"]


def test_a_user_routed_to_another_region_fails_the_dispatch_step(
    cli: Cli, server: LoopbackServer
) -> None:
    url = stub_dispatch(
        server,
        {"status": "ok", "region": "eu-west", "worker": {"state": "up"}},
        {"region": "us-east", "reason": "client coordinates: lowest expected RTT 80 ms"},
    )

    code, report = cli.run_json("--region", "eu-west", "--dispatch-url", url)

    region = only_region(report)
    assert code == 1
    assert region["failed_step"] == "dispatch"
    assert "routed to 'us-east', not 'eu-west'" in region["reason"]


def test_a_dispatch_url_of_another_region_is_named_as_such(
    cli: Cli, server: LoopbackServer
) -> None:
    url = stub_dispatch(server, {"status": "ok", "region": "us-east"}, {})

    _, report = cli.run_json("--region", "eu-west", "--dispatch-url", url)

    region = only_region(report)
    assert "serves region 'us-east', not 'eu-west'" in region["reason"]
    assert "dispatchUrl output of the eu-west stack" in region["hint"]


def test_rejected_credentials_fail_the_api_step_with_a_credentials_hint(
    cli: Cli, livekit: FakeLiveKit
) -> None:
    env = env_for(livekit, LIVEKIT_API_SECRET="not-the-secret-of-this-project-at-all")

    code, report = cli.run_json(*AGENT_ONLY, env=env)

    region = only_region(report)
    assert code == 1
    assert region["failed_step"] == "livekit_api"
    assert "rejected the credentials" in region["reason"]
    assert "LIVEKIT_API_KEY and LIVEKIT_API_SECRET" in region["hint"]
    assert livekit.created_rooms == []


def test_an_unreachable_livekit_api_fails_the_api_step(cli: Cli, livekit: FakeLiveKit) -> None:
    code, report = cli.run_json(*AGENT_ONLY, env=env_for(livekit, LIVEKIT_URL="http://127.0.0.1:9"))

    region = only_region(report)
    assert code == 1
    assert region["failed_step"] == "livekit_api"
    assert "cannot reach the LiveKit API" in region["reason"]


def test_a_failed_dispatch_creation_still_deletes_the_room(cli: Cli, livekit: FakeLiveKit) -> None:
    livekit.fail("AgentDispatchService/CreateDispatch", Failure(500, "internal", "boom"))

    code, report = cli.run_json(*AGENT_ONLY)

    region = only_region(report)
    assert code == 1
    assert region["failed_step"] == "room"
    assert "while creating the dispatch" in region["reason"]
    assert livekit.created_rooms == [region["room_name"]]
    assert_cleaned_up(livekit, region)


def test_a_failed_join_deletes_the_dispatch_and_the_room(cli: Cli, livekit: FakeLiveKit) -> None:
    script = Script(join_error=ConnectionError("ICE failed"))

    code, report = cli.run_json(*AGENT_ONLY, script=script)

    region = only_region(report)
    assert code == 1
    assert region["failed_step"] == "join"
    assert "could not join the room: ICE failed" in region["reason"]
    assert "UDP" in region["hint"]
    assert_cleaned_up(livekit, region)


def test_no_agent_within_the_limit_names_the_agent_to_look_for_and_cleans_up(
    cli: Cli, livekit: FakeLiveKit
) -> None:
    script = Script(agent=NEVER)

    code, report = cli.run_json(*AGENT_ONLY, "--agent-timeout", "0.2", script=script)

    region = only_region(report)
    assert code == 1
    assert region["failed_step"] == "agent"
    assert region["reason"] == "no agent joined within 0.2 s"
    assert region["hint"].startswith("are workers registered as support-agent-eu-west?")
    assert "check the container app's logs" in region["hint"]
    assert_cleaned_up(livekit, region)


def test_an_agent_from_another_region_fails_the_agent_step(cli: Cli, livekit: FakeLiveKit) -> None:
    script = Script(agent=AgentPresence("agent-AJ_9", {"meridian.region": "us-east"}))

    code, report = cli.run_json(*AGENT_ONLY, script=script)

    region = only_region(report)
    assert code == 1
    assert region["failed_step"] == "agent"
    assert "says it is in region 'us-east', not 'eu-west'" in region["reason"]
    assert_cleaned_up(livekit, region)


def _outputs_of_the_new_revision(tmp_path: Path, dispatch_url: str) -> str:
    outputs = tmp_path / "eu-west.json"
    outputs.write_text(
        json.dumps(
            {
                "region": "eu-west",
                "dispatchUrl": dispatch_url,
                "latestRevision": "support-agent-eu-west--0000002",
            }
        )
    )
    return str(outputs)


def test_an_agent_of_the_old_revision_fails_the_agent_step(
    cli: Cli, livekit: FakeLiveKit, dispatch_url: str, tmp_path: Path
) -> None:
    # the old revision's workers register under the same name: only the attribute tells them apart
    old = {"meridian.region": "eu-west", "meridian.revision": "support-agent-eu-west--0000001"}
    script = Script(agent=AgentPresence("agent-AJ_9", old))
    outputs = _outputs_of_the_new_revision(tmp_path, dispatch_url)

    code, report = cli.run_json("--region", "eu-west", "--stack-outputs", outputs, script=script)

    region = only_region(report)
    assert code == 1
    assert region["revision"] == "support-agent-eu-west--0000002"
    assert region["failed_step"] == "agent"
    assert region["reason"] == (
        "agent agent-AJ_9 runs revision 'support-agent-eu-west--0000001', not the deployed"
        " 'support-agent-eu-west--0000002'"
    )
    assert "az containerapp revision list -g rg-support-agent-eu-west" in region["hint"]
    assert_cleaned_up(livekit, region)


def test_an_agent_without_a_revision_fails_when_a_revision_is_expected(
    cli: Cli, dispatch_url: str, tmp_path: Path
) -> None:
    script = Script(agent=AgentPresence("agent-AJ_9", {"meridian.region": "eu-west"}))
    outputs = _outputs_of_the_new_revision(tmp_path, dispatch_url)

    code, report = cli.run_json("--region", "eu-west", "--stack-outputs", outputs, script=script)

    region = only_region(report)
    assert code == 1
    assert region["failed_step"] == "agent"
    assert "without the meridian.revision attribute" in region["reason"]


def test_an_agent_of_the_deployed_revision_passes_and_is_named(
    cli: Cli, dispatch_url: str, tmp_path: Path
) -> None:
    new = {"meridian.region": "eu-west", "meridian.revision": "support-agent-eu-west--0000002"}
    script = Script(agent=AgentPresence("agent-AJ_9", new))
    outputs = _outputs_of_the_new_revision(tmp_path, dispatch_url)

    code, report = cli.run_json("--region", "eu-west", "--stack-outputs", outputs, script=script)

    region = only_region(report)
    assert code == 0
    agent_step = next(s for s in region["steps"] if s["name"] == "agent")
    assert "meridian.revision=support-agent-eu-west--0000002" in agent_step["detail"]


def test_an_agent_without_the_region_attribute_fails_the_agent_step(cli: Cli) -> None:
    script = Script(agent=AgentPresence("agent-AJ_9", {}))

    _, report = cli.run_json(*AGENT_ONLY, script=script)

    region = only_region(report)
    assert region["failed_step"] == "agent"
    assert "without the meridian.region attribute" in region["reason"]


def test_a_silent_agent_fails_the_turn_and_cleans_up(cli: Cli, livekit: FakeLiveKit) -> None:
    script = Script(reply=NEVER)

    code, report = cli.run_json(*AGENT_ONLY, "--reply-timeout", "0.1", script=script)

    region = only_region(report)
    assert code == 1
    assert region["failed_step"] == "turn"
    assert "did not speak within 0.1 s after the question" in region["reason"]
    assert "STT, LLM or TTS" in region["hint"]
    assert region["reply_latency_ms"] is None
    assert_cleaned_up(livekit, region)


def test_a_reply_over_the_latency_budget_fails_with_the_measured_latency(
    cli: Cli, livekit: FakeLiveKit
) -> None:
    script = Script(reply=ReplyTiming(question_ms=2600.0, latency_ms=2100.0))

    code, report = cli.run_json(*AGENT_ONLY, script=script)

    region = only_region(report)
    assert code == 1
    assert region["failed_step"] == "turn"
    assert region["reason"] == (
        "the first reply came 2100 ms after the question, over the 1500 ms budget"
    )
    assert (region["reply_latency_ms"], region["within_budget"]) == (2100.0, False)
    assert_cleaned_up(livekit, region)


def test_the_overall_timeout_stops_the_run_and_still_cleans_up(
    cli: Cli, livekit: FakeLiveKit
) -> None:
    script = Script(agent=NEVER)

    code, report = cli.run_json(*AGENT_ONLY, "--timeout", "0.5", script=script)

    region = only_region(report)
    assert code == 1
    assert region["failed_step"] == "agent"
    assert "timed out after 0.5 s (--timeout)" in region["reason"]
    assert_cleaned_up(livekit, region)


def test_a_hung_livekit_api_is_bounded_by_the_timeout(cli: Cli, livekit: FakeLiveKit) -> None:
    livekit.fail("RoomService/ListRooms", Failure(hang=True))

    code, report = cli.run_json(*AGENT_ONLY, "--timeout", "0.3")

    region = only_region(report)
    assert code == 1
    assert region["failed_step"] == "livekit_api"
    assert statuses(region)["cleanup"] == "passed"


def test_a_failed_room_deletion_fails_the_run_with_a_manual_clean_up_hint(
    cli: Cli, livekit: FakeLiveKit
) -> None:
    livekit.fail("RoomService/DeleteRoom", Failure(500, "internal", "storage down"))

    code, report = cli.run_json(*AGENT_ONLY)

    region = only_region(report)
    assert code == 1
    assert region["failed_step"] == "cleanup"
    assert "deleting the room failed" in region["reason"]
    assert f"lk room delete {region['room_name']}" in region["hint"]
    assert region["cleanup"] == {"dispatch_deleted": True, "room_deleted": False}


def test_an_error_leaving_the_room_does_not_stop_the_deletions(
    cli: Cli, livekit: FakeLiveKit
) -> None:
    script = Script(close_error=RuntimeError("already disconnected"))

    _, report = cli.run_json(*AGENT_ONLY, script=script)

    assert livekit.rooms == {}
    assert livekit.dispatches == {}
    assert only_region(report)["cleanup"] == {"dispatch_deleted": True, "room_deleted": True}


# --- interruption -------------------------------------------------------------------------


@pytest.fixture
def ctrl_c_reaches_python() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt, as in a terminal. A shell without job control starts
    background jobs with SIGINT ignored, and asyncio then leaves Ctrl-C alone."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c_reaches_python")
def test_ctrl_c_during_the_turn_cleans_up_and_exits_1(cli: Cli, livekit: FakeLiveKit) -> None:
    def interrupt_when_asked(participant: FakeParticipant) -> None:
        async def ask_then_interrupt(clip: Any) -> ReplyTiming:
            os.kill(os.getpid(), signal.SIGINT)
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        participant.ask = ask_then_interrupt  # type: ignore[method-assign]

    code, report = cli.run_json(*AGENT_ONLY, on_factory=interrupt_when_asked)

    region = only_region(report)
    assert code == 1
    assert region["interrupted"] is True
    assert region["failed_step"] == "turn"
    assert region["reason"] == "interrupted (Ctrl-C) during this step"
    assert_cleaned_up(livekit, region)


async def test_cancelling_while_the_dispatch_is_created_finds_and_deletes_the_dispatch(
    livekit: FakeLiveKit,
) -> None:
    # The dispatch is created but its id never comes back, as when Ctrl-C lands mid-request.
    livekit.fail("AgentDispatchService/CreateDispatch", Failure(hang=True, apply_first=True))
    run = SmokeRun(
        eu_west_target(livekit),
        Credentials(livekit.api_key, livekit.api_secret),
        load_clip(),
        lambda: FakeParticipant(Script()),
    )
    task = asyncio.create_task(smoke_test.run_all([run]))
    await asyncio.to_thread(livekit.called("AgentDispatchService/CreateDispatch").wait, 5)
    task.cancel()
    [result] = await task

    assert result.interrupted
    assert result.failed_step is not None and result.failed_step.name == "room"
    assert "AgentDispatchService/ListDispatch" in livekit.calls
    assert (result.dispatch_deleted, result.room_deleted) == (True, True)
    assert livekit.rooms == {}
    assert livekit.dispatches == {}


def eu_west_target(livekit: FakeLiveKit) -> Target:
    return Target(
        region="eu-west",
        location="westeurope",
        agent_name="support-agent-eu-west",
        resource_group="rg-support-agent-eu-west",
        app_name="support-agent-eu-west",
        latency_budget_ms=1500,
        livekit_url=livekit.url,  # type: ignore[attr-defined]
    )


# --- several regions ----------------------------------------------------------------------


def test_all_runs_every_region_and_prints_one_comparison_table(
    cli: Cli, livekit: FakeLiveKit
) -> None:
    def tag_with_own_region(participant: FakeParticipant) -> None:
        # Each run's agent answers for the region whose room it was dispatched to.
        async def agent_of_the_room() -> AgentPresence:
            assert participant.token_claims is not None and participant.token_claims.video
            room = participant.token_claims.video.room or ""
            region = next(k for k in REGIONS if room.startswith(f"meridian-smoke-{k}-"))
            return AgentPresence(f"agent-{region}", {"meridian.region": region})

        participant.wait_for_agent = agent_of_the_room  # type: ignore[method-assign]

    code, out = cli.run("--all", "--skip-dispatch", on_factory=tag_with_own_region)

    assert code == 0
    table = out.split("\n\n")[0]
    assert "Reply ms" in table and "Budget ms" in table
    for region in REGIONS:
        assert f"PASS {region}" in out
    assert livekit.rooms == {}
    assert len(livekit.created_rooms) == 3


def test_all_exits_1_when_any_region_fails_and_says_which(cli: Cli, livekit: FakeLiveKit) -> None:
    code, report = cli.run_json("--all", "--skip-dispatch")

    failed = {r["region"]: r["failed_step"] for r in report["regions"] if not r["ok"]}
    assert code == 1
    # Every fake agent claims eu-west, so the other regions fail the agent check.
    assert failed == {"us-east": "agent", "ap-southeast": "agent"}
    assert livekit.rooms == {}


# --- usage and configuration errors exit 2 ------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env_change", "message"),
    [
        (["--region", "mars"], {}, "--region 'mars' is not a region"),
        ([*AGENT_ONLY], {"LIVEKIT_API_SECRET": ""}, "LIVEKIT_API_SECRET must be set"),
        ([*AGENT_ONLY], {"LIVEKIT_API_SECRET": "short"}, "LIVEKIT_API_SECRET is 5 characters"),
        ([*AGENT_ONLY], {"LIVEKIT_URL": "ftp://x"}, "LIVEKIT_URL must be a wss://"),
        ([*AGENT_ONLY, "--timeout", "0"], {}, "--timeout must be a positive"),
        (["--all", "--dispatch-url", "https://d.example"], {}, "with --all, write REGION=URL"),
        (["--region", "eu-west", "--dispatch-url", "d.example"], {}, "must be an https://"),
        (["--all", "--global-url", "d.example"], {}, "--global-url: must be an https://"),
        ([*AGENT_ONLY, "--question", "/nonexistent.wav"], {}, "clip not found"),
        (["--region", "eu-west"], {}, "no dispatch URL for eu-west"),
    ],
)
def test_configuration_errors_exit_2_with_one_clear_line(
    cli: Cli,
    livekit: FakeLiveKit,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    env_change: dict[str, str],
    message: str,
) -> None:
    code, out = cli.run(*args, env=env_for(livekit, **env_change))

    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert out == ""
    assert livekit.calls == []


@pytest.mark.parametrize(
    ("args", "env_change", "message"),
    [
        (["--region", "mars"], {}, "--region 'mars' is not a region"),
        ([*AGENT_ONLY], {"LIVEKIT_API_SECRET": "short"}, "LIVEKIT_API_SECRET is 5 characters"),
        (["--region", "eu-west"], {}, "no dispatch URL for eu-west"),
        (["--timeout", "5"], {}, "one of the arguments --region --all is required"),
    ],
)
def test_with_json_a_configuration_error_is_a_json_object_on_stdout(
    cli: Cli,
    livekit: FakeLiveKit,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    env_change: dict[str, str],
    message: str,
) -> None:
    code, out = cli.run(*args, "--json", env=env_for(livekit, **env_change))

    report = json.loads(out)
    assert code == 2
    assert (report["ok"], report["exit_code"], report["regions"]) == (False, 2, [])
    assert message in report["error"]
    assert message in capsys.readouterr().err
    assert livekit.calls == []


def test_a_bad_manifest_with_json_is_a_json_error_naming_the_file(cli: Cli, manifest: Path) -> None:
    manifest.write_text("agent: [\n")

    code, out = cli.run(*AGENT_ONLY, "--json")

    assert code == 2
    assert "regions.yaml" in json.loads(out)["error"]


def test_a_short_api_secret_is_refused_before_any_token_is_signed(
    cli: Cli, livekit: FakeLiveKit, capsys: pytest.CaptureFixture[str]
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, out = cli.run(*AGENT_ONLY, env=env_for(livekit, LIVEKIT_API_SECRET="s3cr3"))

    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [
        "smoke_test: environment variable LIVEKIT_API_SECRET is 5 characters; a LiveKit API secret"
        " has at least 32 (join tokens are HS256, which needs a 256-bit key): use the secret of"
        " the project's API key pair"
    ]
    assert "s3cr3" not in err + out
    assert [w for w in caught if "HMAC key" in str(w.message)] == []
    assert livekit.calls == []


def test_a_bad_manifest_exits_2_naming_the_file(
    cli: Cli, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest.write_text("agent: [\n")

    code, _ = cli.run("--region", "eu-west")

    assert code == 2
    assert "regions.yaml" in capsys.readouterr().err


def test_stack_outputs_for_an_unknown_region_exit_2(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "out.json"
    outputs.write_text(json.dumps({"region": "mars", "dispatchUrl": "https://d.example"}))

    code, _ = cli.run("--region", "eu-west", "--stack-outputs", str(outputs))

    assert code == 2
    assert "output 'region' is 'mars'" in capsys.readouterr().err


def test_stack_outputs_with_a_non_string_region_exit_2(
    cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "out.json"
    outputs.write_text(json.dumps({"region": ["eu-west"]}))

    code, _ = cli.run("--region", "eu-west", "--stack-outputs", str(outputs))

    assert code == 2
    assert "output 'region' is ['eu-west']" in capsys.readouterr().err


def test_choosing_neither_a_region_nor_all_is_a_usage_error(cli: Cli) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.run()

    assert exc.value.code == 2
