"""Show what each region's stack would create, by running the real Pulumi program offline under mocks.

python scripts/synth.py [--manifest PATH] [--stack NAME ...] [--json]
The synth itself lives in infra/synth.py.
"""

from infra.synth import main

if __name__ == "__main__":
    raise SystemExit(main())
