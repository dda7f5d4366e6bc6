"""Test doubles for the release: an in-memory deployer and a scripted smoke gate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.program import RegionOutput
from meridian.release.plan import (
    LAST_GOOD_TAG,
    PREVIOUS_GOOD_TAG,
    GateOutcome,
    PreviewOutcome,
    ResourceChange,
    StackState,
    UpOutcome,
)
from tests.manifests import THREE_REGIONS

REGISTRY = "meridianacr.azurecr.io/meridian-agent"
OLD = f"{REGISTRY}@sha256:{'a' * 64}"
NEW = f"{REGISTRY}@sha256:{'b' * 64}"
OLDER = f"{REGISTRY}@sha256:{'c' * 64}"


def image_ref(char: str) -> str:
    return f"{REGISTRY}@sha256:{char * 64}"


def five_regions(tmp_path: Path) -> Path:
    """The three-region fixture plus sa-east and au-east: waves [eu-west], [us-east,
    ap-southeast], [sa-east, au-east]."""
    text = THREE_REGIONS.read_text(encoding="utf-8")
    text += "  sa-east:\n    location: brazilsouth\n  au-east:\n    location: australiaeast\n"
    path = tmp_path / "regions.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class FakeStack:
    image: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    exists: bool = True
    config_image: str | None = None
    drift: tuple[ResourceChange, ...] = ()
    # An infrastructure change the program has and the stack does not yet: every preview shows
    # it, and the next successful `up` applies it (whatever image it deploys).
    pending: tuple[ResourceChange, ...] = ()

    def outputs(self, key: str) -> dict[str, Any]:
        if self.image is None:
            return {}
        return {
            RegionOutput.REGION: key,
            RegionOutput.IMAGE: self.image,
            RegionOutput.DISPATCH_URL: f"https://dispatch-{key}.example.test",
            RegionOutput.LATEST_REVISION: f"{key}--rev{len(self.image) % 7}",
        }


class FakeDeployer:
    """Stacks in memory. `fail_up` holds (stack, image) pairs whose `up` fails, `raise_up` those
    whose `up` raises, `raise_record` the stacks whose tags cannot be written, and
    `fail_preview` the stacks whose preview fails."""

    def __init__(self, stacks: Mapping[str, FakeStack]) -> None:
        self.stacks = dict(stacks)
        self.calls: list[tuple[str, ...]] = []
        self.fail_up: set[tuple[str, str | None]] = set()
        self.raise_up: set[tuple[str, str | None]] = set()
        self.raise_record: set[str] = set()
        self.fail_preview: set[str] = set()

    def state(self, stack: str) -> StackState:
        self.calls.append(("state", stack))
        s = self.stacks.get(stack)
        if s is None or not s.exists:
            return StackState(stack, exists=False)
        return StackState(
            stack,
            outputs=s.outputs(stack),
            last_good=s.tags.get(LAST_GOOD_TAG),
            previous_good=s.tags.get(PREVIOUS_GOOD_TAG),
        )

    def up(self, stack: str, image: str | None) -> UpOutcome:
        self.calls.append(("up", stack, image or "-"))
        s = self.stacks[stack]
        if image is not None:
            s.config_image = image
        if (stack, image) in self.raise_up:
            raise RuntimeError("pulumi: the engine crashed")
        if (stack, image) in self.fail_up:
            return UpOutcome(False, error="error: the container app failed to provision")
        if image is not None:
            s.image = image
        applied, s.pending = len(s.pending), ()
        return UpOutcome(True, {"update": 1 + applied, "same": 9}, s.outputs(stack))

    def preview(self, stack: str, image: str | None, *, refresh: bool = False) -> PreviewOutcome:
        self.calls.append(("preview", stack, image or "-", "refresh" if refresh else ""))
        s = self.stacks.get(stack)
        if s is None or not s.exists:
            return PreviewOutcome(stack, False, error="no stack named")
        if stack in self.fail_preview:
            return PreviewOutcome(stack, False, error="error: the program raised during preview")
        resources = [*s.drift, *s.pending]
        if image is not None and image != s.image:
            resources.append(ResourceChange("update", "azure-native:app:ContainerApp", "agent"))
        changes: dict[str, int] = {"same": 10}
        for r in resources:
            changes[r.op] = changes.get(r.op, 0) + 1
        return PreviewOutcome(stack, True, changes, tuple(resources))

    def record_good(self, stack: str, image: str, previous: str | None) -> None:
        self.calls.append(("record_good", stack, image))
        if stack in self.raise_record:
            raise RuntimeError(f"tagging stack {stack}: error: the backend refused the tag")
        tags = self.stacks[stack].tags
        tags[LAST_GOOD_TAG] = image
        if previous and previous != image:
            tags[PREVIOUS_GOOD_TAG] = previous

    def restore_last_good(self, stack: str, image: str | None) -> None:
        self.calls.append(("restore_last_good", stack, image or "-"))
        tags = self.stacks[stack].tags
        if image is None:
            tags.pop(LAST_GOOD_TAG, None)
        else:
            tags[LAST_GOOD_TAG] = image

    def ups(self) -> list[tuple[str, ...]]:
        return [c for c in self.calls if c[0] == "up"]

    def mutations(self) -> list[tuple[str, ...]]:
        return [c for c in self.calls if c[0] in ("up", "record_good", "restore_last_good")]


class FakeGate:
    """Passes every region unless `failing` names it, or `failing_on` names it with the image it
    runs (or `raising` gives what its check raises); records what it was asked."""

    def __init__(
        self,
        failing: set[str] | None = None,
        raising: Mapping[str, Exception] | None = None,
        failing_on: set[tuple[str, str]] | None = None,
    ) -> None:
        self.failing = failing or set()
        self.failing_on = failing_on or set()
        self.raising = dict(raising or {})
        self.checked: list[tuple[str, str | None]] = []

    def check(self, region: str, outputs: Mapping[str, Any]) -> GateOutcome:
        image = outputs.get(RegionOutput.IMAGE)
        self.checked.append((region, image))
        if region in self.raising:
            raise self.raising[region]
        if region in self.failing or (region, image) in self.failing_on:
            return GateOutcome(
                False,
                failed_step="Agent arrives",
                reason="no agent joined within 20 s",
                hint="are workers registered as support-agent-" + region + "?",
            )
        return GateOutcome(True, reply_latency_ms=812.4)


def fleet(keys: list[str], image: str | None = OLD, prefix: str = "") -> dict[str, FakeStack]:
    """A global stack and one stack per region, every region on `image` with it recorded good."""
    name = (lambda k: f"{prefix}-{k}") if prefix else (lambda k: k)
    stacks = {name("global"): FakeStack()}
    for key in keys:
        tags = {LAST_GOOD_TAG: image} if image else {}
        stacks[name(key)] = FakeStack(image=image, tags=tags)
    return stacks
