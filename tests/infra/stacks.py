"""Plan stacks of a fixture manifest under mocks, global stack first, as a deploy runs them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from infra.manifest import load_manifest
from infra.offline import PlannedResource, StackPlan, plan_stacks
from tests.manifests import MODELS_DAY, THREE_REGIONS

APP = "azure-native:app:ContainerApp"
# What the global stack's config holds in these tests: obviously fake, but shaped like the real ones.
SECRETS = {
    "livekitApiKey": "APIkey-not-for-logs-4242",
    "livekitApiSecret": "s3cret-value-never-plain-9f8e7d",
}


def plan(
    stack: str,
    manifest: Path = THREE_REGIONS,
    config: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> StackPlan:
    """One stack's plan, as of MODELS_DAY; a region stack reads its global stack's planned outputs."""
    config = {"deployDate": MODELS_DAY.isoformat(), **(config or {})}
    return plan_stacks(
        load_manifest(manifest, on=MODELS_DAY),
        [stack],
        config,
        SECRETS if secrets is None else secrets,
    )[stack]


def named(plan: StackPlan, type_token: str, name: str) -> PlannedResource:
    """The resource of a type with a given Pulumi name."""
    return next(r for r in plan.of_type(type_token) if r.name == name)
