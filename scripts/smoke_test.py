"""Prove that a region answers a real voice turn, and how fast.

python scripts/smoke_test.py --region eu-west [--manifest PATH] [--json] [--timeout S]
python scripts/smoke_test.py --all [--stack-outputs FILE ...]

Reads LIVEKIT_API_KEY and LIVEKIT_API_SECRET (and LIVEKIT_URL, which overrides the manifest's
livekit_url) from the environment. Exit codes: 0 every step passed within budget, 1 a step
failed (the output names it, the reason and a hint), 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infra.manifest import DEFAULT_MANIFEST, Manifest, ManifestError, load_manifest
from scripts.smoke_media import DEFAULT_CLIP, ClipError, MediaFactory, RtcMediaSession, load_clip
from scripts.smoke_run import (
    DEFAULT_SECRET_HEADER,
    Credentials,
    Limits,
    RegionResult,
    SmokeRun,
    StepResult,
    Target,
)
from scripts.text_tables import render_table

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_REGION_URL = re.compile(r"^(?P<region>[a-z0-9-]+)=(?P<url>\S+)$")
_URL = re.compile(r"^(https?|wss?)://[^\s/]+(/\S*)?$")


class ConfigError(Exception):
    """A usage or configuration problem; str() is the one line shown to the user."""


def build_parser() -> argparse.ArgumentParser:
    """The command line, documented in docs/smoke-test.md."""
    parser = argparse.ArgumentParser(
        prog="python scripts/smoke_test.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--region", metavar="KEY", help="the region to test, e.g. eu-west")
    which.add_argument("--all", action="store_true", help="test every region in parallel")
    parser.add_argument(
        "--manifest", type=Path, default=DEFAULT_MANIFEST, help="regions manifest (regions.yaml)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object for CI")
    parser.add_argument(
        "--timeout", type=float, default=Limits.total, metavar="S", help="limit per region run"
    )
    parser.add_argument(
        "--agent-timeout",
        type=float,
        default=Limits.agent,
        metavar="S",
        help="how long the agent may take to join",
    )
    parser.add_argument(
        "--reply-timeout",
        type=float,
        default=Limits.reply,
        metavar="S",
        help="how long the agent may take to start answering",
    )
    parser.add_argument(
        "--dispatch-url",
        action="append",
        default=[],
        metavar="[REGION=]URL",
        help="the region's dispatch service URL; repeatable as REGION=URL with --all",
    )
    parser.add_argument(
        "--stack-outputs",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="output of `pulumi stack output --json` ('-' reads stdin); repeatable",
    )
    parser.add_argument(
        "--question",
        type=Path,
        default=DEFAULT_CLIP,
        metavar="WAV",
        help="spoken question, 16-bit PCM mono WAV (default: scripts/data/question.wav)",
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    media_factory: MediaFactory = RtcMediaSession,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Run the smoke test and print the outcome; returns the exit code."""
    env = os.environ if env is None else env
    out = stdout or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        targets, credentials, limits = _configure(args, env, stdin or sys.stdin)
        clip = load_clip(args.question)
    except (ConfigError, ClipError) as exc:
        print(f"smoke_test: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ManifestError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE

    runs = [SmokeRun(t, credentials, clip, media_factory, limits) for t in targets]
    try:
        results = asyncio.run(run_all(runs))
    except KeyboardInterrupt:
        # A second Ctrl-C stopped clean-up early; report what is known.
        results = [run.result() for run in runs]
    print(render_json(results) if args.json else render_text(results), file=out)
    return exit_code(results)


async def run_all(runs: Sequence[SmokeRun]) -> list[RegionResult]:
    """Run every region at once; after Ctrl-C, wait for their clean-ups and return partials."""
    tasks = [asyncio.create_task(run.run()) for run in runs]
    try:
        await asyncio.gather(*tasks)
    except asyncio.CancelledError:
        # gather raises only once every run has finished its clean-up.
        await asyncio.gather(*tasks, return_exceptions=True)
    return [run.result() for run in runs]


def exit_code(results: Sequence[RegionResult]) -> int:
    """0 when every region passed within budget, else 1."""
    return EXIT_OK if results and all(r.ok for r in results) else EXIT_FAILED


# --- configuration ----------------------------------------------------------------------


def _configure(
    args: argparse.Namespace, env: Mapping[str, str], stdin: TextIO
) -> tuple[list[Target], Credentials, Limits]:
    for flag in ("timeout", "agent_timeout", "reply_timeout"):
        if getattr(args, flag) <= 0:
            raise ConfigError(f"--{flag.replace('_', '-')} must be a positive number of seconds")
    manifest = load_manifest(args.manifest)
    if args.all:
        keys = list(manifest.regions)
    elif args.region in manifest.regions:
        keys = [args.region]
    else:
        raise ConfigError(
            f"--region {args.region!r} is not a region in {args.manifest};"
            f" allowed: {', '.join(manifest.regions)}"
        )
    dispatch_urls = _dispatch_urls(args, manifest, keys, stdin)
    credentials = _credentials(env)
    override = env.get("LIVEKIT_URL", "").strip() or None
    if override is not None and not _URL.match(override):
        raise ConfigError(
            f"environment variable LIVEKIT_URL must be a wss:// or https:// URL, got {override!r}"
        )
    targets = []
    for key in keys:
        region = manifest.regions[key]
        targets.append(
            Target(
                region=key,
                location=region.location,
                agent_name=region.agent_name,
                resource_group=region.names.resource_group,
                app_name=region.names.app,
                latency_budget_ms=region.latency_budget_ms,
                livekit_url=override or region.livekit_url,
                # regions.yaml may name a region's dispatch URL; flags and stack outputs win.
                dispatch_url=dispatch_urls.get(key) or region.dispatch_url,
            )
        )
    limits = Limits(total=args.timeout, agent=args.agent_timeout, reply=args.reply_timeout)
    return targets, credentials, limits


def _credentials(env: Mapping[str, str]) -> Credentials:
    missing = [n for n in ("LIVEKIT_API_KEY", "LIVEKIT_API_SECRET") if not env.get(n, "").strip()]
    if missing:
        raise ConfigError(
            f"environment variable(s) {' and '.join(missing)} must be set to a LiveKit API key pair"
            " with room admin rights (LiveKit Cloud: Settings > API keys)"
        )
    header = env.get("MERIDIAN_DISPATCH_SECRET_HEADER", "").strip() or DEFAULT_SECRET_HEADER
    return Credentials(
        api_key=env["LIVEKIT_API_KEY"].strip(),
        api_secret=env["LIVEKIT_API_SECRET"].strip(),
        dispatch_secret=env.get("MERIDIAN_DISPATCH_SHARED_SECRET", "").strip() or None,
        dispatch_secret_header=header,
    )


def _dispatch_urls(
    args: argparse.Namespace, manifest: Manifest, keys: list[str], stdin: TextIO
) -> dict[str, str]:
    urls: dict[str, str] = {}
    for path in args.stack_outputs:
        region, url = _read_stack_outputs(path, manifest, stdin)
        if url is not None:
            urls[region] = url
    for given in args.dispatch_url:
        match = _REGION_URL.match(given)
        if match:
            region, url = match["region"], match["url"]
            if region not in manifest.regions:
                raise ConfigError(
                    f"--dispatch-url {given!r}: {region!r} is not a region;"
                    f" allowed: {', '.join(manifest.regions)}"
                )
        elif len(keys) == 1:
            region, url = keys[0], given
        else:
            raise ConfigError(f"--dispatch-url {given!r}: with --all, write REGION=URL")
        urls[region] = _http_url(f"--dispatch-url {given!r}", url)
    return {k: v for k, v in urls.items() if k in keys}


def _read_stack_outputs(path: Path, manifest: Manifest, stdin: TextIO) -> tuple[str, str | None]:
    name = "stdin" if str(path) == "-" else str(path)
    try:
        text = stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--stack-outputs {name}: cannot read it: {exc.strerror}") from None
    try:
        outputs: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"--stack-outputs {name}: not JSON ({exc.msg} at line {exc.lineno});"
            " expected the output of `pulumi stack output --json`"
        ) from None
    if not isinstance(outputs, dict):
        raise ConfigError(f"--stack-outputs {name}: expected a JSON object of stack outputs")
    region = outputs.get("region")
    if not isinstance(region, str) or region not in manifest.regions:
        raise ConfigError(
            f"--stack-outputs {name}: output 'region' is {region!r}, not a region in"
            f" {manifest.path.name}; allowed: {', '.join(manifest.regions)}"
        )
    url = outputs.get("dispatchUrl")
    if url is None:
        return region, None
    if not isinstance(url, str):
        raise ConfigError(f"--stack-outputs {name}: output 'dispatchUrl' must be a URL string")
    return region, _http_url(f"--stack-outputs {name}: output 'dispatchUrl'", url)


def _http_url(source: str, url: str) -> str:
    if not re.match(r"^https?://[^\s/]+(/\S*)?$", url):
        raise ConfigError(f"{source}: must be an http:// or https:// URL, got {url!r}")
    return url.rstrip("/")


# --- output -----------------------------------------------------------------------------


def render_json(results: Sequence[RegionResult]) -> str:
    """Everything a CI job needs, as one JSON object."""
    return json.dumps(
        {
            "ok": exit_code(results) == EXIT_OK,
            "exit_code": exit_code(results),
            "regions": [r.as_json() for r in results],
        },
        indent=2,
    )


def render_text(results: Sequence[RegionResult]) -> str:
    """One step table for a single region; one comparison table for several."""
    body = _step_table(results[0]) if len(results) == 1 else _comparison_table(results)
    return "\n\n".join([body, *(_verdict(r) for r in results)])


def _step_table(result: RegionResult) -> str:
    target = result.target
    heading = (
        f"Smoke test of {target.region} ({target.location}): agent {target.agent_name},"
        f" room {result.room_name}"
    )
    rows = [
        [step.title, step.status, _ms(step.duration_ms), step.detail or ""] for step in result.steps
    ]
    return heading + "\n" + render_table(["Step", "Status", "ms", "Detail"], rows, False)


_SHORT = {
    "dispatch": "Dispatch",
    "livekit_api": "API",
    "room": "Room",
    "join": "Join",
    "agent": "Agent",
}


def _comparison_table(results: Sequence[RegionResult]) -> str:
    headers = ["Region", *(_SHORT.values()), "Reply ms", "Budget ms", "Cleanup", "Result"]
    rows = []
    for result in results:
        steps = {s.name: s for s in result.steps}
        turn = steps["turn"]
        reply = _ms(result.reply_latency_ms) if result.reply_latency_ms is not None else None
        rows.append(
            [
                result.target.region,
                *(_cell(steps[name]) for name in _SHORT),
                reply or _cell(turn),
                str(result.target.latency_budget_ms),
                {"passed": "ok", "failed": "FAIL"}.get(steps["cleanup"].status, "-"),
                "PASS" if result.ok else "FAIL",
            ]
        )
    return "Step times in ms\n" + render_table(headers, rows, False)


def _cell(step: StepResult) -> str:
    if step.status == "passed":
        return _ms(step.duration_ms)
    return {"failed": "FAIL", "skipped": "skip"}.get(step.status, "-")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _verdict(result: RegionResult) -> str:
    region = result.target.region
    if result.ok:
        return (
            f"PASS {region}: first reply {result.reply_latency_ms:.0f} ms after the question"
            f" (budget {result.target.latency_budget_ms} ms)"
        )
    lines = []
    failed = result.failed_step
    if failed is not None:
        lines.append(f"FAIL {region} at {failed.title!r}: {failed.detail}")
        if failed.hint:
            lines.append(f"  hint: {failed.hint}")
    else:
        lines.append(f"FAIL {region}: interrupted")
    cleanup = next(s for s in result.steps if s.name == "cleanup")
    if cleanup is not failed and cleanup.status == "failed":
        lines.append(f"  clean-up also failed: {cleanup.detail}")
        if cleanup.hint:
            lines.append(f"  hint: {cleanup.hint}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
