"""What a release works with: stack names, waves, the deployer and gate interfaces, and the
decisions that need no cloud (which regions to skip, what to roll back to)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from infra.manifest import GLOBAL_KEY, Manifest
from infra.program import RegionOutput
from meridian.images import pinned_image

# Stack config the program reads: the image a region stack deploys (infra/program.py).
IMAGE_CONFIG = "meridian:image"
# Stack tags the program never sees: the last image that passed this stack's smoke gate, and the
# one that passed before it (what `--rollback-all` returns a region to once the new one passed).
LAST_GOOD_TAG = "meridian:lastGoodImage"
PREVIOUS_GOOD_TAG = "meridian:previousGoodImage"
# How a rollback names an image it returns to that no smoke gate ever passed.
NEVER_GATED = "previously deployed, never gated"
# Resource operations that change nothing in the cloud.
UNCHANGED_OPS = frozenset({"same", "read", "refresh", "discard"})

Log = Callable[[str], None]


class PlanError(Exception):
    """A usage problem found before anything was deployed (exit 2)."""


class DeployerUnavailable(Exception):
    """The infrastructure tool cannot be used at all (e.g. no `pulumi` CLI); nothing ran (exit 2)."""


@dataclass(frozen=True)
class StackNames:
    """Stack names: `global` and one per region key, optionally `<prefix>-…` and `<org>/…`."""

    prefix: str = ""
    org: str | None = None

    def _qualify(self, name: str) -> str:
        name = f"{self.prefix}-{name}" if self.prefix else name
        return f"{self.org}/{name}" if self.org else name

    @property
    def global_stack(self) -> str:
        return self._qualify(GLOBAL_KEY)

    def region(self, key: str) -> str:
        return self._qualify(key)


@dataclass(frozen=True)
class StackState:
    """What a stack holds now: whether it exists, its outputs (secrets left out) and its tags."""

    stack: str
    exists: bool = True
    outputs: Mapping[str, Any] = field(default_factory=dict)
    last_good: str | None = None
    previous_good: str | None = None

    @property
    def image(self) -> str | None:
        value = self.outputs.get(RegionOutput.IMAGE)
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class UpOutcome:
    """One `up`: whether it succeeded, its resource changes, the new outputs, or the error."""

    ok: bool
    changes: Mapping[str, int] = field(default_factory=dict)
    outputs: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def summary(self) -> str:
        if not self.ok:
            return "failed"
        return changes_text(self.changes) or "no changes"


@dataclass(frozen=True)
class ResourceChange:
    """One resource a preview would change."""

    op: str
    type: str
    name: str
    diffs: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"op": self.op, "type": self.type, "name": self.name, "diffs": list(self.diffs)}


@dataclass(frozen=True)
class PreviewOutcome:
    """One preview: counts per operation and the resources that would change, or the error."""

    stack: str
    ok: bool
    changes: Mapping[str, int] = field(default_factory=dict)
    resources: tuple[ResourceChange, ...] = ()
    error: str | None = None
    image: str | None = None

    @property
    def changed(self) -> int:
        return sum(n for op, n in self.changes.items() if op not in UNCHANGED_OPS)

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "ok": self.ok,
            "image": self.image,
            "changed": self.changed,
            "changes": dict(self.changes),
            "resources": [r.as_json() for r in self.resources],
            "error": self.error,
        }


@dataclass(frozen=True)
class GateOutcome:
    """One smoke gate: passed or not, the first-reply latency, and why it failed."""

    ok: bool
    reply_latency_ms: float | None = None
    failed_step: str | None = None
    reason: str | None = None
    hint: str | None = None
    detail: Mapping[str, Any] | None = None


class Deployer(Protocol):
    """What a release asks of the infrastructure tool, per stack."""

    def state(self, stack: str) -> StackState: ...

    def up(self, stack: str, image: str | None) -> UpOutcome:
        """Deploy `stack`, setting its image config first when `image` is given."""
        ...

    def preview(self, stack: str, image: str | None, *, refresh: bool = False) -> PreviewOutcome:
        """What `up` would change with `image` (None: the stack's config as it is); changes
        nothing, not even the stack's config file."""
        ...

    def record_good(self, stack: str, image: str, previous: str | None) -> None:
        """Record `image` as the stack's last good image and `previous` as the one before."""
        ...

    def restore_last_good(self, stack: str, image: str | None) -> None:
        """Set the stack's last good image back to `image`, or remove the tag when None."""
        ...


class Gate(Protocol):
    """The smoke test of one region, given its stack outputs."""

    def check(self, region: str, outputs: Mapping[str, Any]) -> GateOutcome: ...


@dataclass(frozen=True)
class Wave:
    """One step of a rollout: the canary (index 0), then `wave-1`, `wave-2`, …"""

    index: int
    regions: tuple[str, ...]

    @property
    def name(self) -> str:
        return "canary" if self.index == 0 else f"wave-{self.index}"

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "name": self.name, "regions": list(self.regions)}


def waves(manifest: Manifest) -> list[Wave]:
    """The waves regions.yaml declares, canary first."""
    return [Wave(i, tuple(keys)) for i, keys in enumerate(manifest.rollout_waves)]


def select_waves(all_waves: Sequence[Wave], only: int | None) -> list[Wave]:
    """Every wave, or wave `only` alone (0 is the canary)."""
    if only is None:
        return list(all_waves)
    if not 0 <= only < len(all_waves):
        names = ", ".join(f"{w.index} ({w.name}: {' '.join(w.regions)})" for w in all_waves)
        raise PlanError(f"--wave {only}: regions.yaml declares waves {names}")
    return [all_waves[only]]


def release_image(value: str) -> str:
    """The image a release deploys: a reference pinned by digest, never a tag."""
    try:
        return pinned_image(value, require_digest=True)
    except ValueError as exc:
        raise PlanError(f"--image: {exc}") from None


def already_done(state: StackState, image: str) -> bool:
    """Whether a region runs `image` and passed its smoke gate on it, so a resumed release skips it."""
    return state.exists and state.image == image and state.last_good == image


def unfinished(states: Mapping[str, StackState], regions: Sequence[str], image: str) -> list[str]:
    """The `regions` that are not yet done with `image`."""
    return [key for key in regions if not already_done(states[key], image)]


@dataclass(frozen=True)
class RollbackTarget:
    """The image a region goes back to, and where that choice came from."""

    image: str
    source: str

    @property
    def gated(self) -> bool:
        """Whether this image passed this region's smoke gate (it is a recorded good image)."""
        return self.source != NEVER_GATED


def rollback_target(state: StackState, new_image: str) -> RollbackTarget | None:
    """Where a region goes back to from `new_image`: its last good image; if the new image is
    already its last good one (it passed earlier), the one before; failing both, the image it ran
    before the release, which never passed a gate here. None when there is nothing to go back to."""
    if state.last_good and state.last_good != new_image:
        return RollbackTarget(state.last_good, "last good")
    if state.last_good == new_image and state.previous_good and state.previous_good != new_image:
        return RollbackTarget(state.previous_good, "previous good")
    if state.image and state.image != new_image:
        return RollbackTarget(state.image, NEVER_GATED)
    return None


def changes_text(changes: Mapping[str, int]) -> str:
    """`2 update, 1 create` from a change summary, unchanged resources left out."""
    return ", ".join(
        f"{n} {op}" for op, n in sorted(changes.items()) if n and op not in UNCHANGED_OPS
    )


def short_image(ref: str | None) -> str:
    """An image reference short enough for a table: last path part and 12 digest characters."""
    if not ref:
        return "-"
    name, _, digest = ref.partition("@")
    name = name.rsplit("/", 1)[-1]
    if digest:
        algo, _, hexes = digest.partition(":")
        return f"{name}@{algo}:{hexes[:12]}"
    return name
