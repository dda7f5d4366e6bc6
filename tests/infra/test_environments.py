"""Two environments of one manifest side by side: a stack prefix (`staging-us-east` next to
`prod-us-east`) reaches every region name and the agent name workers register under."""

from __future__ import annotations

import pytest

from infra.offline import StackPlan, plan_stack
from tests.infra.stacks import APP, plan
from tests.manifests import THREE_REGIONS

# The inputs that hold a region resource's Azure name.
AZURE_NAMES = (
    "resourceGroupName",
    "containerAppName",
    "environmentName",
    "workspaceName",
)


def _azure_names(region_plan: StackPlan) -> set[str]:
    return {
        r.inputs[key]
        for r in region_plan.resources
        if not r.type.startswith("azure-native:cdn:")  # those live in each environment's profile
        for key in AZURE_NAMES
        if key in r.inputs
    }


def _env(region_plan: StackPlan, app_name: str) -> dict[str, str]:
    app = next(r for r in region_plan.of_type(APP) if r.name == app_name)
    container = app.inputs["template"]["containers"][0]
    return {v["name"]: v.get("value", "") for v in container["env"]}


def test_prod_and_staging_regions_share_no_azure_name() -> None:
    prod, staging = plan("prod-us-east"), plan("staging-us-east")
    assert _azure_names(prod).isdisjoint(_azure_names(staging))
    assert "rg-support-agent-staging-us-east" in _azure_names(staging)
    assert "dispatch-staging-us-east" in _azure_names(staging)


def test_each_environment_registers_its_own_agent_name() -> None:
    staging = plan("staging-us-east")
    assert staging.outputs["agentName"] == "support-agent-staging-us-east"
    agent = _env(staging, "support-agent-staging-us-east")
    assert agent["LIVEKIT_AGENT_NAME"] == "support-agent-staging-us-east"
    dispatch = _env(staging, "dispatch-staging-us-east")
    assert dispatch["MERIDIAN_STACK_PREFIX"] == "staging"
    assert dispatch["MERIDIAN_DISPATCH_WORKER_URL"] == "http://support-agent-staging-us-east"


def test_the_prefixed_global_stack_creates_the_prefixed_identities() -> None:
    identities = plan("staging-global").outputs["identities"]
    assert identities["us-east"]["clientId"] == "id-support-agent-staging-us-east-client-id"


def test_an_unprefixed_stack_keeps_the_names_it_always_had() -> None:
    region_plan = plan("us-east")
    assert {"rg-support-agent-us-east", "support-agent-us-east", "dispatch-us-east"} <= (
        _azure_names(region_plan)
    )
    assert region_plan.outputs["agentName"] == "support-agent-us-east"
    assert "MERIDIAN_STACK_PREFIX" not in _env(region_plan, "dispatch-us-east")


def test_a_prefix_too_long_for_azure_names_fails_the_deploy_saying_what_to_shorten() -> None:
    stack = "a-very-long-environment-name-us-east"
    outputs = plan("a-very-long-environment-name-global").outputs
    with pytest.raises(Exception) as caught:
        plan_stack(stack, THREE_REGIONS, global_outputs=outputs)
    message = str(caught.value)
    assert f"stack {stack}: derived container-app name" in message
    assert "shorten the stack prefix" in message
