"""Every region also runs dispatch: the same image, public over HTTPS behind the global Front Door,
told about every region and how to reach its peers."""

from __future__ import annotations

import json

import pytest

from infra.env import GlobalEntry, dispatch_env, region_table
from infra.manifest import load_manifest
from infra.offline import PlannedResource, StackPlan
from infra.synth import diff_plans
from meridian.dispatch.settings import load_settings, parse_regions
from tests.infra.stacks import APP, SECRETS, named, plan
from tests.manifests import THREE_REGIONS

MANIFEST = load_manifest(THREE_REGIONS)
ENTRY = GlobalEntry(
    url="https://support-agent-x1.z01.azurefd.net",
    front_door_id="fd-id-1234",
    region_table_url="https://stx1.blob.core.windows.net/meridian/regions.json",
    identity_client_id="client-id-1",
)


def published(global_plan: StackPlan) -> list[dict[str, str]]:
    """The region table the global stack publishes for every dispatch to read."""
    blob = named(global_plan, "azure-native:storage:Blob", "storage-regions.json").inputs
    assert blob["contentType"] == "application/json"
    return json.loads(blob["source"]["text"])


@pytest.fixture(scope="module")
def region_plan() -> StackPlan:
    return plan("eu-west")


def dispatch_app(plan: StackPlan) -> PlannedResource:
    return named(plan, APP, "dispatch-eu-west")


def env_of(resource: PlannedResource) -> dict[str, dict[str, str]]:
    container = resource.inputs["template"]["containers"][0]
    return {v["name"]: {k: x for k, x in v.items() if k != "name"} for v in container["env"]}


def parsed(
    manifest=MANIFEST,
    region: str = "eu-west",
    secret: str = "secret-value-for-test-0123456789abcdef",
):
    env = {
        v.name: v.value or secret for v in dispatch_env(manifest, manifest.regions[region], ENTRY)
    }
    return load_settings(env)


def test_dispatch_runs_the_agent_image_with_its_own_command(region_plan: StackPlan) -> None:
    container = dispatch_app(region_plan).inputs["template"]["containers"][0]
    assert container["image"] == MANIFEST.agent.image
    assert container["command"] == ["python", "-m", "meridian.dispatch"]


def test_dispatch_ingress_is_external_and_https_only(region_plan: StackPlan) -> None:
    ingress = dispatch_app(region_plan).inputs["configuration"]["ingress"]
    assert ingress["external"] is True
    assert ingress["allowInsecure"] is False
    assert ingress["targetPort"] == 8080


def test_dispatch_always_has_a_replica(region_plan: StackPlan) -> None:
    assert dispatch_app(region_plan).inputs["template"]["scale"]["minReplicas"] >= 1


def test_dispatch_probes_its_healthz(region_plan: StackPlan) -> None:
    probes = dispatch_app(region_plan).inputs["template"]["containers"][0]["probes"]
    assert {p["type"] for p in probes} == {"Startup", "Liveness", "Readiness"}
    assert all(p["httpGet"] == {"path": "/healthz", "port": 8080} for p in probes)


def test_dispatch_gets_the_region_table_front_door_id_and_secret_refs(
    region_plan: StackPlan,
) -> None:
    global_outputs = plan("global").outputs
    env = env_of(dispatch_app(region_plan))
    # It starts on its own region, then reads the published table with its region's identity.
    table = json.loads(env["MERIDIAN_REGIONS"]["value"])
    assert [row["region"] for row in table] == ["eu-west"]
    assert env["MERIDIAN_REGIONS_URL"] == {"value": global_outputs["regionTableUrl"]}
    assert global_outputs["regionTableUrl"].endswith(".blob.core.windows.net/meridian/regions.json")
    assert env["AZURE_CLIENT_ID"] == {"value": global_outputs["identities"]["eu-west"]["clientId"]}
    assert env["MERIDIAN_REGION"] == {"value": "eu-west"}
    assert env["MERIDIAN_DISPATCH_WORKER_URL"] == {"value": "http://support-agent-eu-west"}
    assert env["MERIDIAN_FRONT_DOOR_ID"] == {"value": global_outputs["frontDoorId"]}
    assert env["LIVEKIT_API_SECRET"] == {"secretRef": "livekit-api-secret"}
    assert SECRETS["livekitApiSecret"] not in json.dumps(dispatch_app(region_plan).inputs)


def test_peers_are_reached_through_their_route_on_the_global_url() -> None:
    # Derived from the global stack's URL: nothing is copied back by hand.
    global_plan = plan("global")
    global_url = global_plan.outputs["globalUrl"]
    assert {row["region"]: row["dispatch_url"] for row in published(global_plan)} == {
        key: f"{global_url}/regions/{key}" for key in MANIFEST.regions
    }


def test_the_published_table_is_what_the_dispatch_service_parses() -> None:
    table = parse_regions(json.dumps(published(plan("global"))), "ap-southeast")
    assert [e.location for e in table] == [r.location for r in MANIFEST.regions.values()]


def test_every_region_identity_may_read_the_published_table_and_nothing_else() -> None:
    global_plan = plan("global")
    reads = [
        r.inputs
        for r in global_plan.of_type("azure-native:authorization:RoleAssignment")
        if r.name.endswith("-regions")
    ]
    assert len(reads) == len(MANIFEST.regions)
    for grant in reads:
        assert grant["roleDefinitionId"].endswith("/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1")
        assert grant["scope"].endswith("/meridian")  # the container, not the account
    container = global_plan.one("azure-native:storage:BlobContainer").inputs
    assert container["publicAccess"] == "None"


def test_adding_a_region_changes_no_existing_region_stack(manifest_data, write_manifest) -> None:
    before = {key: plan(key) for key in MANIFEST.regions}
    manifest_data["regions"]["sa-east"] = {"location": "brazilsouth"}
    path = write_manifest(manifest_data)
    after = {key: plan(key, path) for key in MANIFEST.regions}
    diff = diff_plans(before, after)
    assert {key: d["status"] for key, d in diff.items()} == dict.fromkeys(
        MANIFEST.regions, "unchanged"
    )
    # Only the global stack changes: it publishes the new region to the others.
    assert "sa-east" in {row["region"] for row in published(plan("global", path))}


def test_each_region_routes_its_own_path_to_its_own_origin(region_plan: StackPlan) -> None:
    route = named(region_plan, "azure-native:cdn:Route", "afd-region-eu-west").inputs
    assert route["patternsToMatch"] == ["/regions/eu-west/*"]
    assert route["originGroup"]["id"].endswith("/dispatch-eu-west")
    host = region_plan.outputs["dispatchUrl"].removeprefix("https://")
    for origin in region_plan.of_type("azure-native:cdn:AFDOrigin"):
        assert origin.inputs["hostName"] == origin.inputs["originHostHeader"] == host
        assert origin.inputs["enforceCertificateNameCheck"] is True


def test_stack_exports_the_dispatch_url(region_plan: StackPlan) -> None:
    assert region_plan.outputs["dispatchUrl"].startswith("https://dispatch-eu-west.")


def test_rendered_env_is_what_the_dispatch_service_parses() -> None:
    settings = parsed(region="ap-southeast")
    assert settings.region == "ap-southeast"
    assert (
        settings.tagged_agent_name("ap-southeast")
        == MANIFEST.regions["ap-southeast"].tagged_agent_name
    )
    assert [e.region for e in settings.regions] == ["ap-southeast"]
    assert settings.regions_url == ENTRY.region_table_url
    assert settings.azure_client_id == ENTRY.identity_client_id
    assert settings.policy == MANIFEST.dispatch.policy


def test_a_regions_own_dispatch_url_wins_over_the_derived_one(
    manifest_data, write_manifest
) -> None:
    manifest_data["regions"]["us-east"]["dispatch_url"] = "https://dispatch.us.example.com"
    manifest_data["dispatch"] = {
        "cors_origins": ["https://app.example.com"],
        "require_shared_secret": True,
        "country_header": "CF-IPCountry",
    }
    manifest = load_manifest(write_manifest(manifest_data))
    settings = parsed(manifest, secret="shared-secret-at-least-16-and-32-long")
    table = {e.region: e for e in parse_regions(region_table(manifest, ENTRY.url), "eu-west")}
    assert table["us-east"].dispatch_url == "https://dispatch.us.example.com"
    assert table["eu-west"].dispatch_url == f"{ENTRY.url}/regions/eu-west"
    assert settings.policy.cors_origins == ("https://app.example.com",)
    assert settings.policy.country_header == "CF-IPCountry"
    assert settings.shared_secret is not None


def test_shared_secret_is_a_key_vault_reference(manifest_data, write_manifest) -> None:
    manifest_data["dispatch"] = {"require_shared_secret": True}
    secrets = SECRETS | {"meridianDispatchSharedSecret": "backend-shared-secret-123456"}
    path = write_manifest(manifest_data)
    region_plan = plan("eu-west", path, secrets=secrets)
    env = env_of(dispatch_app(region_plan))
    assert env["MERIDIAN_DISPATCH_SHARED_SECRET"] == {
        "secretRef": "meridian-dispatch-shared-secret"
    }
    assert "backend-shared-secret-123456" not in json.dumps(
        [r.inputs for r in region_plan.resources]
    )
    required = plan("global", path).outputs["requiredSecrets"]
    assert "meridian-dispatch-shared-secret" in required


def test_callers_cannot_pick_room_or_identity_by_default() -> None:
    settings = parsed(region="us-east")
    assert "room_name" not in settings.policy.client_fields
    assert "participant_identity" not in settings.policy.client_fields
    assert "room_config" in settings.policy.client_fields
