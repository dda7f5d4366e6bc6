"""The real gate: smoke.configure and a smoke runner, for the region a release just deployed."""

from __future__ import annotations

import io

from meridian.release.cli import real_gate, rollout_main
from meridian.release.smoke_gate import SmokeGate
from meridian.smoke import Limits, RegionResult, StepResult, Target
from meridian.smoke.run import STEPS
from tests.manifests import THREE_REGIONS
from tests.release.fakes import NEW, FakeDeployer, fleet

ENV = {"LIVEKIT_API_KEY": "APIkey", "LIVEKIT_API_SECRET": "s" * 40}


class Runner:
    """Stands in for smoke.run_smoke; answers with a RegionResult built from the given target."""

    def __init__(self, failed: str | None = None) -> None:
        self.failed = failed
        self.calls: list[tuple[list[Target], Limits | None]] = []

    def __call__(self, targets, credentials, clip, media_factory, limits):  # type: ignore[no-untyped-def]
        self.calls.append((list(targets), limits))
        steps = []
        for name, _ in STEPS:
            if name == self.failed:
                steps.append(
                    StepResult(
                        name, "failed", 20000.0, "no agent joined within 20 s", "check the logs"
                    )
                )
                break
            steps.append(StepResult(name, "passed", 10.0))
        latency = None if self.failed else 743.0
        return [RegionResult(targets[0], "room", tuple(steps), reply_latency_ms=latency)]


def test_the_gate_tests_that_region_at_its_dispatch_url() -> None:
    runner = Runner()
    gate = SmokeGate(THREE_REGIONS, ENV, limits=Limits(total=30), clip=object(), runner=runner)  # type: ignore[arg-type]
    outcome = gate.check(
        "us-east", {"dispatchUrl": "https://dispatch-us-east.example.test/", "image": NEW}
    )
    assert outcome.ok and outcome.reply_latency_ms == 743.0
    [(targets, limits)] = runner.calls
    [target] = targets
    assert target.region == "us-east"
    assert target.agent_name == "support-agent-us-east"
    assert target.dispatch_url == "https://dispatch-us-east.example.test"
    assert limits is not None and limits.total == 30
    assert outcome.detail is not None and outcome.detail["region"] == "us-east"


def test_the_gate_dispatches_the_agent_name_the_stack_reports() -> None:
    runner = Runner()
    gate = SmokeGate(THREE_REGIONS, ENV, clip=object(), runner=runner)  # type: ignore[arg-type]
    outputs = {
        "agentName": "support-agent-staging-us-east",
        "resourceGroup": "rg-support-agent-staging-us-east",
        "appName": "support-agent-staging-us-east",
        "dispatchUrl": "https://d.example.test",
    }
    assert gate.check("us-east", outputs).ok
    [target] = runner.calls[0][0]
    assert target.agent_name == "support-agent-staging-us-east"
    assert target.resource_group == "rg-support-agent-staging-us-east"
    assert target.app_name == "support-agent-staging-us-east"


def test_a_failed_step_is_the_gates_reason() -> None:
    gate = SmokeGate(THREE_REGIONS, ENV, clip=object(), runner=Runner(failed="agent"))  # type: ignore[arg-type]
    outcome = gate.check("eu-west", {"dispatchUrl": "https://dispatch-eu-west.example.test"})
    assert not outcome.ok
    assert outcome.failed_step == "Agent arrives"
    assert outcome.reason == "no agent joined within 20 s"
    assert outcome.hint == "check the logs"


def test_the_gate_expects_the_agent_of_the_stacks_latest_revision() -> None:
    runner = Runner()
    gate = SmokeGate(THREE_REGIONS, ENV, clip=object(), runner=runner)  # type: ignore[arg-type]
    outputs = {
        "dispatchUrl": "https://dispatch-us-east.example.test",
        "latestRevision": "support-agent-us-east--0000007",
    }
    assert gate.check("us-east", outputs).ok
    [(targets, _)] = runner.calls
    assert targets[0].revision == "support-agent-us-east--0000007"


def test_a_region_whose_outputs_name_no_dispatch_url_fails_its_gate_untested() -> None:
    runner = Runner()
    gate = SmokeGate(THREE_REGIONS, ENV, clip=object(), runner=runner)  # type: ignore[arg-type]
    outcome = gate.check("eu-west", {"image": NEW})
    assert not outcome.ok
    assert outcome.reason is not None and outcome.reason.startswith("no dispatch URL for eu-west")
    assert runner.calls == []


def test_without_livekit_credentials_nothing_is_deployed() -> None:
    deployer = FakeDeployer(fleet(["us-east", "eu-west", "ap-southeast"]))
    err = io.StringIO()
    code = rollout_main(
        ["--manifest", str(THREE_REGIONS), "--image", NEW],
        env={},
        deployer_factory=lambda log: deployer,
        gate_factory=real_gate,
        stdout=io.StringIO(),
        stderr=err,
    )
    assert code == 2
    assert "LIVEKIT_API_KEY and LIVEKIT_API_SECRET must be set" in err.getvalue()
    assert deployer.mutations() == []


def test_the_real_gate_loads_the_committed_question() -> None:
    gate = real_gate(THREE_REGIONS, ENV, Limits())
    assert isinstance(gate, SmokeGate)
    assert gate.clip.duration_s > 1  # type: ignore[attr-defined]


def test_behind_front_door_the_gate_goes_through_the_regions_route_on_the_global_url() -> None:
    runner = Runner()
    gate = SmokeGate(THREE_REGIONS, ENV, clip=object(), runner=runner)  # type: ignore[arg-type]
    outputs = {
        "region": "ap-southeast",
        "dispatchUrl": "https://dispatch-ap-southeast.example.test",
        "globalUrl": "https://support-agent.z01.azurefd.net",
    }
    assert gate.check("ap-southeast", outputs).ok
    [(targets, _)] = runner.calls
    assert targets[0].dispatch_url == "https://support-agent.z01.azurefd.net/regions/ap-southeast"
