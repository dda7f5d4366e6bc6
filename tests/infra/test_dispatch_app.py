"""Every region also runs dispatch: the same image, public over HTTPS behind the global Front Door,
told about every region and how to reach its peers."""

from __future__ import annotations

import json

import pytest

from infra.env import GlobalEntry, dispatch_env
from infra.manifest import load_manifest
from infra.offline import PlannedResource, StackPlan
from meridian.dispatch.settings import load_settings
from tests.infra.stacks import APP, SECRETS, named, plan
from tests.manifests import THREE_REGIONS

MANIFEST = load_manifest(THREE_REGIONS)
ENTRY = GlobalEntry(url="https://support-agent-x1.z01.azurefd.net", front_door_id="fd-id-1234")


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
    table = json.loads(env["MERIDIAN_REGIONS"]["value"])
    assert [row["region"] for row in table] == ["us-east", "eu-west", "ap-southeast"]
    assert env["MERIDIAN_REGION"] == {"value": "eu-west"}
    assert env["MERIDIAN_DISPATCH_WORKER_URL"] == {"value": "http://support-agent-eu-west"}
    assert env["MERIDIAN_FRONT_DOOR_ID"] == {"value": global_outputs["frontDoorId"]}
    assert env["LIVEKIT_API_SECRET"] == {"secretRef": "livekit-api-secret"}
    assert SECRETS["livekitApiSecret"] not in json.dumps(dispatch_app(region_plan).inputs)


def test_peers_are_reached_through_their_route_on_the_global_url(region_plan: StackPlan) -> None:
    # Derived at first deploy from the global stack's URL: nothing is copied back by hand.
    global_url = plan("global").outputs["globalUrl"]
    table = json.loads(env_of(dispatch_app(region_plan))["MERIDIAN_REGIONS"]["value"])
    assert {row["region"]: row["dispatch_url"] for row in table} == {
        key: f"{global_url}/regions/{key}" for key in MANIFEST.regions
    }


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
    assert [e.location for e in settings.regions] == [r.location for r in MANIFEST.regions.values()]
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
    settings = parsed(
        load_manifest(write_manifest(manifest_data)), secret="shared-secret-at-least-16-and-32-long"
    )
    assert settings.entry("us-east").dispatch_url == "https://dispatch.us.example.com"
    assert settings.entry("eu-west").dispatch_url == f"{ENTRY.url}/regions/eu-west"
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
