"""Fixture manifests: tests never depend on the user's regions.yaml."""

from datetime import date
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
# Three regions (us-east/eastus, eu-west/westeurope, ap-southeast/southeastasia), the defaults
# shipped on 2026-12-01.
THREE_REGIONS = FIXTURES / "regions.yaml"
# The same three regions, each provisioning its models in an Azure AI Services account; checked
# as of MODELS_DAY, so the lifecycle checks do not depend on the day the tests run.
PROVISIONED = FIXTURES / "regions-models.yaml"
MODELS_DAY = date(2026, 12, 2)
