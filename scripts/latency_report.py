"""Per-region voice-to-voice latency report from the agent's `turn` log events.

Usage: python scripts/latency_report.py [FILE ...] [--markdown | --json] [--plot out.png]
Reads JSON-lines agent logs or Log Analytics exports (CSV/JSON); no FILE or "-" reads stdin.
The report itself lives in the meridian.turnlog package.
"""

from meridian.turnlog.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
