"""The real Automation API adapter, on the real pulumi.automation with a fake `pulumi` process."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pulumi import automation as auto

from infra.manifest import ROOT
from meridian.release.plan import IMAGE_CONFIG, LAST_GOOD_TAG, PREVIOUS_GOOD_TAG
from meridian.release.pulumi_deployer import PulumiDeployer
from tests.release.fake_pulumi_cli import CLIStack, FakePulumiCLI
from tests.release.fakes import NEW, OLD

APP = "azure-native:app:ContainerApp"


def deployer(cli: FakePulumiCLI, project: Path = ROOT, log: list[str] | None = None):
    sink = log.append if log is not None else None
    return PulumiDeployer(project, pulumi_command=cli, log=sink, env_vars={"X": "1"})


def test_the_workspace_is_the_project_at_the_repository_root() -> None:
    cli = FakePulumiCLI({"eu-west": CLIStack()})
    d = deployer(cli)
    ws = d.workspace()
    assert isinstance(ws, auto.LocalWorkspace)
    assert Path(ws.work_dir) == ROOT
    assert (ROOT / "Pulumi.yaml").exists()
    assert ws.project_settings().name == "meridian"
    assert ws.project_settings().main == "infra/"
    assert d.workspace() is ws  # one workspace for every stack


def test_state_reads_outputs_without_secrets_and_the_last_good_tags() -> None:
    stack = CLIStack(
        outputs={"region": "eu-west", "image": OLD, "dispatchUrl": "https://d", "token": "s3"},
        secret_outputs={"token"},
        tags={LAST_GOOD_TAG: OLD, PREVIOUS_GOOD_TAG: "x", "pulumi:project": "meridian"},
    )
    cli = FakePulumiCLI({"prod-eu-west": stack})
    state = deployer(cli).state("prod-eu-west")
    assert state.exists
    assert state.image == OLD
    assert "token" not in state.outputs
    assert state.last_good == OLD and state.previous_good == "x"
    assert ["stack", "select", "--stack", "prod-eu-west"] in cli.calls
    assert cli.cwds == {str(ROOT)}


def test_a_missing_stack_is_reported_not_created() -> None:
    cli = FakePulumiCLI({})
    state = deployer(cli).state("eu-west")
    assert not state.exists
    assert not cli.by_verb("stack", "init")


def test_up_sets_the_image_config_then_updates_without_showing_secrets() -> None:
    stack = CLIStack(
        outputs={"image": OLD}, steps=[("update", APP, "support-agent-eu-west", ["template"])]
    )
    cli = FakePulumiCLI({"eu-west": stack})
    log: list[str] = []
    outcome = deployer(cli, log=log).up("eu-west", NEW)
    assert outcome.ok, outcome.error
    [config] = cli.by_verb("config", "set")
    assert config[2] == IMAGE_CONFIG and "--plaintext" in config
    assert config[config.index("--") + 1] == NEW
    [up] = cli.by_verb("up")
    assert up[:3] == ["up", "--yes", "--skip-preview"]
    assert "--show-secrets" not in up and "--suppress-outputs" in up
    assert up[up.index("--color") + 1] == "never"
    assert up[up.index("--stack") + 1] == "eu-west"
    assert cli.calls.index(config) < cli.calls.index(up)
    assert outcome.outputs["image"] == NEW
    assert outcome.changes["update"] == 1
    assert outcome.summary == "1 update"
    assert "  eu-west: update azure-native:app:ContainerApp support-agent-eu-west" in log
    # The history read after `up` leaves secrets masked too.
    assert all("--show-secrets" not in c for c in cli.by_verb("stack", "history"))


def test_up_of_the_global_stack_leaves_its_config_alone() -> None:
    cli = FakePulumiCLI({"global": CLIStack()})
    assert deployer(cli).up("global", None).ok
    assert not cli.by_verb("config", "set")


def test_a_failed_up_quotes_pulumis_error() -> None:
    stack = CLIStack(
        up_error="Updating (eu-west):\nerror: update failed\n  ContainerApp: error: 400 Bad Request"
    )
    outcome = deployer(FakePulumiCLI({"eu-west": stack})).up("eu-west", NEW)
    assert not outcome.ok
    assert outcome.error is not None
    assert "error: update failed" in outcome.error and "400 Bad Request" in outcome.error


def test_preview_tries_the_image_in_a_copy_of_the_stack_config(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    settings = {
        "encryptionsalt": "v1:abc",
        "config": {"meridian:livekitApiKey": {"secure": "v1:xyz"}, IMAGE_CONFIG: OLD},
    }
    original = yaml.safe_dump(settings)
    (tmp_path / "Pulumi.eu-west.yaml").write_text(original)
    stack = CLIStack(
        outputs={"image": OLD}, steps=[("update", APP, "support-agent-eu-west", ["template"])]
    )
    cli = FakePulumiCLI({"eu-west": stack})
    seen: dict[str, object] = {}
    real_run = cli.run

    def run(args, cwd, env, on_output=None, on_error=None):  # type: ignore[no-untyped-def]
        if args[0] == "preview":
            path = args[args.index("--config-file") + 1]
            seen.update(yaml.safe_load(Path(path).read_text()))
        return real_run(args, cwd, env, on_output, on_error)

    cli.run = run  # type: ignore[method-assign]
    outcome = deployer(cli, tmp_path).preview("eu-west", NEW)
    assert outcome.ok and outcome.changed == 1
    assert [(r.op, r.type, r.name, r.diffs) for r in outcome.resources] == [
        ("update", APP, "support-agent-eu-west", ("template",))
    ]
    # The copy keeps secrets and salt, with the new image; the real file is untouched.
    assert seen["encryptionsalt"] == "v1:abc"
    assert seen["config"] == {"meridian:livekitApiKey": {"secure": "v1:xyz"}, IMAGE_CONFIG: NEW}
    assert (tmp_path / "Pulumi.eu-west.yaml").read_text() == original
    assert not cli.by_verb("config", "set") and not cli.by_verb("up")
    assert "--refresh" not in cli.by_verb("preview")[0]


def test_the_drift_preview_refreshes_and_lists_drifted_resources() -> None:
    stack = CLIStack(
        steps=[
            ("update", APP, "support-agent-us-east", ["template.scale"]),
            ("delete", "azure-native:app:ManagedEnvironment", "old", []),
        ]
    )
    cli = FakePulumiCLI({"us-east": stack})
    outcome = deployer(cli).preview("us-east", OLD, refresh=True)
    [preview] = cli.by_verb("preview")
    assert "--refresh" in preview
    assert outcome.changed == 2
    assert outcome.changes == {"same": 5, "update": 1, "delete": 1}
    assert [r.name for r in outcome.resources] == ["support-agent-us-east", "old"]


def test_preview_with_no_image_uses_the_stacks_own_config() -> None:
    cli = FakePulumiCLI({"global": CLIStack()})
    outcome = deployer(cli).preview("global", None)
    assert outcome.ok and outcome.changed == 0
    assert "--config-file" not in cli.by_verb("preview")[0]


def test_preview_of_a_missing_stack_is_an_error_not_a_crash() -> None:
    outcome = deployer(FakePulumiCLI({})).preview("ap-southeast", NEW)
    assert not outcome.ok
    assert "no stack named 'ap-southeast' found" in (outcome.error or "")


def test_record_good_sets_both_tags() -> None:
    cli = FakePulumiCLI({"eu-west": CLIStack()})
    deployer(cli).record_good("eu-west", NEW, OLD)
    assert cli.stacks["eu-west"].tags == {LAST_GOOD_TAG: NEW, PREVIOUS_GOOD_TAG: OLD}
    assert ["stack", "tag", "set", LAST_GOOD_TAG, NEW, "--stack", "eu-west"] in cli.calls


@pytest.mark.parametrize("previous", [None, NEW])
def test_record_good_keeps_the_previous_tag_when_there_is_nothing_new(previous: str | None) -> None:
    cli = FakePulumiCLI({"eu-west": CLIStack(tags={PREVIOUS_GOOD_TAG: OLD})})
    deployer(cli).record_good("eu-west", NEW, previous)
    assert cli.stacks["eu-west"].tags[PREVIOUS_GOOD_TAG] == OLD


@pytest.mark.parametrize(("image", "expected"), [(None, {}), (OLD, {LAST_GOOD_TAG: OLD})])
def test_restore_last_good_sets_or_removes_the_tag(image: str | None, expected: dict) -> None:
    cli = FakePulumiCLI({"eu-west": CLIStack(tags={LAST_GOOD_TAG: NEW})})
    deployer(cli).restore_last_good("eu-west", image)
    assert cli.stacks["eu-west"].tags == expected


def test_the_workspace_passes_its_environment_to_every_command() -> None:
    cli = FakePulumiCLI({"eu-west": CLIStack()})
    deployer(cli).state("eu-west")
    assert all(env.get("X") == "1" for env in cli.envs)


def test_a_stack_pulumi_cannot_read_stops_the_release_with_its_error() -> None:
    import io

    from meridian.release.cli import rollout_main
    from tests.manifests import THREE_REGIONS

    class Broken(FakePulumiCLI):
        def run(self, args, cwd, additional_env, on_output=None, on_error=None):  # type: ignore[no-untyped-def]
            if args[:3] == ["stack", "tag", "ls"]:
                return self._fail("error: failed to load checkpoint: blob not found")
            return super().run(args, cwd, additional_env, on_output, on_error)

    cli = Broken({k: CLIStack() for k in ("global", "us-east", "eu-west", "ap-southeast")})
    err = io.StringIO()
    code = rollout_main(
        ["--manifest", str(THREE_REGIONS), "--image", NEW],
        env={},
        deployer_factory=lambda log: PulumiDeployer(ROOT, pulumi_command=cli, log=log),
        gate_factory=lambda *a: None,  # type: ignore[arg-type,return-value]
        stdout=io.StringIO(),
        stderr=err,
    )
    assert code == 1
    assert "rollout: reading stack us-east: error: failed to load checkpoint" in err.getvalue()
    assert not cli.by_verb("up")


def test_the_command_line_builds_the_real_deployer_on_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meridian.release.cli import real_deployer

    cli = tmp_path / "pulumi"
    cli.write_text("#!/bin/sh\necho v3.211.0\n")
    cli.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    d = real_deployer(lambda line: None)
    assert isinstance(d, PulumiDeployer)
    assert d.project_dir == ROOT
    assert d._command is not None and str(d._command.version) == "3.211.0"
    assert d._workspace is None  # nothing runs until a stack is read
