"""The release state machine: the global stack, then each wave's regions one by one, each `up`
followed by its smoke gate; at the first failure, roll back and stop.

A rollback is an `up` of the same program with the last good image: it changes the image, never
the infrastructure. So a region whose stack has an infrastructure change pending (the release's
commit changed infra, or regions.yaml) gets that change first, with the image it already runs,
gated; only then the new image. The state a failed image rolls back to is then one that passed
a gate, and an infrastructure change that breaks a region is caught before the new image is
involved, and reported as one that a rollback cannot undo."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from infra.manifest import Manifest
from meridian.release.plan import (
    LAST_GOOD_TAG,
    Deployer,
    Gate,
    GateOutcome,
    Log,
    PreviewOutcome,
    RollbackTarget,
    StackNames,
    StackState,
    UpOutcome,
    Wave,
    already_done,
    changes_text,
    rollback_target,
    select_waves,
    unfinished,
    waves,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

UpStatus = Literal["updated", "failed", "skipped", "not run"]
GateStatus = Literal["passed", "failed", "skipped", "not run"]
# The infrastructure step: nothing pending, applied (and gated) with the running image, failed,
# or folded into the image's own `up` because there is no other image to test it with.
InfraStatus = Literal["no change", "updated", "failed", "with image", "skipped", "not run"]
# What the report says of a region whose infrastructure change failed: an image rollback would
# re-apply the same change.
INFRA_NOT_ROLLED_BACK = (
    "not rolled back: its infrastructure change failed with the image it already ran, and a"
    " rollback applies the same infrastructure; revert the change and release again"
)
NOTHING_DEPLOYED = "not rolled back: nothing was deployed to it"


@dataclass(frozen=True)
class RegionReport:
    """What happened to one region in a release."""

    region: str
    stack: str
    wave: str
    old_image: str | None
    new_image: str
    infra: InfraStatus = "not run"
    infra_changes: str | None = None
    up: UpStatus = "not run"
    smoke: GateStatus = "not run"
    reply_latency_ms: float | None = None
    seconds: float | None = None
    detail: str | None = None
    rollback: str | None = None
    rollback_image: str | None = None
    up_changes: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "stack": self.stack,
            "wave": self.wave,
            "old_image": self.old_image,
            "new_image": self.new_image,
            "infra": self.infra,
            "infra_changes": self.infra_changes,
            "up": self.up,
            "up_changes": self.up_changes,
            "smoke": self.smoke,
            "reply_latency_ms": None
            if self.reply_latency_ms is None
            else round(self.reply_latency_ms, 1),
            "seconds": None if self.seconds is None else round(self.seconds, 1),
            "detail": self.detail,
            "rollback": self.rollback,
            "rollback_image": self.rollback_image,
        }


@dataclass
class ReleaseReport:
    """The whole release: the global stack's `up`, every region's row, and the failed step."""

    image: str
    waves: list[Wave]
    global_stack: str
    global_up: str = "not run"
    regions: list[RegionReport] = field(default_factory=list)
    failed_step: str | None = None
    rollbacks: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failed_step is None

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_FAILED

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "exit_code": self.exit_code,
            "image": self.image,
            "waves": [w.as_json() for w in self.waves],
            "global": {"stack": self.global_stack, "up": self.global_up},
            "regions": [r.as_json() for r in self.regions],
            "failed_step": self.failed_step,
            "rollbacks": self.rollbacks,
            "seconds": round(self.seconds, 1),
        }


@dataclass
class PreviewReport:
    """`--preview`: what each stack would change; nothing was changed."""

    image: str | None
    stacks: list[PreviewOutcome]

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.stacks)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_FAILED

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "exit_code": self.exit_code,
            "image": self.image,
            "stacks": [p.as_json() for p in self.stacks],
        }


class Progress:
    """Live progress lines, each with the time elapsed since the release started."""

    def __init__(self, log: Log, clock: Callable[[], float] = time.monotonic) -> None:
        self._log = log
        self._clock = clock
        self._start = clock()

    def elapsed(self) -> float:
        return self._clock() - self._start

    def __call__(self, message: str) -> None:
        seconds = int(self.elapsed())
        self._log(f"[{seconds // 60:02d}:{seconds % 60:02d}] {message}")


class Release:
    """Deploys `image` to the global stack and then wave by wave, gating every region."""

    def __init__(
        self,
        manifest: Manifest,
        names: StackNames,
        deployer: Deployer,
        gate: Gate,
        image: str,
        *,
        only_wave: int | None = None,
        rollback_all: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.manifest = manifest
        self.names = names
        self.deployer = deployer
        self.gate = gate
        self.image = image
        self.all_waves = waves(manifest)
        self.waves = select_waves(self.all_waves, only_wave)
        self.rollback_all = rollback_all
        self.progress = progress or Progress(lambda _: None)

    def run(self) -> ReleaseReport:
        report = ReleaseReport(self.image, self.waves, self.names.global_stack)
        try:
            self._run(report)
        finally:
            report.seconds = self.progress.elapsed()
        return report

    def _run(self, report: ReleaseReport) -> None:
        say = self.progress
        states = {key: self.deployer.state(self.names.region(key)) for key in self.manifest.regions}
        for wave in self.waves:
            for key in wave.regions:
                report.regions.append(
                    RegionReport(
                        key, self.names.region(key), wave.name, states[key].image, self.image
                    )
                )
        missing = [r.stack for r in report.regions if not states[r.region].exists]
        if missing:
            report.failed_step = (
                f"preflight: stack(s) {', '.join(missing)} do not exist; create each with its"
                " secrets first (docs/release.md, one-time setup)"
            )
            return
        first = self.waves[0].index
        if first > 0:
            earlier = [k for w in self.all_waves[:first] for k in w.regions]
            behind = unfinished(states, earlier, self.image)
            if behind:
                report.failed_step = (
                    f"preflight: {self.waves[0].name} runs after the earlier waves, but"
                    f" {', '.join(behind)} {'is' if len(behind) == 1 else 'are'} not yet on"
                    " this image with a passed gate; run those waves first"
                )
                return

        say(f"global: up {self.names.global_stack}")
        outcome = self._safe_up(self.names.global_stack, None)
        report.global_up = outcome.summary
        if not outcome.ok:
            report.failed_step = f"up {self.names.global_stack}: {outcome.error or 'failed'}"
            say(f"global: FAILED: {outcome.error}")
            return
        say(f"global: {outcome.summary}")

        total = len(self.all_waves)
        for wave in self.waves:
            say(f"{wave.name} (wave {wave.index + 1}/{total}): {', '.join(wave.regions)}")
            for key in wave.regions:
                index = next(i for i, r in enumerate(report.regions) if r.region == key)
                row, failure = self._region(report.regions[index], states[key])
                report.regions[index] = row
                if failure:
                    report.failed_step = failure.step
                    self._roll_back(report, states, key, left_as_is=failure.note)
                    return

    def _safe_up(self, stack: str, image: str | None) -> UpOutcome:
        """`up`; anything the deployer raises is a failed `up`, not an escape from the release."""
        try:
            return self.deployer.up(stack, image)
        except Exception as exc:
            return UpOutcome(False, error=_describe(exc))

    def _safe_preview(self, stack: str, image: str) -> PreviewOutcome:
        try:
            return self.deployer.preview(stack, image)
        except Exception as exc:
            return PreviewOutcome(stack, False, error=_describe(exc))

    def _safe_gate(self, key: str, outputs: Mapping[str, Any]) -> GateOutcome:
        """The smoke gate; anything it raises (a bad LIVEKIT_URL, a crash) is a failed gate."""
        try:
            return self.gate.check(key, outputs)
        except Exception as exc:
            return GateOutcome(False, failed_step="smoke gate", reason=_describe(exc))

    def _region(self, row: RegionReport, state: StackState) -> tuple[RegionReport, _Failure | None]:
        """One region: its infrastructure change with the running image (gated), then the new
        image: up, gate, record. Every failure, raised or returned, is a failed step."""
        say = self.progress
        key = row.region
        started = self.progress.elapsed()

        def took() -> float:
            return self.progress.elapsed() - started

        if already_done(state, self.image):
            say(f"{key}: already on this image and its gate passed; skipped")
            row = replace(row, infra="skipped", up="skipped", smoke="skipped")
            return replace(row, detail="already done"), None
        row, failure = self._infrastructure_first(row, state)
        if failure:
            return replace(row, seconds=took()), failure
        say(f"{key}: up {row.stack} with {self.image}")
        outcome = self._safe_up(row.stack, self.image)
        if not outcome.ok:
            say(f"{key}: up FAILED after {took():.0f} s: {outcome.error}")
            failed = replace(row, up="failed", seconds=took(), detail=outcome.error)
            return failed, _Failure(f"up {row.stack}: {outcome.error or 'failed'}")
        row = replace(row, up="updated", up_changes=outcome.summary)
        say(f"{key}: up done ({outcome.summary}); smoke test")
        gate = self._safe_gate(key, outcome.outputs)
        row = replace(row, reply_latency_ms=gate.reply_latency_ms)
        if not gate.ok:
            reason = f"{gate.failed_step or 'smoke'}: {gate.reason or 'failed'}"
            say(f"{key}: smoke FAILED after {took():.0f} s at {reason}")
            detail = reason + (f" (hint: {gate.hint})" if gate.hint else "")
            return (
                replace(row, smoke="failed", seconds=took(), detail=detail),
                _Failure(f"smoke test of {key}: {reason}"),
            )
        try:
            self.deployer.record_good(row.stack, self.image, state.last_good)
        except Exception as exc:
            # Unrecorded, a pass would not be known to a resumed release or a later rollback.
            reason = f"recording {LAST_GOOD_TAG} failed: {_describe(exc)}"
            say(f"{key}: smoke passed, but {reason}")
            return (
                replace(row, smoke="failed", seconds=took(), detail=reason),
                _Failure(f"smoke test of {key}: {reason}"),
            )
        latency = "-" if gate.reply_latency_ms is None else f"{gate.reply_latency_ms:.0f} ms"
        say(f"{key}: smoke passed (first reply {latency}) in {took():.0f} s")
        return replace(row, smoke="passed", seconds=took()), None

    def _infrastructure_first(
        self, row: RegionReport, state: StackState
    ) -> tuple[RegionReport, _Failure | None]:
        """Apply the region's pending infrastructure change with the image it already runs, and
        gate it, so that a later image rollback returns to a state that passed. Without another
        image to test it with (a first deploy, or a re-run of the same image) the change goes
        with the image's own `up`."""
        say = self.progress
        key, running = row.region, state.image
        if running is None or running == self.image:
            return replace(row, infra="with image"), None
        preview = self._safe_preview(row.stack, running)
        if not preview.ok:
            error = preview.error or "failed"
            say(f"{key}: preview FAILED: {error}")
            return replace(row, infra="failed", detail=f"preview: {error}"), _Failure(
                f"preview {row.stack}: {error}", note=NOTHING_DEPLOYED
            )
        if not preview.changed:
            return replace(row, infra="no change"), None
        changes = changes_text(preview.changes)
        say(f"{key}: infrastructure change pending ({changes}); up with the running {running}")
        outcome = self._safe_up(row.stack, running)
        row = replace(row, infra_changes=outcome.summary if outcome.ok else changes)
        if not outcome.ok:
            say(f"{key}: infrastructure up FAILED: {outcome.error}")
            return replace(row, infra="failed", detail=f"infrastructure up: {outcome.error}"), (
                _Failure(
                    f"infrastructure up {row.stack}: {outcome.error or 'failed'}",
                    note=INFRA_NOT_ROLLED_BACK,
                )
            )
        say(f"{key}: infrastructure up done ({outcome.summary}); smoke test")
        gate = self._safe_gate(key, outcome.outputs)
        if not gate.ok:
            reason = f"{gate.failed_step or 'smoke'}: {gate.reason or 'failed'}"
            say(f"{key}: smoke FAILED on the infrastructure change at {reason}")
            detail = f"infrastructure change, smoke test with {running}: {reason}" + (
                f" (hint: {gate.hint})" if gate.hint else ""
            )
            return replace(row, infra="failed", detail=detail), _Failure(
                f"smoke test of {key} after its infrastructure change: {reason}",
                note=INFRA_NOT_ROLLED_BACK,
            )
        say(f"{key}: infrastructure change passed its smoke test")
        return replace(row, infra="updated"), None

    def _roll_back(
        self,
        report: ReleaseReport,
        before: dict[str, StackState],
        failed: str,
        *,
        left_as_is: str | None = None,
    ) -> None:
        """The failed region goes back to its last good image; with --rollback-all, so does every
        region that runs the new image, newest first. With `left_as_is` (why), the failed region
        is not rolled back: an image rollback would apply the same infrastructure change, or
        nothing was deployed to it."""
        keys = [failed]
        if left_as_is is not None:
            keys = []
            self.progress(f"{failed}: {left_as_is}")
            self._note_rollback(report, failed, left_as_is, None)
        if self.rollback_all:
            on_new = [
                k
                for k in _rollout_order(self.all_waves)
                if k != failed and self._on_new_image(report, before, k)
            ]
            keys += list(reversed(on_new))
        for key in keys:
            self._roll_back_one(report, before[key], key, reset_tags=key != failed)

    def _on_new_image(self, report: ReleaseReport, before: dict[str, StackState], key: str) -> bool:
        row = next((r for r in report.regions if r.region == key), None)
        if row is not None and row.up == "updated":
            return True
        return before[key].image == self.image

    def _reset_tags(self, stack: str, state: StackState, target: RollbackTarget) -> None:
        """After a region that passed on the new image is sent back (--rollback-all), its tags
        say what they said before: a gated target is its last good image again; an image that
        never passed a gate is never recorded as one, so the tag returns to its old value."""
        if target.gated:
            self.deployer.record_good(stack, target.image, state.previous_good)
        else:
            before = state.last_good if state.last_good != self.image else None
            self.deployer.restore_last_good(stack, before)

    def _roll_back_one(
        self, report: ReleaseReport, state: StackState, key: str, *, reset_tags: bool
    ) -> None:
        say = self.progress
        stack = self.names.region(key)
        # A region that passed in this run recorded the new image; its earlier last good is
        # what the state held before.
        target = rollback_target(state, self.image)
        if target is None:
            note = "no earlier image known; left on the new image"
            say(f"{key}: cannot roll back: {note}")
        else:
            say(f"{key}: rolling back to {target.image} ({target.source})")
            outcome = self._safe_up(stack, target.image)
            if outcome.ok:
                note = f"rolled back to {target.image} ({target.source})"
                if reset_tags:
                    try:
                        self._reset_tags(stack, state, target)
                    except Exception as exc:
                        note += f"; resetting its {LAST_GOOD_TAG} failed: {_describe(exc)}"
            else:
                note = f"rollback to {target.image} FAILED: {outcome.error}"
            say(f"{key}: {note}")
        self._note_rollback(report, key, note, target.image if target else None)

    @staticmethod
    def _note_rollback(report: ReleaseReport, key: str, note: str, image: str | None) -> None:
        report.rollbacks.append(f"{key}: {note}")
        for i, row in enumerate(report.regions):
            if row.region == key:
                report.regions[i] = replace(row, rollback=note, rollback_image=image)


@dataclass(frozen=True)
class _Failure:
    """A region's failed step; `note` says why rolling its image back cannot undo it (None:
    roll it back)."""

    step: str
    note: str | None = None


def _describe(exc: Exception) -> str:
    """An exception as one report line: its message, or its type when it has none."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _rollout_order(all_waves: Sequence[Wave]) -> list[str]:
    return [k for w in all_waves for k in w.regions]


def preview(
    manifest: Manifest,
    names: StackNames,
    deployer: Deployer,
    image: str | None,
    *,
    only_wave: int | None = None,
    refresh: bool = False,
    progress: Progress | None = None,
) -> PreviewReport:
    """What the global stack and each selected region's stack would change with `image` (None:
    each region keeps the image it runs now). Changes nothing."""
    say = progress or Progress(lambda _: None)
    results = []
    stacks: list[tuple[str, str | None]] = [(names.global_stack, None)]
    for wave in select_waves(waves(manifest), only_wave):
        stacks += [(names.region(key), key) for key in wave.regions]
    for stack, key in stacks:
        target = image
        if key is not None and target is None:
            state = deployer.state(stack)
            if not state.exists:
                say(f"{stack}: no such stack")
                results.append(PreviewOutcome(stack, False, error="no such stack"))
                continue
            target = state.image
        say(f"{stack}: preview" + (f" with {target}" if key is not None and target else ""))
        outcome = deployer.preview(stack, target if key is not None else None, refresh=refresh)
        results.append(replace(outcome, image=target if key is not None else None))
    return PreviewReport(image, results)
