"""scripts/synth.py: what each stack would create, offline, for people and for machines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra.manifest import ROOT
from tests.manifests import THREE_REGIONS

SYNTH = ROOT / "scripts" / "synth.py"


def run_synth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SYNTH), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def synth_json() -> dict:
    result = run_synth("--json", "--manifest", str(THREE_REGIONS))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_json_has_the_global_stack_and_one_stack_per_region(synth_json: dict) -> None:
    assert {k: v["region"] for k, v in synth_json["stacks"].items()} == {
        "global": "global",
        "us-east": "us-east",
        "eu-west": "eu-west",
        "ap-southeast": "ap-southeast",
    }


def test_json_resources_carry_type_tokens_names_and_wire_inputs(synth_json: dict) -> None:
    resources = synth_json["stacks"]["eu-west"]["resources"]
    app = next(r for r in resources if r["name"] == "support-agent-eu-west")
    assert app["type"] == "azure-native:app:ContainerApp"
    assert app["inputs"]["containerAppName"] == "support-agent-eu-west"
    assert app["inputs"]["template"]["terminationGracePeriodSeconds"] == 600


def test_json_masks_secrets_only(synth_json: dict) -> None:
    environment = next(
        r
        for r in synth_json["stacks"]["eu-west"]["resources"]
        if r["type"] == "azure-native:app:ManagedEnvironment"
    )
    logs = environment["inputs"]["appLogsConfiguration"]["logAnalyticsConfiguration"]
    assert logs["sharedKey"] == "[secret]"
    assert "mock-workspace-key" not in json.dumps(synth_json)
    assert synth_json["stacks"]["us-east"]["outputs"]["agentName"] == "support-agent-us-east"


def test_text_lists_every_resource_of_the_chosen_stack() -> None:
    result = run_synth("--stack", "prod-ap-southeast", "--manifest", str(THREE_REGIONS))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("stack prod-ap-southeast: region ap-southeast in southeastasia")
    assert "+ azure-native:app:ContainerApp  support-agent-prod-ap-southeast" in result.stdout
    assert "env[LIVEKIT_API_SECRET]: secretRef livekit-api-secret" in result.stdout
    assert "secrets[livekit-api-secret].keyVaultUrl: https://kv-" in result.stdout
    assert "synth-placeholder" not in result.stdout
    assert "stack prod-global" not in result.stdout


def test_text_shows_the_global_layer_first() -> None:
    result = run_synth("--manifest", str(THREE_REGIONS))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("stack global: the global layer in westeurope")
    assert "+ azure-native:cdn:Route  endpoint-token" in result.stdout


def test_two_runs_of_the_same_manifest_print_the_same_plan() -> None:
    first = run_synth("--manifest", str(THREE_REGIONS))
    second = run_synth("--manifest", str(THREE_REGIONS))
    assert first.returncode == second.returncode == 0, first.stderr
    assert first.stdout == second.stdout


def _edited(tmp_path: Path) -> Path:
    """The fixture with one more region and a smaller replica ceiling everywhere."""
    data = yaml.safe_load(THREE_REGIONS.read_text())
    data["regions"]["sa-east"] = {"location": "brazilsouth"}
    data["defaults"]["replicas"]["max"] = 12
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_diff_shows_what_an_edit_of_the_manifest_changes(tmp_path: Path) -> None:
    result = run_synth("--manifest", str(_edited(tmp_path)), "--diff", str(THREE_REGIONS))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    # The global stack adds the region's identity, grants and replica, and publishes it.
    assert text.startswith("stack global: 5 to add, 1 to change")
    assert "  ~ azure-native:storage:Blob  storage-regions.json" in text
    assert "  + azure-native:managedidentity:UserAssignedIdentity  id-support-agent-sa-east" in text
    assert "  ~ azure-native:app:ContainerApp  support-agent-eu-west" in text
    assert "  ~ azure-native:app:ContainerApp  dispatch-eu-west" not in text
    assert "      template.scale.maxReplicas: 16 -> 12" in text
    assert "stack sa-east: new stack" in text
    assert "+ azure-native:app:ContainerApp  support-agent-sa-east" in text


def test_diff_as_json_lists_each_stacks_changes(tmp_path: Path) -> None:
    result = run_synth("--manifest", str(_edited(tmp_path)), "--diff", str(THREE_REGIONS), "--json")
    assert result.returncode == 0, result.stderr
    stacks = json.loads(result.stdout)["stacks"]
    assert stacks["sa-east"]["status"] == "added"
    [app] = [c for c in stacks["us-east"]["changed"] if c["name"] == "support-agent-us-east"]
    assert {"path": "template.scale.maxReplicas", "old": "16", "new": "12"} in app["changes"]


def test_diff_of_an_unchanged_manifest_shows_no_changes() -> None:
    result = run_synth("--manifest", str(THREE_REGIONS), "--diff", str(THREE_REGIONS))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "stack global: no changes",
        "stack us-east: no changes",
        "stack eu-west: no changes",
        "stack ap-southeast: no changes",
    ]


def test_manifest_error_exits_2_with_messages_on_stderr(tmp_path: Path) -> None:
    data = yaml.safe_load(THREE_REGIONS.read_text())
    data["regions"]["eu-west"]["replicas"] = {"max": 0}
    bad = tmp_path / "regions.yaml"
    bad.write_text(yaml.safe_dump(data))
    result = run_synth("--manifest", str(bad))
    assert result.returncode == 2
    assert "regions.eu-west.replicas.max (got 0)" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_unknown_stack_exits_2_with_the_region_list() -> None:
    result = run_synth("--stack", "mars", "--manifest", str(THREE_REGIONS))
    assert result.returncode == 2
    assert "us-east, eu-west, ap-southeast" in result.stderr


def test_the_shipped_manifest_synthesizes_the_global_stack_and_its_regions() -> None:
    # regions.yaml is the user's file: whatever regions it holds, each gets a stack.
    result = run_synth("--json")
    assert result.returncode == 0, result.stderr
    stacks = json.loads(result.stdout)["stacks"]
    assert "global" in stacks
    assert len(stacks) >= 2
    assert all(plan["resources"] for plan in stacks.values())


def test_synth_of_provisioned_models_shows_each_regions_account_deployments_and_roles() -> None:
    from infra.manifest import load_manifest
    from infra.offline import synth_seed
    from tests.manifests import MODELS_DAY, PROVISIONED

    global_names = load_manifest(PROVISIONED, on=MODELS_DAY).global_names("global")

    def account(region: str) -> str:
        return global_names.ai_account(region, synth_seed("global"))

    result = run_synth("--manifest", str(PROVISIONED), "--deploy-date", MODELS_DAY.isoformat())
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for region in ("us-east", "eu-west", "ap-southeast"):
        assert f"models of region {region} (" in out
        assert f"  account {account(region)} (global): AIServices" in out
    assert out.count("local auth disabled") == 3
    assert out.count("deployments (region stack, one after another): gpt-5.4-mini") == 3
    assert (
        "id-support-agent-eu-west: Cognitive Services OpenAI User on"
        f" {account('eu-west')}, {account('us-east')}"
    ) in out
    assert "falls back to us-east" in out
    for key_name in ("AZURE_SPEECH_KEY", "AZURE_OPENAI_API_KEY", "listAccountKeys"):
        assert key_name not in out
