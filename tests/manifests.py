"""Fixture manifests: tests never depend on the user's regions.yaml."""

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
# Three regions (us-east/eastus, eu-west/westeurope, ap-southeast/southeastasia), the defaults
# shipped on 2026-12-01.
THREE_REGIONS = FIXTURES / "regions.yaml"
