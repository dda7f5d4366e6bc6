"""Command line of the smoke test (scripts/smoke_test.py, `meridian-smoke-test`): prove that a
region answers a real voice turn, and how fast.

python scripts/smoke_test.py --region eu-west --stack-outputs FILE [--json] [--timeout S]
python scripts/smoke_test.py --all --stack-outputs GLOBAL_OUTPUTS_FILE [--json]

Reads LIVEKIT_API_KEY and LIVEKIT_API_SECRET (and LIVEKIT_URL, which overrides the manifest's
livekit_url) from the environment. Each region's dispatch URL comes from --dispatch-url, stack
outputs, --global-url or regions.yaml; without one the run is refused unless --skip-dispatch.
Exit codes: 0 every step passed within budget, 1 a step failed (the output names it, the reason
and a hint), 2 usage or configuration error (with --json, also as {"ok": false, "error": ...}).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from infra.manifest import DEFAULT_MANIFEST, ManifestError
from meridian.smoke.config import ConfigError, configure
from meridian.smoke.media import DEFAULT_CLIP, ClipError, MediaFactory, RtcMediaSession, load_clip
from meridian.smoke.render import (
    EXIT_USAGE,
    exit_code,
    render_error_json,
    render_json,
    render_text,
)
from meridian.smoke.run import Limits, run_all, run_smoke

__all__ = ["build_parser", "main", "run_all"]


class UsageError(Exception):
    """A command-line mistake; str() is argparse's message."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError instead of printing and exiting, for --json."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser(
    parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    """The command line, documented in docs/smoke-test.md."""
    parser = parser_class(
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
        help="output of `pulumi stack output --json` of a region stack or of the global stack"
        " ('-' reads stdin); repeatable",
    )
    parser.add_argument(
        "--global-url",
        metavar="URL",
        help="the global Front Door entry URL: each region is reached at <URL>/regions/<region>",
    )
    parser.add_argument(
        "--skip-dispatch",
        action="store_true",
        help="test only the agent: no dispatch URL needed, the dispatch step is skipped",
    )
    parser.add_argument(
        "--question",
        type=Path,
        default=DEFAULT_CLIP,
        metavar="WAV",
        help="spoken question, 16-bit PCM mono WAV (default: meridian/smoke/data/question.wav)",
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
    argv = list(sys.argv[1:] if argv is None else argv)
    # With --json a CI job reads stdout only: every way the run can be refused is JSON there too.
    as_json = "--json" in argv

    def refuse(message: str, line: str) -> int:
        if as_json:
            print(render_error_json(message), file=out)
        print(line, file=sys.stderr)
        return EXIT_USAGE

    try:
        args = build_parser(_Parser if as_json else argparse.ArgumentParser).parse_args(argv)
    except UsageError as exc:
        return refuse(str(exc), f"smoke_test: {exc}")
    try:
        targets, credentials, limits = configure(
            args.manifest,
            None if args.all else args.region,
            env,
            dispatch_urls=args.dispatch_url,
            stack_outputs=args.stack_outputs,
            global_url=args.global_url,
            skip_dispatch=args.skip_dispatch,
            stdin=stdin or sys.stdin,
            limits=Limits(total=args.timeout, agent=args.agent_timeout, reply=args.reply_timeout),
        )
        clip = load_clip(args.question)
    except (ConfigError, ClipError) as exc:
        return refuse(str(exc), f"smoke_test: {exc}")
    except ManifestError as exc:
        return refuse(str(exc), str(exc))

    results = run_smoke(targets, credentials, clip, media_factory, limits)
    print(render_json(results) if args.json else render_text(results), file=out)
    return exit_code(results)
