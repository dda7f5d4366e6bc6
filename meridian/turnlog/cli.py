"""Command line of the latency report (scripts/latency_report.py, `meridian-latency-report`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from meridian.turnlog.events import ReportError, parse_inputs, read_inputs
from meridian.turnlog.render import plot_breakdown, render_json, render_text
from meridian.turnlog.stats import by_region


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of the report."""
    parser = argparse.ArgumentParser(
        prog="latency_report.py",
        description="Per-region latency report from the agent's `turn` log events "
        "(JSON lines, or a Log Analytics CSV/JSON export).",
    )
    parser.add_argument("files", nargs="*", help="log files; none or '-' reads stdin")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true", help="print Markdown tables")
    fmt.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--plot", type=Path, metavar="OUT.png", help="write a stacked-bar chart")
    return parser


def main(
    argv: Sequence[str] | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the report; returns the exit code (0 ok, 1 no usable input, 2 bad arguments)."""
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        inputs = read_inputs(args.files, stdin)
    except ReportError as exc:
        print(f"latency_report: {exc}", file=stderr)
        return 1
    parsed = parse_inputs(inputs)
    sources = ", ".join(name for name, _ in inputs)
    if not parsed.turns:
        print(
            f"latency_report: no `turn` events in {sources} "
            f"({parsed.lines_read} records read, {parsed.malformed} malformed, "
            f"{parsed.other_events} other events). Expected JSON lines with "
            '"event": "turn" from the agent, or a Log Analytics export with a Log_s/Log column.',
            file=stderr,
        )
        return 1
    if parsed.malformed:
        print(f"latency_report: skipped {parsed.malformed} malformed records", file=stderr)
    regions = by_region(parsed.turns)
    if args.json:
        stdout.write(render_json(regions, parsed))
    else:
        stdout.write(render_text(regions, parsed, markdown=args.markdown))
    if args.plot:
        try:
            plot_breakdown(regions, args.plot)
        except OSError as exc:
            print(f"latency_report: cannot write {args.plot}: {exc.strerror or exc}", file=stderr)
            return 1
    return 0
