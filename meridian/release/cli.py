"""The command lines: `scripts/rollout.py` (meridian-rollout) and `scripts/status.py`
(meridian-status). Progress goes to stderr, the result (table, Markdown or JSON) to stdout.

Exit codes: 0 done (or healthy, or no drift), 1 a step failed (or a region is unhealthy, or a
stack drifted), 2 usage or configuration error; nothing was deployed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from infra.manifest import DEFAULT_MANIFEST, ROOT, ManifestError, load_manifest
from meridian.release.orchestrate import EXIT_FAILED, EXIT_USAGE, Progress, Release, preview
from meridian.release.plan import (
    Deployer,
    DeployerUnavailable,
    Gate,
    Log,
    PlanError,
    StackNames,
    release_image,
    waves,
)
from meridian.release.render import (
    render_drift,
    render_preview,
    render_release,
    render_status,
    to_json,
)
from meridian.release.status import HTTP_TIMEOUT_S, check_drift, collect
from meridian.smoke import ClipError, ConfigError, Limits

DeployerFactory = Callable[[Log], Deployer]
GateFactory = Callable[[Path, Mapping[str, str], Limits], Gate]


def real_deployer(log: Log) -> Deployer:
    """The Automation API deployer on the `pulumi` CLI on PATH (PulumiCLIError if unusable)."""
    from meridian.release.pulumi_deployer import PulumiDeployer, pulumi_cli

    return PulumiDeployer(ROOT, log=log, pulumi_command=pulumi_cli())


def real_gate(manifest: Path, env: Mapping[str, str], limits: Limits) -> Gate:
    from meridian.release.smoke_gate import SmokeGate

    return SmokeGate(manifest, env, limits=limits)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--manifest", type=Path, default=DEFAULT_MANIFEST, help="regions manifest (regions.yaml)"
    )
    parser.add_argument(
        "--stack-prefix",
        default="",
        metavar="PREFIX",
        help="stacks are <PREFIX>-global and <PREFIX>-<region> (default: global and <region>)",
    )
    parser.add_argument(
        "--org", metavar="ORG", help="Pulumi Cloud organization: stacks are ORG/<stack>"
    )
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object")
    out.add_argument("--markdown", action="store_true", help="print Markdown (for a PR comment)")


def rollout_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python scripts/rollout.py",
        description="Deploy one image to the global stack, then region by region in the waves"
        " regions.yaml declares, each behind its smoke test; roll back and stop at the first"
        " failure. See docs/release.md.",
    )
    parser.add_argument(
        "--image",
        metavar="REF",
        help="the agent image by digest: <registry>/<repo>@sha256:<64 hex> (a tag is refused)",
    )
    parser.add_argument(
        "--preview",
        action="store_true",
        help="show what each stack would change and change nothing (without --image: each"
        " region keeps the image it runs)",
    )
    parser.add_argument(
        "--wave",
        type=int,
        metavar="N",
        help="the global stack and wave N only (0 is the canary); earlier waves must be done",
    )
    parser.add_argument(
        "--list-waves",
        action="store_true",
        help="print the waves as a JSON list (for a CI matrix) and exit",
    )
    parser.add_argument(
        "--rollback-all",
        action="store_true",
        help="on failure, also return every region already on the new image to its last good one",
    )
    parser.add_argument(
        "--smoke-timeout", type=float, default=Limits.total, metavar="S", help="per smoke run"
    )
    parser.add_argument(
        "--agent-timeout",
        type=float,
        default=Limits.agent,
        metavar="S",
        help="how long the agent may take to join a smoke room",
    )
    _common(parser)
    return parser


def rollout_main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    deployer_factory: DeployerFactory = real_deployer,
    gate_factory: GateFactory = real_gate,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run a release (or its preview); returns the exit code."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    env = os.environ if env is None else env
    args = rollout_parser().parse_args(argv)

    def log(line: str) -> None:
        print(line, file=err, flush=True)

    try:
        manifest = load_manifest(args.manifest)
        if args.list_waves:
            print(json.dumps([w.as_json() for w in waves(manifest)]), file=out)
            return 0
        image = release_image(args.image) if args.image else None
        if image is None and not args.preview:
            raise PlanError("--image is required (a digest: <registry>/<repo>@sha256:<64 hex>)")
        names = StackNames(args.stack_prefix, args.org)
        progress = Progress(log)
        # Every resource operation is a progress line too, while `up` runs.
        deployer = deployer_factory(progress)
        if args.preview:
            report = preview(
                manifest, names, deployer, image, only_wave=args.wave, progress=progress
            )
            text = render_preview(report, args.markdown)
        else:
            assert image is not None
            limits = Limits(total=args.smoke_timeout, agent=args.agent_timeout)
            gate = gate_factory(args.manifest, env, limits)
            release = Release(
                manifest,
                names,
                deployer,
                gate,
                image,
                only_wave=args.wave,
                rollback_all=args.rollback_all,
                progress=progress,
            )
            report = release.run()
            text = render_release(report, args.markdown)
    except (PlanError, ConfigError, ClipError, DeployerUnavailable) as exc:
        print(f"rollout: {exc}", file=err)
        return EXIT_USAGE
    except ManifestError as exc:
        print(exc, file=err)
        return EXIT_USAGE
    except RuntimeError as exc:  # pulumi could not read or tag a stack (DeployerError)
        print(f"rollout: {exc}", file=err)
        return EXIT_FAILED
    print(to_json(report) if args.json else text, file=out)
    return report.exit_code


def status_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python scripts/status.py",
        description="What runs in each region: deployed image and revision, dispatch health from"
        " the global entry and from its peers, the registered worker, and drift. See"
        " docs/release.md.",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--drift-only",
        action="store_true",
        help="only preview every stack (with refresh) and fail listing what drifted",
    )
    which.add_argument("--no-drift", action="store_true", help="skip the drift previews")
    parser.add_argument(
        "--timeout", type=float, default=HTTP_TIMEOUT_S, metavar="S", help="per HTTP request"
    )
    _common(parser)
    return parser


def status_main(
    argv: Sequence[str] | None = None,
    *,
    deployer_factory: DeployerFactory = real_deployer,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Report what runs per region; returns the exit code."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    args = status_parser().parse_args(argv)
    try:
        manifest = load_manifest(args.manifest)
    except ManifestError as exc:
        print(exc, file=err)
        return EXIT_USAGE
    names = StackNames(args.stack_prefix, args.org)
    try:
        deployer = deployer_factory(_quiet)
    except DeployerUnavailable as exc:
        print(f"status: {exc}", file=err)
        return EXIT_USAGE
    try:
        if args.drift_only:
            drift = check_drift(manifest, names, deployer)
            print(to_json(drift) if args.json else render_drift(drift, args.markdown), file=out)
            return drift.exit_code
        report = collect(manifest, names, deployer, drift=not args.no_drift, timeout=args.timeout)
    except RuntimeError as exc:  # pulumi could not read a stack (DeployerError)
        print(f"status: {exc}", file=err)
        return EXIT_FAILED
    print(to_json(report) if args.json else render_status(report, args.markdown), file=out)
    return report.exit_code


def _quiet(_: str) -> None:
    pass
