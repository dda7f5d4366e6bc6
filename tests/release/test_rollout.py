"""The release state machine and its command line, on an in-memory deployer and gate."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from infra.manifest import load_manifest
from meridian.release.cli import rollout_main
from meridian.release.orchestrate import INFRA_NOT_ROLLED_BACK, Progress, Release, preview
from meridian.release.plan import LAST_GOOD_TAG, PREVIOUS_GOOD_TAG, ResourceChange, StackNames
from meridian.smoke import ConfigError
from tests.manifests import THREE_REGIONS
from tests.release.fakes import (
    NEW,
    OLD,
    OLDER,
    FakeDeployer,
    FakeGate,
    FakeStack,
    five_regions,
    fleet,
)

FIVE = ["us-east", "eu-west", "ap-southeast", "sa-east", "au-east"]


def run(
    manifest: Path,
    deployer: FakeDeployer,
    gate: FakeGate,
    *args: str,
    image: str | None = NEW,
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["--manifest", str(manifest), *(["--image", image] if image else []), *args]
    code = rollout_main(
        argv,
        env={},
        deployer_factory=lambda log: deployer,
        gate_factory=lambda path, env, limits: gate,
        stdout=out,
        stderr=err,
    )
    return code, out.getvalue(), err.getvalue()


def test_global_first_then_canary_then_waves_in_order(tmp_path: Path) -> None:
    deployer, gate = FakeDeployer(fleet(FIVE)), FakeGate()
    code, out, err = run(five_regions(tmp_path), deployer, gate)
    assert code == 0, err
    assert [c[1] for c in deployer.ups()] == [
        "global",
        "eu-west",
        "us-east",
        "ap-southeast",
        "sa-east",
        "au-east",
    ]
    assert deployer.ups()[0] == ("up", "global", "-")  # the global stack takes no image
    assert all(c[2] == NEW for c in deployer.ups()[1:])
    assert [r for r, _ in gate.checked] == [
        "eu-west",
        "us-east",
        "ap-southeast",
        "sa-east",
        "au-east",
    ]
    # Each gate ran after its own region's up, on the new image.
    assert all(image == NEW for _, image in gate.checked)
    assert all(deployer.stacks[k].tags[LAST_GOOD_TAG] == NEW for k in FIVE)
    assert all(deployer.stacks[k].tags[PREVIOUS_GOOD_TAG] == OLD for k in FIVE)
    # Live progress names the wave, the region and the time elapsed.
    assert "canary (wave 1/3): eu-west" in err
    assert "wave-2 (wave 3/3): sa-east, au-east" in err
    assert "[00:00] eu-west: smoke passed (first reply 812 ms)" in err
    assert "OK: every region is on the new image" in out


def test_the_table_has_every_column() -> None:
    deployer, gate = FakeDeployer(fleet(["us-east", "eu-west", "ap-southeast"])), FakeGate()
    code, out, _ = run(THREE_REGIONS, deployer, gate)
    assert code == 0
    header = next(line for line in out.splitlines() if line.startswith("region"))
    for column in ("old image", "new image", "infra", "up", "smoke", "first reply ms", "time s"):
        assert column in header
    row = next(line for line in out.splitlines() if line.startswith("eu-west"))
    assert "meridian-agent@sha256:aaaaaaaaaaaa" in row
    assert "meridian-agent@sha256:bbbbbbbbbbbb" in row
    assert "passed" in row and "812" in row


def test_json_gives_the_same_as_the_table() -> None:
    deployer, gate = FakeDeployer(fleet(["us-east", "eu-west", "ap-southeast"])), FakeGate()
    code, out, _ = run(THREE_REGIONS, deployer, gate, "--json")
    assert code == 0
    body = json.loads(out)
    assert body["ok"] is True and body["exit_code"] == 0 and body["image"] == NEW
    assert [w["name"] for w in body["waves"]] == ["canary", "wave-1"]
    assert body["global"] == {"stack": "global", "up": "1 update"}
    first = body["regions"][0]
    assert first["region"] == "eu-west"
    assert first["old_image"] == OLD and first["new_image"] == NEW
    assert first["up"] == "updated" and first["smoke"] == "passed"
    assert first["reply_latency_ms"] == 812.4
    assert first["seconds"] is not None


def test_a_failed_gate_stops_the_release_and_rolls_that_region_back(tmp_path: Path) -> None:
    deployer, gate = FakeDeployer(fleet(FIVE)), FakeGate(failing={"us-east"})
    code, out, err = run(five_regions(tmp_path), deployer, gate)
    assert code == 1
    # eu-west passed, us-east failed its gate and went back; nothing after it was touched.
    assert [c[1:] for c in deployer.ups()] == [
        ("global", "-"),
        ("eu-west", NEW),
        ("us-east", NEW),
        ("us-east", OLD),
    ]
    assert deployer.stacks["us-east"].image == OLD
    assert deployer.stacks["us-east"].tags[LAST_GOOD_TAG] == OLD
    assert deployer.stacks["eu-west"].image == NEW  # stays without --rollback-all
    assert deployer.stacks["ap-southeast"].image == OLD
    assert "FAILED at smoke test of us-east: Agent arrives: no agent joined within 20 s" in out
    assert f"us-east: rolled back to {OLD} (last good)" in out
    assert "hint: are workers registered as support-agent-us-east?" in out
    assert "us-east: smoke FAILED" in err
    rows = {line.split()[0]: line for line in out.splitlines() if line[:1].isalpha()}
    assert "not run" in rows["ap-southeast"]


def test_a_failed_up_stops_the_release_and_rolls_back(tmp_path: Path) -> None:
    deployer, gate = FakeDeployer(fleet(FIVE)), FakeGate()
    deployer.fail_up.add(("eu-west", NEW))
    code, out, _ = run(five_regions(tmp_path), deployer, gate, "--json")
    assert code == 1
    body = json.loads(out)
    assert body["failed_step"] == ("up eu-west: error: the container app failed to provision")
    assert body["regions"][0]["up"] == "failed"
    assert body["regions"][0]["smoke"] == "not run"
    assert gate.checked == []
    assert deployer.ups()[-1] == ("up", "eu-west", OLD)


def test_an_exception_in_the_smoke_gate_fails_the_gate_and_rolls_the_region_back() -> None:
    deployer = FakeDeployer(fleet(["us-east", "eu-west", "ap-southeast"]))
    bad_url = ConfigError("environment variable LIVEKIT_URL must be a wss:// or https:// URL")
    gate = FakeGate(raising={"eu-west": bad_url})
    code, out, err = run(THREE_REGIONS, deployer, gate)
    assert code == 1
    assert deployer.ups()[-1] == ("up", "eu-west", OLD)
    assert deployer.stacks["eu-west"].image == OLD
    assert deployer.stacks["eu-west"].tags[LAST_GOOD_TAG] == OLD
    assert "FAILED at smoke test of eu-west: smoke gate: environment variable LIVEKIT_URL" in out
    assert f"eu-west: rolled back to {OLD} (last good)" in out
    assert ("up", "us-east", NEW) not in deployer.ups()
    assert "eu-west: smoke FAILED" in err


def test_failing_to_record_the_last_good_image_fails_the_gate_and_rolls_back() -> None:
    deployer = FakeDeployer(fleet(["us-east", "eu-west", "ap-southeast"]))
    deployer.raise_record.add("eu-west")
    code, out, _ = run(THREE_REGIONS, deployer, FakeGate(), "--json")
    assert code == 1
    body = json.loads(out)
    assert body["failed_step"].startswith(
        "smoke test of eu-west: recording meridian:lastGoodImage failed: tagging stack eu-west"
    )
    assert body["regions"][0]["smoke"] == "failed"
    assert deployer.ups()[-1] == ("up", "eu-west", OLD)
    assert body["rollbacks"] == [f"eu-west: rolled back to {OLD} (last good)"]


def test_an_exception_in_up_is_a_failed_up_and_rolls_back() -> None:
    deployer = FakeDeployer(fleet(["us-east", "eu-west", "ap-southeast"]))
    deployer.raise_up.add(("eu-west", NEW))
    code, out, _ = run(THREE_REGIONS, deployer, FakeGate())
    assert code == 1
    assert "FAILED at up eu-west: pulumi: the engine crashed" in out
    assert deployer.ups()[-1] == ("up", "eu-west", OLD)


def test_a_failed_global_stack_touches_no_region() -> None:
    deployer, gate = FakeDeployer(fleet(["us-east", "eu-west", "ap-southeast"])), FakeGate()
    deployer.fail_up.add(("global", None))
    code, out, _ = run(THREE_REGIONS, deployer, gate)
    assert code == 1
    assert "FAILED at up global: error: the container app failed to provision" in out
    assert [c[1] for c in deployer.ups()] == ["global"]


def test_rollback_all_returns_every_region_on_the_new_image(tmp_path: Path) -> None:
    deployer, gate = FakeDeployer(fleet(FIVE)), FakeGate(failing={"sa-east"})
    code, out, _ = run(five_regions(tmp_path), deployer, gate, "--rollback-all", "--json")
    assert code == 1
    rollbacks = [c[1:] for c in deployer.ups()][5:]
    # The failed region first, then the others newest first.
    assert rollbacks == [
        ("sa-east", OLD),
        ("ap-southeast", OLD),
        ("us-east", OLD),
        ("eu-west", OLD),
    ]
    assert all(deployer.stacks[k].image == OLD for k in FIVE)
    # Their last good image is the one they run again, so a later failure never returns to NEW.
    assert all(deployer.stacks[k].tags[LAST_GOOD_TAG] == OLD for k in FIVE)
    body = json.loads(out)
    assert len(body["rollbacks"]) == 4
    assert deployer.stacks["au-east"].image == OLD
    assert ("up", "au-east", OLD) not in deployer.ups()


def test_rollback_all_reaches_regions_done_by_an_earlier_run(tmp_path: Path) -> None:
    stacks = fleet(FIVE)
    # A first run took the canary to NEW; OLD was its last good before.
    stacks["eu-west"] = FakeStack(NEW, {LAST_GOOD_TAG: NEW, PREVIOUS_GOOD_TAG: OLD})
    deployer, gate = FakeDeployer(stacks), FakeGate(failing={"us-east"})
    code, _, _ = run(five_regions(tmp_path), deployer, gate, "--rollback-all")
    assert code == 1
    assert ("up", "eu-west", NEW) not in deployer.ups()  # skipped: already done
    assert deployer.ups()[-1] == ("up", "eu-west", OLD)
    assert deployer.stacks["eu-west"].image == OLD


def test_rollback_all_never_records_an_image_that_never_passed_a_gate() -> None:
    stacks = fleet(["us-east", "eu-west", "ap-southeast"])
    # The canary runs OLD, deployed before releases recorded anything: it never passed a gate.
    stacks["eu-west"] = FakeStack(OLD, {})
    deployer, gate = FakeDeployer(stacks), FakeGate(failing={"us-east"})
    code, out, _ = run(THREE_REGIONS, deployer, gate, "--rollback-all")
    assert code == 1
    assert deployer.ups()[-1] == ("up", "eu-west", OLD)
    assert deployer.stacks["eu-west"].image == OLD
    # Neither OLD (never gated) nor NEW (rolled back) is its last good image now.
    assert LAST_GOOD_TAG not in deployer.stacks["eu-west"].tags
    assert f"eu-west: rolled back to {OLD} (previously deployed, never gated)" in out
    # So a later release of OLD is deployed and gated, not skipped as done.
    deployer.calls.clear()
    assert run(THREE_REGIONS, deployer, FakeGate(), image=OLD)[0] == 0
    assert ("up", "eu-west", OLD) in deployer.ups()


def test_a_region_with_no_earlier_image_is_left_alone() -> None:
    stacks = fleet(["us-east", "eu-west", "ap-southeast"])
    stacks["eu-west"] = FakeStack(image=None)  # created, never deployed
    stacks["eu-west"].exists = True
    deployer, gate = FakeDeployer(stacks), FakeGate(failing={"eu-west"})
    code, out, _ = run(THREE_REGIONS, deployer, gate)
    assert code == 1
    assert "eu-west: no earlier image known; left on the new image" in out
    assert deployer.ups()[-1] == ("up", "eu-west", NEW)


def test_the_failed_region_returns_to_its_last_good_not_its_last_deployed() -> None:
    stacks = fleet(["us-east", "eu-west", "ap-southeast"])
    # eu-west runs OLD, which never passed its gate; OLDER did.
    stacks["eu-west"] = FakeStack(OLD, {LAST_GOOD_TAG: OLDER})
    deployer, gate = FakeDeployer(stacks), FakeGate(failing={"eu-west"})
    assert run(THREE_REGIONS, deployer, gate)[0] == 1
    assert deployer.ups()[-1] == ("up", "eu-west", OLDER)


def test_a_second_run_resumes_after_the_fix(tmp_path: Path) -> None:
    manifest = five_regions(tmp_path)
    deployer = FakeDeployer(fleet(FIVE))
    assert run(manifest, deployer, FakeGate(failing={"ap-southeast"}))[0] == 1
    deployer.calls.clear()
    gate = FakeGate()
    code, out, _ = run(manifest, deployer, gate, "--json")
    assert code == 0
    # eu-west and us-east are on NEW with passed gates: skipped, neither deployed nor tested.
    assert [c[1] for c in deployer.ups()] == ["global", "ap-southeast", "sa-east", "au-east"]
    assert [r for r, _ in gate.checked] == ["ap-southeast", "sa-east", "au-east"]
    body = json.loads(out)
    skipped = [r["region"] for r in body["regions"] if r["up"] == "skipped"]
    assert skipped == ["eu-west", "us-east"]


def test_a_region_on_the_new_image_without_a_passed_gate_is_not_skipped() -> None:
    stacks = fleet(["us-east", "eu-west", "ap-southeast"])
    stacks["eu-west"] = FakeStack(NEW, {LAST_GOOD_TAG: OLD})  # deployed by hand, never gated
    deployer, gate = FakeDeployer(stacks), FakeGate()
    assert run(THREE_REGIONS, deployer, gate)[0] == 0
    assert ("up", "eu-west", NEW) in deployer.ups()
    assert gate.checked[0] == ("eu-west", NEW)


@pytest.mark.parametrize(
    "image",
    [
        "meridianacr.azurecr.io/meridian-agent:1.2.3",
        "meridianacr.azurecr.io/meridian-agent:latest",
        "meridian-agent",
    ],
)
def test_a_tag_instead_of_a_digest_is_refused(image: str) -> None:
    deployer, gate = FakeDeployer(fleet(["us-east", "eu-west", "ap-southeast"])), FakeGate()
    code, out, err = run(THREE_REGIONS, deployer, gate, image=image)
    assert code == 2
    assert out == ""
    assert "--image:" in err
    assert deployer.calls == []


def test_a_tag_message_says_to_give_the_digest() -> None:
    code, _, err = run(
        THREE_REGIONS, FakeDeployer({}), FakeGate(), image="acr.io/meridian-agent:1.2.3"
    )
    assert code == 2
    assert "names a tag" in err and "@sha256:" in err


def test_no_image_without_preview_is_a_usage_error() -> None:
    code, _, err = run(THREE_REGIONS, FakeDeployer({}), FakeGate(), image=None)
    assert code == 2
    assert "--image is required" in err


def test_preview_changes_nothing() -> None:
    deployer = FakeDeployer(fleet(["us-east", "eu-west", "ap-southeast"]))
    gate = FakeGate()
    code, out, _ = run(THREE_REGIONS, deployer, gate, "--preview")
    assert code == 0
    assert deployer.mutations() == []
    assert gate.checked == []
    assert all(s.config_image is None for s in deployer.stacks.values())
    previews = [c for c in deployer.calls if c[0] == "preview"]
    assert [c[1:3] for c in previews] == [
        ("global", "-"),
        ("eu-west", NEW),
        ("us-east", NEW),
        ("ap-southeast", NEW),
    ]
    assert "1 update" in out and "Nothing was changed." in out
    assert "update azure-native:app:ContainerApp agent" in out


def test_preview_without_an_image_keeps_each_regions_image() -> None:
    deployer = FakeDeployer(fleet(["us-east", "eu-west", "ap-southeast"]))
    code, out, _ = run(THREE_REGIONS, deployer, FakeGate(), "--preview", "--markdown", image=None)
    assert code == 0
    assert [c[2] for c in deployer.calls if c[0] == "preview"] == ["-", OLD, OLD, OLD]
    assert out.startswith("### Preview (each stack's own image)")
    assert "| stack | image | changes | resources |" in out
    assert deployer.mutations() == []


def test_list_waves_for_a_ci_matrix(tmp_path: Path) -> None:
    code, out, _ = run(five_regions(tmp_path), FakeDeployer({}), FakeGate(), "--list-waves")
    assert code == 0
    assert json.loads(out) == [
        {"index": 0, "name": "canary", "regions": ["eu-west"]},
        {"index": 1, "name": "wave-1", "regions": ["us-east", "ap-southeast"]},
        {"index": 2, "name": "wave-2", "regions": ["sa-east", "au-east"]},
    ]


def test_one_wave_runs_the_global_stack_and_that_wave_only(tmp_path: Path) -> None:
    manifest = five_regions(tmp_path)
    deployer = FakeDeployer(fleet(FIVE))
    assert run(manifest, deployer, FakeGate(), "--wave", "0")[0] == 0
    assert [c[1] for c in deployer.ups()] == ["global", "eu-west"]
    deployer.calls.clear()
    code, out, _ = run(manifest, deployer, FakeGate(), "--wave", "1", "--json")
    assert code == 0
    assert [c[1] for c in deployer.ups()] == ["global", "us-east", "ap-southeast"]
    assert [r["region"] for r in json.loads(out)["regions"]] == ["us-east", "ap-southeast"]


def test_a_wave_refuses_to_run_before_the_earlier_ones(tmp_path: Path) -> None:
    deployer = FakeDeployer(fleet(FIVE))
    code, out, _ = run(five_regions(tmp_path), deployer, FakeGate(), "--wave", "2")
    assert code == 1
    assert "preflight: wave-2 runs after the earlier waves" in out
    assert "eu-west, us-east, ap-southeast are not yet on this image" in out
    assert deployer.mutations() == []


def test_an_unknown_wave_is_a_usage_error() -> None:
    code, _, err = run(THREE_REGIONS, FakeDeployer({}), FakeGate(), "--wave", "5")
    assert code == 2
    assert "--wave 5: regions.yaml declares waves 0 (canary: eu-west), 1 (wave-1:" in err


def test_a_missing_stack_stops_the_release_before_anything_is_deployed() -> None:
    stacks = fleet(["us-east", "eu-west"])  # no ap-southeast stack
    deployer = FakeDeployer(stacks)
    code, out, _ = run(THREE_REGIONS, deployer, FakeGate())
    assert code == 1
    assert "preflight: stack(s) ap-southeast do not exist" in out
    assert deployer.mutations() == []


def test_prefixed_and_org_qualified_stack_names() -> None:
    names = StackNames("prod", "acme")
    assert names.global_stack == "acme/prod-global"
    assert names.region("eu-west") == "acme/prod-eu-west"
    deployer = FakeDeployer(fleet(["us-east", "eu-west", "ap-southeast"], prefix="prod"))
    code, _, _ = run(THREE_REGIONS, deployer, FakeGate(), "--stack-prefix", "prod")
    assert code == 0
    assert [c[1] for c in deployer.ups()][:2] == ["prod-global", "prod-eu-west"]


def test_the_release_object_reports_elapsed_time_from_its_clock() -> None:
    ticks = iter(range(0, 1000, 7))
    lines: list[str] = []
    progress = Progress(lines.append, clock=lambda: float(next(ticks)))
    deployer = FakeDeployer(fleet(["us-east", "eu-west", "ap-southeast"]))
    report = Release(
        load_manifest(THREE_REGIONS), StackNames(), deployer, FakeGate(), NEW, progress=progress
    ).run()
    assert report.ok
    assert all(r.seconds and r.seconds > 0 for r in report.regions)
    assert lines[0].startswith("[00:")
    assert report.seconds > 0


def test_preview_function_with_refresh_is_the_drift_path() -> None:
    deployer = FakeDeployer(fleet(["us-east", "eu-west", "ap-southeast"]))
    report = preview(load_manifest(THREE_REGIONS), StackNames(), deployer, None, refresh=True)
    assert report.ok
    assert all(c[3] == "refresh" for c in deployer.calls if c[0] == "preview")
    assert [p.image for p in report.stacks] == [None, OLD, OLD, OLD]


# --- an infrastructure change goes first, with the image the region runs ---------------------

SCALE_RULE = ResourceChange("update", "azure-native:app:ContainerApp", "support-agent-us-east")


def with_infra_change(region: str = "us-east") -> dict[str, FakeStack]:
    """Three regions on OLD (gated), and `region`'s stack with an infrastructure change pending:
    the release's commit changed what the program makes of it."""
    stacks = fleet(["us-east", "eu-west", "ap-southeast"])
    stacks[region].pending = (SCALE_RULE,)
    return stacks


def test_an_infrastructure_change_is_applied_and_gated_with_the_running_image_first() -> None:
    deployer, gate = FakeDeployer(with_infra_change()), FakeGate()
    code, out, _ = run(THREE_REGIONS, deployer, gate, "--json")
    assert code == 0
    us_east = [c[2] for c in deployer.ups() if c[1] == "us-east"]
    assert us_east == [OLD, NEW]
    assert [i for r, i in gate.checked if r == "us-east"] == [OLD, NEW]
    rows = {r["region"]: r for r in json.loads(out)["regions"]}
    assert rows["us-east"]["infra"] == "updated"
    assert rows["us-east"]["infra_changes"] == "2 update"
    assert rows["eu-west"]["infra"] == "no change"


def test_without_an_infrastructure_change_a_region_gets_one_up() -> None:
    deployer, gate = FakeDeployer(fleet(["us-east", "eu-west", "ap-southeast"])), FakeGate()
    assert run(THREE_REGIONS, deployer, gate)[0] == 0
    assert [c[2] for c in deployer.ups() if c[1] == "us-east"] == [NEW]
    assert ("preview", "us-east", OLD, "") in deployer.calls


def test_a_failed_image_rolls_back_to_the_state_that_passed_with_the_infrastructure_change() -> (
    None
):
    # The rollback runs the same program: with the change applied first and gated on OLD, the
    # state it returns to (new infrastructure, OLD) is one that passed a gate.
    deployer = FakeDeployer(with_infra_change())
    gate = FakeGate(failing_on={("us-east", NEW)})
    code, out, _ = run(THREE_REGIONS, deployer, gate)
    assert code == 1
    assert [c[2] for c in deployer.ups() if c[1] == "us-east"] == [OLD, NEW, OLD]
    assert deployer.stacks["us-east"].image == OLD
    assert deployer.stacks["us-east"].pending == ()
    assert ("us-east", OLD) in gate.checked[: gate.checked.index(("us-east", NEW))]
    assert f"us-east: rolled back to {OLD} (last good)" in out


def test_an_infrastructure_change_that_fails_its_gate_is_reported_as_not_rolled_back() -> None:
    # Rolling the image back would apply the same infrastructure again: the release stops
    # before the new image reaches the region, and says how to undo the change.
    deployer, gate = FakeDeployer(with_infra_change()), FakeGate(failing={"us-east"})
    code, out, err = run(THREE_REGIONS, deployer, gate)
    assert code == 1
    assert [c[2] for c in deployer.ups() if c[1] == "us-east"] == [OLD]
    assert not [c for c in deployer.ups() if c[1] == "ap-southeast"]
    assert deployer.stacks["us-east"].tags[LAST_GOOD_TAG] == OLD
    assert "FAILED at smoke test of us-east after its infrastructure change: Agent arrives" in out
    assert f"us-east: {INFRA_NOT_ROLLED_BACK}" in out
    assert "us-east: smoke FAILED on the infrastructure change" in err


def test_rollback_all_after_a_failed_infrastructure_change_rolls_back_the_other_regions() -> None:
    deployer, gate = FakeDeployer(with_infra_change()), FakeGate(failing={"us-east"})
    code, out, _ = run(THREE_REGIONS, deployer, gate, "--rollback-all")
    assert code == 1
    assert deployer.stacks["eu-west"].image == OLD  # passed on NEW, sent back
    assert [c[2] for c in deployer.ups() if c[1] == "us-east"] == [OLD]
    assert f"us-east: {INFRA_NOT_ROLLED_BACK}" in out


def test_a_failed_preview_deploys_nothing_to_that_region() -> None:
    deployer, gate = FakeDeployer(with_infra_change()), FakeGate()
    deployer.fail_preview.add("us-east")
    code, out, _ = run(THREE_REGIONS, deployer, gate)
    assert code == 1
    assert not [c for c in deployer.ups() if c[1] == "us-east"]
    assert "FAILED at preview us-east: error: the program raised during preview" in out
