"""Every region also runs dispatch: the same image, public over HTTPS, told about every region."""

from __future__ import annotations

import json

import pytest

from dispatch.settings import load_settings
from infra.env import dispatch_env
from infra.manifest import load_manifest
from infra.offline import PlannedResource, StackPlan, plan_stack
from tests.manifests import THREE_REGIONS

MANIFEST = load_manifest(THREE_REGIONS)
SECRETS = {
    "livekitApiKey": "APIkey-dispatch-test",
    "livekitApiSecret": "dispatch-secret-never-plain-77",
}


@pytest.fixture(scope="module")
def plan() -> StackPlan:
    return plan_stack("eu-west", secrets=SECRETS)


def dispatch_app(plan: StackPlan) -> PlannedResource:
    return next(
        r for r in plan.of_type("azure-native:app:ContainerApp") if r.name == "dispatch-eu-west"
    )


def env_of(resource: PlannedResource) -> dict[str, dict[str, str]]:
    container = resource.inputs["template"]["containers"][0]
    return {v["name"]: {k: x for k, x in v.items() if k != "name"} for v in container["env"]}


def test_dispatch_runs_the_agent_image_with_its_own_command(plan: StackPlan) -> None:
    container = dispatch_app(plan).inputs["template"]["containers"][0]
    assert container["image"] == MANIFEST.agent.image
    assert container["command"] == ["python", "-m", "dispatch"]


def test_dispatch_ingress_is_external_and_https_only(plan: StackPlan) -> None:
    ingress = dispatch_app(plan).inputs["configuration"]["ingress"]
    assert ingress["external"] is True
    assert ingress["allowInsecure"] is False
    assert ingress["targetPort"] == 8080


def test_dispatch_always_has_a_replica(plan: StackPlan) -> None:
    assert dispatch_app(plan).inputs["template"]["scale"]["minReplicas"] >= 1


def test_dispatch_probes_its_healthz(plan: StackPlan) -> None:
    probes = dispatch_app(plan).inputs["template"]["containers"][0]["probes"]
    assert {p["type"] for p in probes} == {"Startup", "Liveness", "Readiness"}
    assert all(p["httpGet"] == {"path": "/healthz", "port": 8080} for p in probes)


def test_dispatch_gets_the_region_table_and_secret_refs(plan: StackPlan) -> None:
    env = env_of(dispatch_app(plan))
    table = json.loads(env["MERIDIAN_REGIONS"]["value"])
    assert [row["region"] for row in table] == ["us-east", "eu-west", "ap-southeast"]
    assert env["MERIDIAN_REGION"] == {"value": "eu-west"}
    assert env["MERIDIAN_DISPATCH_WORKER_URL"] == {"value": "http://support-agent-eu-west"}
    assert env["LIVEKIT_API_SECRET"] == {"secretRef": "livekit-api-secret"}
    assert SECRETS["livekitApiSecret"] not in json.dumps(dispatch_app(plan).inputs)


def test_stack_exports_the_dispatch_url(plan: StackPlan) -> None:
    assert plan.outputs["dispatchUrl"].startswith("https://dispatch-eu-west.")


def test_rendered_env_is_what_the_dispatch_service_parses() -> None:
    region = MANIFEST.regions["ap-southeast"]
    env = {var.name: var.value or "secret-value-for-test" for var in dispatch_env(MANIFEST, region)}
    settings = load_settings(env)
    assert settings.region == "ap-southeast"
    assert settings.tagged_agent_name("ap-southeast") == region.agent_name
    assert [e.location for e in settings.regions] == [r.location for r in MANIFEST.regions.values()]
    assert settings.token_ttl_seconds == MANIFEST.dispatch.token_ttl_seconds


def test_peer_dispatch_urls_and_policy_reach_the_service(manifest_data, write_manifest) -> None:
    manifest_data["regions"]["us-east"]["dispatch_url"] = "https://dispatch.us.example.com"
    manifest_data["dispatch"] = {
        "cors_origins": ["https://app.example.com"],
        "require_shared_secret": True,
        "country_header": "CF-IPCountry",
    }
    manifest = load_manifest(write_manifest(manifest_data))
    env = {
        v.name: v.value or "shared-secret-at-least-16"
        for v in dispatch_env(manifest, manifest.regions["eu-west"])
    }
    settings = load_settings(env)
    assert settings.entry("us-east").dispatch_url == "https://dispatch.us.example.com"
    assert settings.cors_origins == frozenset({"https://app.example.com"})
    assert settings.country_header == "CF-IPCountry"
    assert settings.shared_secret is not None


def test_shared_secret_comes_from_pulumi_secret_config(manifest_data, write_manifest) -> None:
    manifest_data["dispatch"] = {"require_shared_secret": True}
    secrets = SECRETS | {"meridianDispatchSharedSecret": "backend-shared-secret-123456"}
    plan = plan_stack("eu-west", write_manifest(manifest_data), secrets=secrets)
    env = env_of(dispatch_app(plan))
    assert env["MERIDIAN_DISPATCH_SHARED_SECRET"] == {
        "secretRef": "meridian-dispatch-shared-secret"
    }
    assert "backend-shared-secret-123456" not in json.dumps([r.inputs for r in plan.resources])


def test_callers_cannot_pick_room_or_identity_by_default() -> None:
    env = {
        v.name: v.value or "secret-value-for-test"
        for v in dispatch_env(MANIFEST, MANIFEST.regions["us-east"])
    }
    settings = load_settings(env)
    assert "room_name" not in settings.client_fields
    assert "participant_identity" not in settings.client_fields
    assert "room_config" in settings.client_fields
