"""What runs in each region: image, revision, dispatch health, workers and drift.

python scripts/status.py [--json] [--drift-only | --no-drift]

The status report lives in the meridian.release package; see docs/release.md.
"""

from meridian.release.cli import status_main

if __name__ == "__main__":
    raise SystemExit(status_main())
