"""The region-loss drill reads which region a dispatch token sends the caller to, counts a call
lost when no agent is heard again, and a call dropped in a rolling restart when a question after
the SIGTERM gets no answer."""

from __future__ import annotations

import dataclasses
import json

from benchmarks.live_call import join_token
from benchmarks.region_drill import (
    CallOutcome,
    Drill,
    Probing,
    RestartOutcome,
    region_of,
    shipped_probing,
    write_results,
)
from infra.manifest import load_manifest
from meridian.contract import Env
from meridian.local.server import local_config
from meridian.policy import ProbePolicy


def test_a_tokens_region_is_its_agents_name_without_the_base_name() -> None:
    config = local_config()
    token = join_token(config, "room-1", "support-agent-us-east")
    assert region_of(token, config) == "us-east"


def test_a_call_whose_new_agent_never_spoke_is_lost() -> None:
    assert CallOutcome(joined=21.0, heard=None, region="us-east").lost
    assert not CallOutcome(joined=21.0, heard=21.2, region="us-east").lost


PROBING = Probing(interval_seconds=1.0, timeout_seconds=2.0, down_after_failures=3)


def test_the_drill_writes_every_calls_outcome_as_json(tmp_path) -> None:
    calls = (CallOutcome(21.0, 21.2, "us-east"), CallOutcome(None, None, None))
    write_results(Drill(PROBING, calls, 2.8), tmp_path / "drill.json")
    written = json.loads((tmp_path / "drill.json").read_text())
    assert written["rerouted"] == 2.8
    assert [c["region"] for c in written["calls"]] == ["us-east", None]


def test_the_drill_writes_the_probe_policy_it_ran_with(tmp_path) -> None:
    write_results(Drill(PROBING, (), None), tmp_path / "drill.json")
    written = json.loads((tmp_path / "drill.json").read_text())
    assert written["probing"] == dataclasses.asdict(PROBING)


def test_the_drill_probes_as_the_shipped_manifest_says() -> None:
    probes = load_manifest().dispatch.policy.probes
    assert shipped_probing() == Probing(
        probes.interval_seconds, probes.timeout_seconds, probes.down_after_failures
    )


def test_a_probe_policy_reaches_dispatch_as_its_setting() -> None:
    env = PROBING.env()
    assert ProbePolicy.model_validate_json(env[Env.dispatch("probes")]) == (
        ProbePolicy(interval_seconds=1.0, timeout_seconds=2.0, down_after_failures=3)
    )


def test_a_call_whose_question_after_the_sigterm_got_no_answer_is_dropped() -> None:
    restart = RestartOutcome((0.6, None, 0.7), 3, 3, 0, 3.2)
    assert restart.dropped == 1


def test_the_drill_writes_the_rolling_restart_too(tmp_path) -> None:
    restart = RestartOutcome((0.6,), 1, 1, 0, 3.2)
    write_results(Drill(PROBING, (), None, restart), tmp_path / "drill.json")
    written = json.loads((tmp_path / "drill.json").read_text())
    assert written["restart"]["answered"] == [0.6]
    assert written["restart"]["exit_code"] == 0
