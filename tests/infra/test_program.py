"""A region stack: the real Pulumi program, run under mocks the way `pulumi up` runs it (runpy on
infra/), after the global stack it reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.manifest import load_manifest
from infra.offline import PlannedResource, StackPlan, plan_stack
from meridian.images import UNBUILT_IMAGE
from tests.infra.stacks import APP, SECRETS, named, plan
from tests.manifests import THREE_REGIONS

MANIFEST = load_manifest(THREE_REGIONS)
REGIONS = list(MANIFEST.regions)
GLOBAL = plan("global")
VAULT = GLOBAL.outputs["keyVaultUri"]
REGISTRY = GLOBAL.outputs["registryLoginServer"]


@pytest.fixture(scope="module", params=REGIONS)
def region_plan(request: pytest.FixtureRequest) -> StackPlan:
    return plan(request.param)


def agent_app(plan: StackPlan) -> PlannedResource:
    return named(plan, APP, MANIFEST.regions[plan.stack].names.app)


def dispatch_app(plan: StackPlan) -> PlannedResource:
    return named(plan, APP, MANIFEST.regions[plan.stack].names.dispatch_app)


def _env(app: PlannedResource) -> dict[str, dict[str, str]]:
    container = app.inputs["template"]["containers"][0]
    return {var["name"]: {k: v for k, v in var.items() if k != "name"} for var in container["env"]}


def test_stack_creates_the_regional_resources(region_plan: StackPlan) -> None:
    assert sorted(r.type for r in region_plan.resources) == sorted(
        [
            "azure-native:resources:ResourceGroup",
            "azure-native:operationalinsights:Workspace",
            "azure-native:app:ManagedEnvironment",
            APP,
            APP,
            "azure-native:cdn:AFDOrigin",
            "azure-native:cdn:AFDOriginGroup",
            "azure-native:cdn:AFDOrigin",
            "azure-native:cdn:Route",
        ]
    )


def test_every_azure_resource_is_in_the_regions_location(region_plan: StackPlan) -> None:
    location = MANIFEST.regions[region_plan.stack].location
    located = [r for r in region_plan.resources if "location" in r.inputs]
    assert len(located) == 5
    assert {r.inputs["location"] for r in located} == {location}


def test_every_resource_has_an_explicit_name(region_plan: StackPlan) -> None:
    names = MANIFEST.regions[region_plan.stack].names
    explicit = {
        "azure-native:resources:ResourceGroup": ("resourceGroupName", {names.resource_group}),
        "azure-native:operationalinsights:Workspace": ("workspaceName", {names.workspace}),
        "azure-native:app:ManagedEnvironment": ("environmentName", {names.environment}),
        APP: ("containerAppName", {names.app, names.dispatch_app}),
        "azure-native:cdn:AFDOrigin": ("originName", {names.origin}),
        "azure-native:cdn:AFDOriginGroup": ("originGroupName", {names.origin_group}),
        "azure-native:cdn:Route": ("routeName", {names.route}),
    }
    for resource in region_plan.resources:
        key, allowed = explicit[resource.type]
        assert resource.inputs[key] in allowed


def test_environment_uses_consumption_workload_profile_and_log_analytics(
    region_plan: StackPlan,
) -> None:
    env = region_plan.one("azure-native:app:ManagedEnvironment").inputs
    assert env["workloadProfiles"][0]["workloadProfileType"] == "Consumption"
    logs = env["appLogsConfiguration"]
    assert logs["destination"] == "log-analytics"
    assert logs["logAnalyticsConfiguration"]["sharedKey"] == "[secret]"


def test_agent_app_is_reachable_only_inside_its_environment_over_plain_http(
    region_plan: StackPlan,
) -> None:
    # dispatch calls http://<app>/worker; without allowInsecure the call is redirected to https.
    ingress = agent_app(region_plan).inputs["configuration"]["ingress"]
    assert ingress["external"] is False
    assert ingress["targetPort"] == 8081
    assert ingress["allowInsecure"] is True


def test_apps_run_as_the_identity_the_global_stack_granted(region_plan: StackPlan) -> None:
    identity = GLOBAL.outputs["identities"][region_plan.stack]["id"]
    for app in (agent_app(region_plan), dispatch_app(region_plan)):
        assert app.inputs["identity"] == {
            "type": "UserAssigned",
            "userAssignedIdentities": [identity],
        }


def test_images_are_pulled_from_the_global_registry_with_the_identity(
    region_plan: StackPlan,
) -> None:
    identity = GLOBAL.outputs["identities"][region_plan.stack]["id"]
    registries = agent_app(region_plan).inputs["configuration"]["registries"]
    assert registries == [{"identity": identity, "server": REGISTRY}]


def test_agent_env_carries_region_tagged_name_and_models(region_plan: StackPlan) -> None:
    region = MANIFEST.regions[region_plan.stack]
    env = _env(agent_app(region_plan))
    assert env["LIVEKIT_AGENT_NAME"] == {"value": f"support-agent-{region_plan.stack}"}
    assert env["MERIDIAN_REGION"] == {"value": region_plan.stack}
    assert env["LIVEKIT_URL"] == {"value": region.livekit_url}
    assert env["MERIDIAN_LLM_MODEL"] == {"value": region.models.llm.model}
    assert env["MERIDIAN_DRAIN_SECONDS"] == {"value": str(region.drain_seconds)}


def test_livekit_credentials_are_key_vault_references(region_plan: StackPlan) -> None:
    identity = GLOBAL.outputs["identities"][region_plan.stack]["id"]
    env = _env(agent_app(region_plan))
    assert env["LIVEKIT_API_KEY"] == {"secretRef": "livekit-api-key"}
    assert env["LIVEKIT_API_SECRET"] == {"secretRef": "livekit-api-secret"}
    assert agent_app(region_plan).inputs["configuration"]["secrets"] == [
        {"name": name, "keyVaultUrl": f"{VAULT}secrets/{name}", "identity": identity}
        for name in ("livekit-api-key", "livekit-api-secret")
    ]


def test_probes_hit_the_worker_health_server(region_plan: StackPlan) -> None:
    probes = agent_app(region_plan).inputs["template"]["containers"][0]["probes"]
    assert {p["type"] for p in probes} == {"Startup", "Liveness"}
    assert all(p["httpGet"] == {"path": "/", "port": 8081} for p in probes)


def test_scale_and_grace_period_follow_the_manifest(region_plan: StackPlan) -> None:
    region = MANIFEST.regions[region_plan.stack]
    template = agent_app(region_plan).inputs["template"]
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
    assert template["terminationGracePeriodSeconds"] == region.grace_seconds <= 600


def test_container_size_follows_the_manifest(region_plan: StackPlan) -> None:
    region = MANIFEST.regions[region_plan.stack]
    resources = agent_app(region_plan).inputs["template"]["containers"][0]["resources"]
    assert resources == {"cpu": region.resources.cpu, "memory": region.resources.memory}


def test_app_is_tagged_with_region_agent_and_manager(region_plan: StackPlan) -> None:
    tags = agent_app(region_plan).inputs["tags"]
    assert tags["meridian-region"] == region_plan.stack
    assert tags["meridian-agent"] == f"support-agent-{region_plan.stack}"
    assert tags["managed-by"] == "meridian"


def test_stack_outputs_describe_the_region(region_plan: StackPlan) -> None:
    region = MANIFEST.regions[region_plan.stack]
    assert region_plan.outputs == {
        "region": region_plan.stack,
        "location": region.location,
        "resourceGroup": region.names.resource_group,
        "appName": region.names.app,
        "agentName": region.tagged_agent_name,
        "image": MANIFEST.agent.image,
        "livekitUrl": region.livekit_url,
        "dispatchAppName": region.names.dispatch_app,
        "dispatchUrl": f"https://{region.names.dispatch_app}.mock-env.{region.location}.azurecontainerapps.io",
        "latestRevision": f"{region.names.app}--mock1",
        "globalStack": "global",
        "globalUrl": GLOBAL.outputs["globalUrl"],
    }


def test_no_secret_value_appears_in_any_stack() -> None:
    plans = [GLOBAL, *(plan(key) for key in REGIONS)]
    text = json.dumps([[r.inputs for r in p.resources] + [p.outputs] for p in plans])
    assert all(secret not in text for secret in SECRETS.values())


def test_model_provider_secrets_are_referenced_when_used(manifest_data, write_manifest) -> None:
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
    region_plan = plan("ap-southeast", write_manifest(manifest_data), secrets=secrets)
    env = _env(agent_app(region_plan))
    assert env["AZURE_OPENAI_API_KEY"] == {"secretRef": "azure-openai-api-key"}
    assert env["AZURE_SPEECH_KEY"] == {"secretRef": "azure-speech-key"}
    assert env["MERIDIAN_LLM_ENDPOINT"] == {"value": "https://sea.openai.azure.com"}
    assert "aoai-key-123456789" not in json.dumps([r.inputs for r in region_plan.resources])


def test_a_released_image_in_stack_config_overrides_the_manifest() -> None:
    image = f"{REGISTRY}/meridian-agent@sha256:{'ab' * 32}"
    region_plan = plan("eu-west", config={"image": image})
    assert agent_app(region_plan).inputs["template"]["containers"][0]["image"] == image
    assert dispatch_app(region_plan).inputs["template"]["containers"][0]["image"] == image
    assert region_plan.outputs["image"] == image


def test_an_unpinned_image_in_stack_config_fails_the_deploy() -> None:
    with pytest.raises(Exception, match="config meridian:image: image must pin a tag or a digest"):
        plan("eu-west", config={"image": "ghcr.io/meridian/agent"})


def _without_image(manifest_data: dict, write_manifest) -> Path:
    del manifest_data["agent"]["image"]
    return write_manifest(manifest_data)


def test_a_region_stack_without_a_built_image_refuses_to_deploy(
    manifest_data, write_manifest
) -> None:
    manifest = _without_image(manifest_data, write_manifest)
    outputs = plan("global", manifest).outputs
    with pytest.raises(Exception) as caught:
        plan_stack("eu-west", manifest, global_outputs=outputs, preview=False)
    message = str(caught.value)
    assert "stack eu-west has no built agent image to deploy" in message
    assert "regions.yaml: agent.image is not set, nor is stack config meridian:image" in message
    assert "pulumi config set meridian:image" in message and "scripts/rollout.py" in message


def test_the_image_nothing_builds_is_refused_as_a_deploy_target(
    manifest_data, write_manifest
) -> None:
    manifest_data["agent"]["image"] = "ghcr.io/meridian-voice/agent:0.1.0"
    manifest = write_manifest(manifest_data)
    outputs = plan("global", manifest).outputs
    with pytest.raises(Exception) as caught:
        plan_stack("eu-west", manifest, global_outputs=outputs, preview=False)
    assert "agent.image is 'ghcr.io/meridian-voice/agent:0.1.0', which nothing builds" in str(
        caught.value
    )


def test_synth_shows_a_placeholder_that_is_plainly_not_an_image(
    manifest_data, write_manifest
) -> None:
    region_plan = plan("eu-west", _without_image(manifest_data, write_manifest))
    apps = region_plan.of_type(APP)
    images = {c["image"] for a in apps for c in a.inputs["template"]["containers"]}
    assert images == {UNBUILT_IMAGE}
    assert UNBUILT_IMAGE.split("/")[0].endswith(".invalid")
    assert region_plan.outputs["image"] == UNBUILT_IMAGE


def test_a_released_image_deploys_without_agent_image(manifest_data, write_manifest) -> None:
    manifest = _without_image(manifest_data, write_manifest)
    outputs = plan("global", manifest).outputs
    image = f"meridianacr.azurecr.io/meridian-agent@sha256:{'b' * 64}"
    region_plan = plan_stack(
        "eu-west", manifest, config={"image": image}, global_outputs=outputs, preview=False
    )
    assert region_plan.outputs["image"] == image


def test_a_prefixed_region_stack_reads_the_prefixed_global_stack() -> None:
    region_plan = plan("prod-eu-west")
    assert region_plan.outputs["globalStack"] == "prod-global"
    origin = named(region_plan, "azure-native:cdn:AFDOrigin", "afd-origin-eu-west").inputs
    assert origin["resourceGroupName"] == "rg-support-agent-prod-global"


def test_a_region_the_global_stack_does_not_know_fails_with_what_to_do(
    manifest_data, write_manifest
) -> None:
    from infra.manifest import load_manifest as load
    from infra.offline import plan_stack

    old = plan("global")
    manifest_data["regions"]["sa-east"] = {"location": "brazilsouth"}
    path = write_manifest(manifest_data)
    assert "sa-east" in load(path).regions
    with pytest.raises(Exception, match=r"no identity for region 'sa-east'.*pulumi up -s global"):
        plan_stack("sa-east", path, global_outputs=old.outputs)


def test_stack_matching_no_region_fails_with_the_list(tmp_path: Path) -> None:
    from infra.offline import plan_stack

    with pytest.raises(Exception, match="matches no region") as caught:
        plan_stack("prod-mars", THREE_REGIONS)
    assert "us-east, eu-west, ap-southeast" in str(caught.value)
