"""The real Pulumi program, run under mocks the way `pulumi up` runs it (runpy on infra/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.manifest import load_manifest
from infra.offline import PlannedResource, StackPlan, plan_stack
from tests.manifests import THREE_REGIONS

MANIFEST = load_manifest(THREE_REGIONS)
REGIONS = list(MANIFEST.regions)
SECRETS = {
    "livekitApiKey": "APIkey-not-for-logs-4242",
    "livekitApiSecret": "s3cret-value-never-plain-9f8e7d",
}
APP = "azure-native:app:ContainerApp"


@pytest.fixture(scope="module", params=REGIONS)
def plan(request: pytest.FixtureRequest) -> StackPlan:
    return plan_stack(request.param, secrets=SECRETS)


def agent_app(plan: StackPlan) -> PlannedResource:
    return next(r for r in plan.of_type(APP) if r.name == MANIFEST.regions[plan.stack].names.app)


def _env(plan: StackPlan) -> dict[str, dict[str, str]]:
    container = agent_app(plan).inputs["template"]["containers"][0]
    return {var["name"]: {k: v for k, v in var.items() if k != "name"} for var in container["env"]}


def test_stack_creates_the_regional_resources(plan: StackPlan) -> None:
    assert sorted(r.type for r in plan.resources) == sorted(
        [
            "azure-native:resources:ResourceGroup",
            "azure-native:operationalinsights:Workspace",
            "azure-native:app:ManagedEnvironment",
            "azure-native:managedidentity:UserAssignedIdentity",
            APP,
            APP,
        ]
    )


def test_every_resource_is_in_the_regions_location(plan: StackPlan) -> None:
    location = MANIFEST.regions[plan.stack].location
    assert {r.inputs["location"] for r in plan.resources} == {location}


def test_every_resource_has_an_explicit_name(plan: StackPlan) -> None:
    names = MANIFEST.regions[plan.stack].names
    explicit = {
        "azure-native:resources:ResourceGroup": ("resourceGroupName", names.resource_group),
        "azure-native:operationalinsights:Workspace": ("workspaceName", names.workspace),
        "azure-native:app:ManagedEnvironment": ("environmentName", names.environment),
        "azure-native:managedidentity:UserAssignedIdentity": ("resourceName", names.identity),
    }
    for resource in plan.resources:
        if resource.type == APP:
            assert resource.inputs["containerAppName"] == resource.name
            assert resource.name in (names.app, names.dispatch_app)
            continue
        key, name = explicit[resource.type]
        assert resource.inputs[key] == resource.name == name


def test_environment_uses_consumption_workload_profile_and_log_analytics(plan: StackPlan) -> None:
    env = plan.one("azure-native:app:ManagedEnvironment").inputs
    assert env["workloadProfiles"][0]["workloadProfileType"] == "Consumption"
    logs = env["appLogsConfiguration"]
    assert logs["destination"] == "log-analytics"
    assert logs["logAnalyticsConfiguration"]["sharedKey"] == "[secret]"


def test_agent_app_is_reachable_only_inside_its_environment(plan: StackPlan) -> None:
    ingress = agent_app(plan).inputs["configuration"]["ingress"]
    assert ingress["external"] is False
    assert ingress["targetPort"] == 8081


def test_agent_env_carries_region_tagged_name_and_models(plan: StackPlan) -> None:
    region = MANIFEST.regions[plan.stack]
    env = _env(plan)
    assert env["LIVEKIT_AGENT_NAME"] == {"value": f"support-agent-{plan.stack}"}
    assert env["MERIDIAN_REGION"] == {"value": plan.stack}
    assert env["LIVEKIT_URL"] == {"value": region.livekit_url}
    assert env["MERIDIAN_LLM_MODEL"] == {"value": region.models.llm.model}
    assert env["MERIDIAN_DRAIN_SECONDS"] == {"value": str(region.drain_seconds)}


def test_livekit_credentials_come_from_secret_refs(plan: StackPlan) -> None:
    env = _env(plan)
    assert env["LIVEKIT_API_KEY"] == {"secretRef": "livekit-api-key"}
    assert env["LIVEKIT_API_SECRET"] == {"secretRef": "livekit-api-secret"}
    secrets = agent_app(plan).inputs["configuration"]["secrets"]
    assert secrets == [
        {"name": "livekit-api-key", "value": "[secret]"},
        {"name": "livekit-api-secret", "value": "[secret]"},
    ]


def test_probes_hit_the_worker_health_server(plan: StackPlan) -> None:
    probes = agent_app(plan).inputs["template"]["containers"][0]["probes"]
    assert {p["type"] for p in probes} == {"Startup", "Liveness"}
    assert all(p["httpGet"] == {"path": "/", "port": 8081} for p in probes)


def test_scale_and_grace_period_follow_the_manifest(plan: StackPlan) -> None:
    region = MANIFEST.regions[plan.stack]
    template = agent_app(plan).inputs["template"]
    assert template["scale"]["minReplicas"] == region.replicas.min
    assert template["scale"]["maxReplicas"] == region.replicas.max
    assert template["scale"]["rules"] == [
        {
            "name": "cpu",
            "custom": {
                "type": "cpu",
                "metadata": {"type": "Utilization", "value": str(region.scale.cpu_percent)},
            },
        }
    ]
    assert (
        template["terminationGracePeriodSeconds"]
        == region.grace_seconds
        >= region.drain_seconds + 30
    )


def test_container_size_follows_the_manifest(plan: StackPlan) -> None:
    region = MANIFEST.regions[plan.stack]
    resources = agent_app(plan).inputs["template"]["containers"][0]["resources"]
    assert resources == {"cpu": region.resources.cpu, "memory": region.resources.memory}


def test_app_is_tagged_with_region_agent_and_manager(plan: StackPlan) -> None:
    tags = agent_app(plan).inputs["tags"]
    assert tags["meridian-region"] == plan.stack
    assert tags["meridian-agent"] == f"support-agent-{plan.stack}"
    assert tags["managed-by"] == "meridian"


def test_stack_outputs_describe_the_region(plan: StackPlan) -> None:
    region = MANIFEST.regions[plan.stack]
    assert plan.outputs == {
        "region": plan.stack,
        "location": region.location,
        "resourceGroup": region.names.resource_group,
        "appName": region.names.app,
        "agentName": region.tagged_agent_name,
        "image": MANIFEST.agent.image,
        "livekitUrl": region.livekit_url,
        "dispatchAppName": region.names.dispatch_app,
        "dispatchUrl": f"https://{region.names.dispatch_app}.mock-env.{region.location}.azurecontainerapps.io",
    }


def test_no_secret_value_appears_in_inputs_or_outputs(plan: StackPlan) -> None:
    text = json.dumps([r.inputs for r in plan.resources]) + json.dumps(plan.outputs)
    assert all(secret not in text for secret in SECRETS.values())


def test_registry_pull_is_granted_before_the_app_exists(manifest_data, write_manifest) -> None:
    registry = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/meridianacr"
    manifest_data["agent"] |= {"registry": registry, "image": "meridianacr.azurecr.io/agent:1.0.0"}
    plan = plan_stack("eu-west", write_manifest(manifest_data), secrets=SECRETS)
    grant = plan.one("azure-native:authorization:RoleAssignment").inputs
    assert grant["scope"] == registry
    assert grant["roleDefinitionId"].endswith(
        "/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d"
    )
    assert grant["principalType"] == "ServicePrincipal"
    app = agent_app(plan).inputs
    assert app["configuration"]["registries"][0]["server"] == "meridianacr.azurecr.io"
    # The app is registered after the grant it depends on.
    types = [r.type for r in plan.resources]
    grant_at = types.index("azure-native:authorization:RoleAssignment")
    assert all(i > grant_at for i, t in enumerate(types) if t == APP)


def test_model_provider_secrets_are_added_when_used(manifest_data, write_manifest) -> None:
    manifest_data["regions"]["ap-southeast"]["models"] = {
        "llm": {
            "provider": "azure-openai",
            "model": "gpt-4o-mini",
            "endpoint": "https://sea.openai.azure.com",
        },
        "tts": {"provider": "azure", "model": "neural", "voice": "en-SG-LunaNeural"},
    }
    secrets = SECRETS | {
        "azureOpenaiApiKey": "aoai-key-123456789",
        "azureSpeechKey": "speech-key-987654321",
    }
    plan = plan_stack("ap-southeast", write_manifest(manifest_data), secrets=secrets)
    env = _env(plan)
    assert env["AZURE_OPENAI_API_KEY"] == {"secretRef": "azure-openai-api-key"}
    assert env["AZURE_SPEECH_KEY"] == {"secretRef": "azure-speech-key"}
    assert env["MERIDIAN_LLM_ENDPOINT"] == {"value": "https://sea.openai.azure.com"}
    assert "aoai-key-123456789" not in json.dumps([r.inputs for r in plan.resources])


def test_a_fourth_region_needs_no_code_change(manifest_data, write_manifest) -> None:
    manifest_data["regions"]["sa-east"] = {"location": "brazilsouth"}
    path = write_manifest(manifest_data)
    assert list(load_manifest(path).regions) == [*REGIONS, "sa-east"]
    plan = plan_stack("prod-sa-east", path, secrets=SECRETS)
    assert plan.outputs["agentName"] == "support-agent-sa-east"
    assert {r.inputs["location"] for r in plan.resources} == {"brazilsouth"}


def test_stack_matching_no_region_fails_with_the_list(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="matches no region") as caught:
        plan_stack("prod-mars", secrets=SECRETS)
    assert "us-east, eu-west, ap-southeast" in str(caught.value)


def test_missing_secret_config_fails_the_deploy() -> None:
    with pytest.raises(Exception, match="livekitApiSecret"):
        plan_stack("us-east", secrets={"livekitApiKey": "k"})
