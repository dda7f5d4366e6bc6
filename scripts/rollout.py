"""Release one agent image: the global stack, then region by region behind smoke gates.

python scripts/rollout.py --image <registry>/meridian-agent@sha256:<64 hex> [--wave N]
    [--rollback-all] [--preview] [--json]

The release lives in the meridian.release package; see docs/release.md.
"""

from meridian.release.cli import rollout_main

if __name__ == "__main__":
    raise SystemExit(rollout_main())
