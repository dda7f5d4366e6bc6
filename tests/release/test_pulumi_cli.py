"""Which `pulumi` CLI the release and status commands accept, and what they say without one."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest
from pulumi.automation._minimum_version import _MINIMUM_VERSION

from meridian.release.cli import rollout_main, status_main
from meridian.release.pulumi_deployer import MIN_PULUMI_CLI, pulumi_cli
from tests.manifests import THREE_REGIONS
from tests.release.fakes import NEW


def _path_with(tmp_path: Path, version: str | None) -> str:
    """A PATH holding only a `pulumi` that prints `version` (None: no `pulumi` at all)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if version is not None:
        script = bin_dir / "pulumi"
        script.write_text(f"#!/bin/sh\necho v{version}\n")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(bin_dir)


def _run(command: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["--manifest", str(THREE_REGIONS)]
    if command == "rollout":
        code = rollout_main([*argv, "--image", NEW], env={}, stdout=out, stderr=err)
    else:
        code = status_main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("command", ["rollout", "status"])
def test_without_a_pulumi_cli_the_command_names_it_in_one_line_and_exits_2(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", _path_with(tmp_path, None))
    code, out, err = _run(command)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"{command}: the Pulumi CLI (`pulumi`) is not on PATH; install it")
    assert "https://www.pulumi.com/docs/install/" in err
    assert f"version {MIN_PULUMI_CLI} or newer" in err


@pytest.mark.parametrize("command", ["rollout", "status"])
def test_a_pulumi_cli_older_than_the_minimum_is_refused_in_one_line_with_exit_2(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", _path_with(tmp_path, "3.150.0"))
    monkeypatch.delenv("PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK", raising=False)
    code, _, err = _run(command)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"the Pulumi CLI on PATH is 3.150.0; Meridian's releases need {MIN_PULUMI_CLI}" in err
    assert "pulumi self-update" in err


def test_the_minimum_cli_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", _path_with(tmp_path, str(MIN_PULUMI_CLI)))
    assert pulumi_cli().version == MIN_PULUMI_CLI


def test_the_minimum_is_at_least_the_automation_apis_own_and_keeps_stack_tags() -> None:
    assert MIN_PULUMI_CLI.compare(_MINIMUM_VERSION) >= 0
    # DIY backends keep stack tags (the last good image) from CLI 3.211.0 on.
    assert MIN_PULUMI_CLI.compare("3.211.0") >= 0
