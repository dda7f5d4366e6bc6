"""The global stack: one registry replicated to every region, one vault, one identity per region
with its grants, and one Front Door entry URL. Adding or removing a region is a manifest edit."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.manifest import load_manifest
from infra.manifest.names import (
    AI_SERVICES_SUBDOMAIN,
    FRONT_DOOR_ENDPOINT,
    KEY_VAULT,
    REGISTRY,
    STORAGE_ACCOUNT,
    AzureNameRule,
    unique_azure_name,
)
from infra.offline import StackPlan, synth_seed
from tests.infra.stacks import SECRETS, named, plan
from tests.manifests import THREE_REGIONS

MANIFEST = load_manifest(THREE_REGIONS)
NAMES = MANIFEST.global_names("global")
SEED = synth_seed("global")
REPLICATION = "azure-native:containerregistry:Replication"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
GRANT = "azure-native:authorization:RoleAssignment"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


@pytest.fixture(scope="module")
def global_plan() -> StackPlan:
    return plan("global")


def test_the_registry_is_premium_without_an_admin_user_and_zone_redundant(
    global_plan: StackPlan,
) -> None:
    registry = global_plan.one("azure-native:containerregistry:Registry").inputs
    assert registry["sku"] == {"name": "Premium"}
    assert registry["adminUserEnabled"] is False
    assert registry["anonymousPullEnabled"] is False
    assert registry["location"] == MANIFEST.global_.location == "westeurope"
    assert registry["zoneRedundancy"] == "Enabled"


def test_every_region_outside_the_home_location_gets_a_replica(global_plan: StackPlan) -> None:
    replicas = {r.inputs["location"]: r.inputs for r in global_plan.of_type(REPLICATION)}
    # westeurope is the registry's home, which is a replica already.
    assert set(replicas) == {"eastus", "southeastasia"}
    assert all(r["registryName"] == NAMES.registry(SEED) for r in replicas.values())


def test_a_replica_in_a_location_without_zones_is_not_zone_redundant(
    manifest_data, write_manifest
) -> None:
    manifest_data["regions"]["ca-east"] = {"location": "canadaeast"}  # one availability zone
    replicas = {
        r.inputs["location"]: r.inputs
        for r in plan("global", write_manifest(manifest_data)).of_type(REPLICATION)
    }
    assert replicas["canadaeast"]["zoneRedundancy"] == "Disabled"
    assert replicas["eastus"]["zoneRedundancy"] == "Enabled"


def test_the_vault_uses_rbac_and_names_the_secrets_it_must_hold(global_plan: StackPlan) -> None:
    vault = global_plan.one("azure-native:keyvault:Vault").inputs
    assert vault["properties"]["enableRbacAuthorization"] is True
    assert vault["properties"]["enablePurgeProtection"] is True
    assert global_plan.outputs["requiredSecrets"] == ["livekit-api-key", "livekit-api-secret"]
    assert global_plan.outputs["keyVaultId"].endswith(f"/{NAMES.vault(SEED)}")


def test_each_region_identity_may_pull_images_and_read_secrets(global_plan: StackPlan) -> None:
    registry_id = global_plan.outputs["registryId"]
    vault_id = global_plan.one("azure-native:keyvault:Vault")
    identities = {r.inputs["resourceName"]: r.inputs for r in global_plan.of_type(IDENTITY)}
    assert set(identities) == {r.names.identity for r in MANIFEST.regions.values()}
    for region in MANIFEST.regions.values():
        assert identities[region.names.identity]["location"] == region.location
        pull = named(global_plan, GRANT, f"{region.names.identity}-acrpull").inputs
        read = named(global_plan, GRANT, f"{region.names.identity}-secrets").inputs
        assert pull["scope"] == registry_id
        assert pull["roleDefinitionId"].endswith(f"/roleDefinitions/{ACR_PULL}")
        assert read["scope"].endswith(f"/{vault_id.inputs['vaultName']}")
        assert read["roleDefinitionId"].endswith(f"/roleDefinitions/{SECRETS_USER}")
        assert pull["principalId"] == read["principalId"] == f"{region.names.identity}-principal-id"


def test_the_origin_group_probes_dispatch_health_with_the_manifests_settings(
    global_plan: StackPlan,
) -> None:
    group = global_plan.one("azure-native:cdn:AFDOriginGroup").inputs
    probe = MANIFEST.global_.front_door
    assert group["healthProbeSettings"] == {
        "probePath": "/healthz",
        "probeProtocol": "Https",
        "probeRequestType": "GET",
        "probeIntervalInSeconds": probe.interval_seconds,
    }
    assert group["loadBalancingSettings"] == {
        "sampleSize": probe.sample_size,
        "successfulSamplesRequired": probe.successful_samples_required,
        "additionalLatencyInMilliseconds": probe.additional_latency_ms,
    }


def test_front_door_is_standard_with_one_endpoint(global_plan: StackPlan) -> None:
    profile = global_plan.one("azure-native:cdn:Profile").inputs
    assert profile["sku"] == {"name": "Standard_AzureFrontDoor"}
    assert profile["location"] == "global"
    assert global_plan.one("azure-native:cdn:AFDEndpoint").inputs["location"] == "global"


def test_the_route_serves_the_token_endpoint_health_and_livekit_webhooks_over_https(
    global_plan: StackPlan,
) -> None:
    route = global_plan.one("azure-native:cdn:Route").inputs
    assert route["patternsToMatch"] == ["/", "/token", "/healthz", "/regions", "/livekit/webhook"]
    assert route["forwardingProtocol"] == "HttpsOnly"
    assert route["httpsRedirect"] == "Enabled"
    assert route["linkToDefaultDomain"] == "Enabled"
    assert route["originGroup"]["id"].endswith(f"/{NAMES.origin_group}")


def test_the_route_is_created_after_an_enabled_origin_exists(global_plan: StackPlan) -> None:
    # Azure refuses a route whose origin group has no enabled origin; the fallback is that origin
    # until the first region joins, and answers a clear JSON 404 when no region is healthy.
    origin = global_plan.one("azure-native:cdn:AFDOrigin")
    assert origin.inputs["enabledState"] == "Enabled"
    assert origin.inputs["priority"] == 5
    route = global_plan.one("azure-native:cdn:Route")
    assert any(dep.endswith(f"::{origin.name}") for dep in route.dependencies)
    body = named(global_plan, "azure-native:storage:Blob", "storage-unavailable.json").inputs
    assert json.loads(body["source"]["text"])["error"] == "unavailable"


def test_outputs_give_regions_everything_they_read(global_plan: StackPlan) -> None:
    outputs = global_plan.outputs
    assert outputs["registryLoginServer"] == f"{NAMES.registry(SEED)}.azurecr.io"
    assert outputs["keyVaultUri"] == f"https://{NAMES.vault(SEED)}.vault.azure.net/"
    assert outputs["originGroup"] == NAMES.origin_group
    assert outputs["frontDoorProfile"] == NAMES.front_door
    assert outputs["globalUrl"].startswith("https://")
    assert set(outputs["identities"]) == set(MANIFEST.regions)


def test_no_secret_value_appears_in_the_global_stack(global_plan: StackPlan) -> None:
    text = json.dumps([r.inputs for r in global_plan.resources]) + json.dumps(global_plan.outputs)
    assert all(secret not in text for secret in SECRETS.values())


def test_a_release_cannot_write_an_old_secret_back_into_the_vault() -> None:
    # A release runs `up` on the global stack from the committed stack config. Whatever secret
    # values that config holds (here, one rotated away since), the program writes none.
    stale = {"livekitApiSecret": "the-old-secret-rotated-away-long-ago-42"}
    global_plan = plan("global", secrets=stale)
    assert global_plan.of_type("azure-native:keyvault:Secret") == []
    text = json.dumps([r.inputs for r in global_plan.resources])
    assert stale["livekitApiSecret"] not in text


def test_the_global_stack_deploys_without_any_secret_config() -> None:
    assert plan("global", secrets={}).one("azure-native:keyvault:Vault")


def test_a_fourth_region_adds_a_replica_an_identity_and_a_region_stack_with_its_origin(
    manifest_data, write_manifest
) -> None:
    manifest_data["regions"]["sa-east"] = {"location": "brazilsouth"}
    path = write_manifest(manifest_data)
    global_plan = plan("global", path)
    assert "brazilsouth" in {r.inputs["location"] for r in global_plan.of_type(REPLICATION)}
    assert "id-support-agent-sa-east" in {
        r.inputs["resourceName"] for r in global_plan.of_type(IDENTITY)
    }
    region_plan = plan("prod-sa-east", path)
    assert region_plan.outputs["agentName"] == "support-agent-prod-sa-east"
    shared = named(region_plan, "azure-native:cdn:AFDOrigin", "afd-origin-sa-east").inputs
    assert shared["originGroupName"] == NAMES.origin_group
    assert shared["originName"] == "sa-east"


def test_removing_a_region_removes_its_replica_and_identity(manifest_data, write_manifest) -> None:
    del manifest_data["regions"]["ap-southeast"]
    manifest_data["rollout"]["canary"] = "eu-west"
    global_plan = plan("global", write_manifest(manifest_data))
    assert {r.inputs["location"] for r in global_plan.of_type(REPLICATION)} == {"eastus"}
    assert "id-support-agent-ap-southeast" not in {
        r.inputs["resourceName"] for r in global_plan.of_type(IDENTITY)
    }
    assert "ap-southeast" not in global_plan.outputs["identities"]


def test_global_names_are_unique_per_stack_prefix() -> None:
    prod, staging = MANIFEST.global_names("prod-global"), MANIFEST.global_names("staging-global")
    assert prod.resource_group == "rg-support-agent-prod-global"
    assert prod.registry(SEED) != staging.registry(SEED)
    assert prod.vault(SEED) != staging.vault(SEED)
    assert 5 <= len(prod.registry(SEED)) <= 50 and prod.registry(SEED).isalnum()
    assert 3 <= len(prod.vault(SEED)) <= 24


GLOBALLY_UNIQUE = {
    "azure-native:containerregistry:Registry": "registryName",
    "azure-native:keyvault:Vault": "vaultName",
    "azure-native:storage:StorageAccount": "accountName",
    "azure-native:cdn:AFDEndpoint": "endpointName",
}


def _global_names(plan: StackPlan) -> dict[tuple[str, str], str]:
    """Each globally unique resource: (type, Pulumi name) -> its Azure name."""
    return {
        (r.type, r.name): r.inputs[GLOBALLY_UNIQUE[r.type]]
        for r in plan.resources
        if r.type in GLOBALLY_UNIQUE
    }


def test_editing_livekit_url_renames_no_global_resource(manifest_data, write_manifest) -> None:
    manifest_data["livekit_url"] = "wss://another-project.livekit.cloud"
    edited = plan("global", write_manifest(manifest_data))
    before = plan("global")
    assert [(r.type, r.name) for r in edited.resources] == [
        (r.type, r.name) for r in before.resources
    ]
    assert _global_names(edited) == _global_names(before)


def test_globally_unique_names_carry_the_deployments_seed(global_plan: StackPlan) -> None:
    # A second deployment of the same manifest (another subscription, another tenant's
    # staging) draws another seed, so none of these names can collide with this one's.
    names = _global_names(global_plan)
    assert len(names) == 4
    assert all(SEED in name for name in names.values())
    assert {name for _, name in names} == {"registry", "vault", "storage", "endpoint"}


def test_the_seed_is_drawn_once_and_depends_on_nothing_a_user_edits(
    global_plan: StackPlan,
) -> None:
    seed = named(global_plan, "random:index/randomId:RandomId", "name-seed")
    # No keepers: nothing in regions.yaml or the stack config can make Pulumi draw a new one.
    assert seed.inputs == {"byteLength": 4}


@settings(max_examples=200, deadline=None)
@given(
    base=st.text(max_size=80),
    seed=st.text(alphabet="0123456789abcdef", min_size=8, max_size=8),
    rule=st.sampled_from(
        [REGISTRY, KEY_VAULT, STORAGE_ACCOUNT, FRONT_DOOR_ENDPOINT, AI_SERVICES_SUBDOMAIN]
    ),
)
def test_a_unique_name_fits_its_azure_rule_for_any_base(
    base: str, seed: str, rule: AzureNameRule
) -> None:
    name = unique_azure_name(base, seed, rule)
    assert len(name) <= rule.max_length
    assert name.endswith(seed) and name[0].isalpha()
    allowed = "abcdefghijklmnopqrstuvwxyz0123456789" + ("-" if rule.hyphens else "")
    assert set(name) <= set(allowed)
    assert "--" not in name and not name.endswith("-")
