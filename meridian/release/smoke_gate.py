"""The real gate: the meridian.smoke package, in-process, against the region a release just deployed."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from infra.program import RegionOutput
from meridian.release.plan import GateOutcome
from meridian.smoke import (
    Clip,
    ConfigError,
    Credentials,
    Limits,
    MediaFactory,
    RegionResult,
    RtcMediaSession,
    Target,
    configure,
    credentials_from_env,
    load_clip,
    run_smoke,
)

Runner = Callable[
    [Sequence[Target], Credentials, Clip, MediaFactory, Limits | None], list[RegionResult]
]


class SmokeGate:
    """`Gate` that runs smoke.run_smoke for one region, with the dispatch URL from its outputs.

    The LiveKit credentials are read when the gate is built, so a release with none set stops
    before it deploys anything (smoke.ConfigError)."""

    def __init__(
        self,
        manifest_path: Path,
        env: Mapping[str, str],
        *,
        limits: Limits | None = None,
        clip: Clip | None = None,
        media_factory: MediaFactory = RtcMediaSession,
        runner: Runner = run_smoke,
    ) -> None:
        self.manifest_path = manifest_path
        self.env = env
        self.limits = limits
        credentials_from_env(env)
        self.clip = clip or load_clip()
        self.media_factory = media_factory
        self.runner = runner

    def check(self, region: str, outputs: Mapping[str, Any]) -> GateOutcome:
        # The outputs go through smoke's own `--stack-outputs -` reader, so the gate reaches the
        # region exactly as `smoke_test.py --stack-outputs` would: through its route on the
        # global URL when there is one (dispatch answers only Front Door), else its dispatchUrl.
        given = {RegionOutput.REGION: region, **outputs}
        try:
            targets, credentials, limits = configure(
                self.manifest_path,
                region,
                self.env,
                stack_outputs=[Path("-")],
                stdin=io.StringIO(json.dumps(given, default=str)),
                limits=self.limits,
            )
        except ConfigError as exc:
            # e.g. outputs without a dispatch URL: this region cannot be tested, so it fails
            return GateOutcome(
                ok=False,
                failed_step="Smoke test set-up",
                reason=str(exc),
                hint=f"check the outputs of the {region} stack: pulumi stack output --json",
            )
        # The stack knows its own names: in a prefixed environment (staging-us-east) the agent,
        # its resource group and app carry the prefix, which the manifest alone cannot tell.
        targets = [_named_by_outputs(target, outputs) for target in targets]
        [result] = self.runner(targets, credentials, self.clip, self.media_factory, limits)
        return outcome_of(result)


def _named_by_outputs(target: Target, outputs: Mapping[str, Any]) -> Target:
    names = {
        "agent_name": outputs.get(RegionOutput.AGENT_NAME),
        "resource_group": outputs.get(RegionOutput.RESOURCE_GROUP),
        "app_name": outputs.get(RegionOutput.APP_NAME),
    }
    return replace(target, **{k: v for k, v in names.items() if isinstance(v, str) and v})


def outcome_of(result: RegionResult) -> GateOutcome:
    """A smoke result as the release sees it."""
    failed = result.failed_step
    reason = failed.detail if failed else ("interrupted" if result.interrupted else None)
    return GateOutcome(
        ok=result.ok,
        reply_latency_ms=result.reply_latency_ms,
        failed_step=failed.title if failed else None,
        reason=reason,
        hint=failed.hint if failed else None,
        detail=result.as_json(),
    )
