"""Region planner: expected user RTT for the manifest's regions, a us-east baseline and the best k.

Usage: python scripts/plan_regions.py [--population users.csv] [--manifest regions.yaml]
       [--max-k N] [--cost] [--markdown | --json] [--plot map.png]
Uses meridian.geo.latency, the latency model dispatch routes with. The planner lives in the meridian.planner package.
"""

from meridian.planner.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
