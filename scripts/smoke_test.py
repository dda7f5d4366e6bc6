"""Prove that a region answers a real voice turn, and how fast.

python scripts/smoke_test.py --region eu-west --stack-outputs FILE [--json] [--timeout S]
python scripts/smoke_test.py --all --stack-outputs GLOBAL_OUTPUTS_FILE [--json]

The smoke test lives in the meridian.smoke package; see docs/smoke-test.md.
"""

from meridian.smoke.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
