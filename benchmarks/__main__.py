"""`python -m benchmarks [--quick] [--only NAME ...]`: print every benchmark table (make bench)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Callable

from benchmarks.report import machine

# Run order: the latency sections first, capacity (the longest) last but one.
BENCHMARKS = (
    "turn_latency",
    "heard_latency",
    "region_drill",
    "turn_taking",
    "gate_generalisation",
    "real_voices",
    "media_capacity",
    "capacity",
    "token_endpoint",
    "routing_model",
)


def _entry(name: str) -> Callable[[bool], str | None]:
    """The benchmark module's main(quick); it prints or returns its tables."""
    return importlib.import_module(f"benchmarks.{name}").main  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks in turn and print their tables."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="sample fewer turns and load levels (about 5 min)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=BENCHMARKS,
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    args = parser.parse_args(argv)
    print(f"# Meridian benchmarks{' (quick)' if args.quick else ''}")
    print(f"\nMachine: {machine().describe()}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Load average before the run (1, 5, 15 min): {load}")
    for name in args.only or BENCHMARKS:
        started = time.monotonic()
        output = _entry(name)(args.quick)
        if output:
            print(output)
        print(f"\n({name}: {time.monotonic() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
