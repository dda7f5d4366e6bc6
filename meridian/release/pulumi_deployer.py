"""The real deployer: the Pulumi Automation API on the project at the repository root.

Every stack is selected in a LocalWorkspace on the project directory (Pulumi.yaml, program in
infra/), so `up` and `preview` run the same program as `pulumi up` does. The image a region
deploys is stack config `meridian:image`; the last image that passed a stack's smoke gate is the
stack tag `meridian:lastGoodImage` (and `meridian:previousGoodImage`), kept by the backend, which
the program never reads.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto
from pulumi.automation._env import _SKIP_VERSION_CHECK_VAR
from pulumi.automation._minimum_version import _MINIMUM_VERSION
from pulumi.automation.events import EngineEvent
from semver import VersionInfo

from infra.manifest import ROOT
from meridian.release.plan import (
    IMAGE_CONFIG,
    LAST_GOOD_TAG,
    PREVIOUS_GOOD_TAG,
    UNCHANGED_OPS,
    DeployerUnavailable,
    Log,
    PreviewOutcome,
    ResourceChange,
    StackState,
    UpOutcome,
)

# How many lines of a failed command's error output a report quotes.
ERROR_LINES = 6

# The oldest `pulumi` CLI a release can use. The Automation API of the locked `pulumi` package
# declares its own minimum (pulumi/automation/_minimum_version.py, 3.1.0 in pulumi 3.272); the
# release also needs stack tags, where it records each stack's last good image, and DIY backends
# (azblob, S3, a folder) keep those only since CLI 3.211.0 (pulumi/pulumi#21203): older ones
# accept `stack tag set` and drop the tag.
STACK_TAGS_ON_DIY_BACKENDS = VersionInfo(3, 211, 0)
MIN_PULUMI_CLI = max(_MINIMUM_VERSION, STACK_TAGS_ON_DIY_BACKENDS)
INSTALL_PULUMI = (
    "install it with `curl -fsSL https://get.pulumi.com | sh` (or see"
    " https://www.pulumi.com/docs/install/) and put ~/.pulumi/bin on PATH"
)


class DeployerError(RuntimeError):
    """Pulumi failed while reading or tagging a stack; str() quotes what it said."""


class PulumiCLIError(DeployerUnavailable):
    """No usable `pulumi` CLI: missing, too old, or not answering `pulumi version` (exit 2)."""


def pulumi_cli(command: str = "pulumi") -> auto.PulumiCommand:
    """The `pulumi` CLI on PATH, checked to be MIN_PULUMI_CLI or newer; PulumiCLIError (one line
    saying what to install) otherwise."""
    root = None
    if os.sep in command:  # <root>/bin/pulumi, as PulumiCommand takes it
        root = os.path.dirname(os.path.dirname(command))
    try:
        cli = auto.PulumiCommand(root=root, skip_version_check=True)
    except FileNotFoundError:
        raise PulumiCLIError(
            f"the Pulumi CLI (`{command}`) is not on PATH; {INSTALL_PULUMI}"
            f" (version {MIN_PULUMI_CLI} or newer)"
        ) from None
    except (OSError, subprocess.CalledProcessError) as exc:
        raise PulumiCLIError(f"`{command} version` failed ({exc}); {INSTALL_PULUMI}") from None
    if os.getenv(_SKIP_VERSION_CHECK_VAR) is None and (
        cli.version is None or cli.version.compare(MIN_PULUMI_CLI) < 0
    ):
        found = cli.version or "a version it cannot parse"
        raise PulumiCLIError(
            f"the Pulumi CLI on PATH is {found}; Meridian's releases need {MIN_PULUMI_CLI} or"
            f" newer (stack tags on every backend): update it with `pulumi self-update`, or"
            f" {INSTALL_PULUMI}"
        )
    return cli


class PulumiDeployer:
    """`Deployer` on pulumi.automation. `pulumi_command` is the process boundary (the CLI)."""

    def __init__(
        self,
        project_dir: Path = ROOT,
        *,
        log: Log | None = None,
        env_vars: Mapping[str, str] | None = None,
        pulumi_command: auto.PulumiCommand | None = None,
    ) -> None:
        self.project_dir = Path(project_dir)
        self.log = log or (lambda _: None)
        self.env_vars = dict(env_vars or {})
        self._command = pulumi_command
        self._workspace: auto.LocalWorkspace | None = None

    def workspace(self) -> auto.LocalWorkspace:
        """The one LocalWorkspace on the project directory (created on first use)."""
        if self._workspace is None:
            self._workspace = auto.LocalWorkspace(
                work_dir=str(self.project_dir),
                env_vars=self.env_vars,
                pulumi_command=self._command,
            )
        return self._workspace

    def select(self, stack: str) -> auto.Stack:
        """The existing stack `stack` (StackNotFoundError if there is none; never creates one)."""
        return auto.Stack.select(stack, self.workspace())

    # --- Deployer ----------------------------------------------------------------------------

    def state(self, stack: str) -> StackState:
        try:
            selected = self.select(stack)
        except auto.StackNotFoundError:
            return StackState(stack, exists=False)
        except auto.CommandError as exc:
            raise DeployerError(f"reading stack {stack}: {error_text(exc)}") from None
        try:
            outputs = {k: v.value for k, v in selected.outputs().items() if not v.secret}
            tags = {k: v for k, v in selected.list_tags().items() if v}
        except auto.CommandError as exc:
            raise DeployerError(f"reading stack {stack}: {error_text(exc)}") from None
        return StackState(
            stack,
            outputs=outputs,
            last_good=tags.get(LAST_GOOD_TAG),
            previous_good=tags.get(PREVIOUS_GOOD_TAG),
        )

    def up(self, stack: str, image: str | None) -> UpOutcome:
        try:
            selected = self.select(stack)
            if image is not None:
                selected.set_config(IMAGE_CONFIG, auto.ConfigValue(image))
            result = selected.up(
                color="never",
                show_secrets=False,
                suppress_outputs=True,
                on_event=self._progress(stack),
            )
        except auto.CommandError as exc:
            return UpOutcome(False, error=error_text(exc))
        changes = dict(result.summary.resource_changes or {})
        outputs = {k: v.value for k, v in result.outputs.items() if not v.secret}
        if result.summary.result != "succeeded":
            return UpOutcome(False, changes, outputs, error=f"update {result.summary.result}")
        return UpOutcome(True, changes, outputs)

    def preview(self, stack: str, image: str | None, *, refresh: bool = False) -> PreviewOutcome:
        resources: list[ResourceChange] = []

        def on_event(event: EngineEvent) -> None:
            change = resource_change(event)
            if change is not None:
                resources.append(change)

        try:
            selected = self.select(stack)
            with tempfile.TemporaryDirectory(prefix="meridian-preview-") as tmp:
                config_file = None
                if image is not None:
                    config_file = self.config_file_with_image(stack, image, Path(tmp))
                result = selected.preview(
                    color="never",
                    refresh=refresh or None,
                    config_file=config_file,
                    suppress_outputs=True,
                    on_event=on_event,
                )
        except auto.CommandError as exc:
            return PreviewOutcome(stack, False, error=error_text(exc))
        return PreviewOutcome(stack, True, dict(result.change_summary), tuple(resources))

    def record_good(self, stack: str, image: str, previous: str | None) -> None:
        try:
            selected = self.select(stack)
            selected.set_tag(LAST_GOOD_TAG, image)
            if previous and previous != image:
                selected.set_tag(PREVIOUS_GOOD_TAG, previous)
        except auto.CommandError as exc:
            raise DeployerError(f"tagging stack {stack}: {error_text(exc)}") from None

    def restore_last_good(self, stack: str, image: str | None) -> None:
        try:
            selected = self.select(stack)
            if image is None:
                if LAST_GOOD_TAG in selected.list_tags():
                    selected.remove_tag(LAST_GOOD_TAG)
            else:
                selected.set_tag(LAST_GOOD_TAG, image)
        except auto.CommandError as exc:
            raise DeployerError(f"tagging stack {stack}: {error_text(exc)}") from None

    # --- helpers -----------------------------------------------------------------------------

    def config_file_with_image(self, stack: str, image: str, directory: Path) -> str:
        """A copy of the stack's settings file (config, secrets provider, salt) with
        `meridian:image` set, so a preview can try an image without touching the real file."""
        name = stack.rsplit("/", 1)[-1]
        settings: dict[str, Any] = {}
        for ext in (".yaml", ".yml", ".json"):
            path = self.project_dir / f"Pulumi.{name}{ext}"
            if path.exists():
                settings = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                break
        config = dict(settings.get("config") or {})
        config[IMAGE_CONFIG] = image
        settings["config"] = config
        target = directory / f"Pulumi.{name}.yaml"
        target.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
        return str(target)

    def _progress(self, stack: str) -> Callable[[EngineEvent], None]:
        def on_event(event: EngineEvent) -> None:
            change = resource_change(event)
            if change is not None:
                self.log(f"  {stack}: {change.op} {change.type} {change.name}")
            if event.diagnostic_event and event.diagnostic_event.severity == "error":
                self.log(f"  {stack}: error: {event.diagnostic_event.message.strip()}")

        return on_event


def resource_change(event: EngineEvent) -> ResourceChange | None:
    """The resource an engine event says will change, or None (unchanged, or another event)."""
    pre = event.resource_pre_event
    if pre is None or pre.metadata is None:
        return None
    meta = pre.metadata
    op = getattr(meta.op, "value", str(meta.op))
    if op in UNCHANGED_OPS:
        return None
    urn = meta.urn or ""
    name = urn.rsplit("::", 1)[-1] if "::" in urn else urn
    return ResourceChange(op, meta.type or "", name, tuple(meta.diffs or ()))


def error_text(exc: auto.CommandError) -> str:
    """The last lines of a failed command's error output: what `pulumi` said went wrong."""
    # str(CommandError) is "code: N / stdout: … / stderr: …", one per line.
    lines = []
    for line in str(exc).splitlines():
        line = re.sub(r"^\s*(stdout|stderr):\s*", "", line).strip()
        if line and not re.fullmatch(r"code: -?\d+", line):
            lines.append(line)
    errors = [line for line in lines if "error" in line.lower()] or lines
    return " | ".join(errors[-ERROR_LINES:]) or type(exc).__name__
