"""Pulumi entry point: deploy the region this stack names, as regions.yaml describes it."""

import sys
from pathlib import Path

# `pulumi up` runs this file with runpy from the project root, which is not on sys.path.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from infra.program import main  # noqa: E402

main()
