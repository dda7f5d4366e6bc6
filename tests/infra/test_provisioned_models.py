"""Provisioned models in the stacks: per region one Azure AI Services account (custom subdomain,
keys disabled) made with the identities in the global stack, the region identity's two data-plane
roles on it and on its fallback's, the deployments in the region stack, and no key anywhere."""

from __future__ import annotations

import json

import pytest
import yaml

from infra.azure_roles import COGNITIVE_SERVICES_OPENAI_USER, COGNITIVE_SERVICES_SPEECH_USER
from infra.manifest import GlobalNames, load_manifest
from infra.offline import PlannedResource, StackPlan, synth_seed
from tests.infra.stacks import APP, named, plan
from tests.manifests import MODELS_DAY, PROVISIONED

ACCOUNT = "azure-native:cognitiveservices:Account"
DEPLOYMENT = "azure-native:cognitiveservices:Deployment"
GRANT = "azure-native:authorization:RoleAssignment"
# Cognitive Services User can list an account's keys; it must never be granted.
COGNITIVE_SERVICES_USER = "a97b65f3-24c7-4388-baec-2e87135dc908"
MANIFEST = load_manifest(PROVISIONED, on=MODELS_DAY)
GLOBAL = plan("global", PROVISIONED)
NAMES = MANIFEST.global_names("global")
SEED = synth_seed("global")


def account_name(region: str) -> str:
    """A region's account in the planned global stack (its name carries the stack's seed)."""
    return NAMES.ai_account(region, SEED)


@pytest.fixture(scope="module", params=list(MANIFEST.regions))
def region_plan(request: pytest.FixtureRequest) -> StackPlan:
    return plan(request.param, PROVISIONED)


def _env(app: PlannedResource) -> dict[str, dict[str, str]]:
    container = app.inputs["template"]["containers"][0]
    return {v["name"]: {k: x for k, x in v.items() if k != "name"} for v in container["env"]}


def test_each_region_gets_one_ai_services_account_in_its_location() -> None:
    accounts = {a.inputs["accountName"]: a.inputs for a in GLOBAL.of_type(ACCOUNT)}
    assert set(accounts) == {account_name(key) for key in MANIFEST.regions}
    for key, region in MANIFEST.regions.items():
        account = accounts[account_name(key)]
        assert account["kind"] == "AIServices"
        assert account["location"] == region.location
        assert account["sku"] == {"name": "S0"}
        assert account["properties"]["customSubDomainName"] == account_name(key)
        assert account["properties"]["disableLocalAuth"] is True
        assert "restore" not in account["properties"]


def test_account_names_are_dns_labels_unique_per_prefix() -> None:
    for key in MANIFEST.regions:
        name = account_name(key)
        assert len(name) <= 63 and name.replace("-", "").isalnum() and name == name.lower()
    prod = MANIFEST.global_names("prod-global").ai_account("eu-west", synth_seed("prod-global"))
    assert prod != account_name("eu-west")


def test_account_names_are_the_exported_ones_and_keep_fixed_pulumi_names() -> None:
    exported = GLOBAL.outputs["aiAccounts"]
    assert {key: a["name"] for key, a in exported.items()} == {
        key: account_name(key) for key in MANIFEST.regions
    }
    assert {a.name for a in GLOBAL.of_type(ACCOUNT)} == {f"ai-{key}" for key in MANIFEST.regions}


def test_editing_livekit_url_renames_and_replaces_no_account(write_manifest) -> None:
    data = yaml.safe_load(PROVISIONED.read_text())
    data["livekit_url"] = "wss://another-project.livekit.cloud"
    edited = plan("global", write_manifest(data))
    before = {a.name: a.inputs["accountName"] for a in GLOBAL.of_type(ACCOUNT)}
    assert {a.name: a.inputs["accountName"] for a in edited.of_type(ACCOUNT)} == before


def test_a_new_deployment_seed_gives_every_account_a_new_name() -> None:
    other = "0badc0de"
    assert all(NAMES.ai_account(key, other) != account_name(key) for key in MANIFEST.regions)
    assert all(NAMES.ai_account(key, other).endswith(f"-{other}") for key in MANIFEST.regions)


def test_a_long_agent_name_is_cut_never_the_region_key() -> None:
    names = GlobalNames.derive("a" * 40, "staging")
    east, west = (names.ai_account(f"{'r' * 12}-{side}", SEED) for side in ("east", "west"))
    assert east != west
    assert len(east) <= 63 and east.endswith(f"-{'r' * 12}-east-{SEED}")


def test_a_soft_deleted_account_is_restored_instead_of_created() -> None:
    deleted = account_name("eu-west")
    restored = plan("global", PROVISIONED, config={"deletedAiAccounts": json.dumps([deleted])})
    by_name = {a.inputs["accountName"]: a.inputs for a in restored.of_type(ACCOUNT)}
    assert by_name[deleted]["properties"]["restore"] is True
    assert "restore" not in by_name[account_name("us-east")]["properties"]


def _grants_of(identity: str) -> dict[tuple[str, str], str]:
    principal = f"{identity}-principal-id"
    found = {}
    for grant in GLOBAL.of_type(GRANT):
        if grant.inputs["principalId"] == principal:
            role = grant.inputs["roleDefinitionId"].rsplit("/", 1)[-1]
            found[(role, grant.inputs["scope"].rsplit("/", 1)[-1])] = grant.name
    return found


@pytest.mark.parametrize("key", list(MANIFEST.regions))
def test_the_region_identity_may_call_its_account_and_its_fallbacks_and_nothing_more(
    key: str,
) -> None:
    region = MANIFEST.regions[key]
    assert region.ai is not None
    targets = [key, *([region.ai.fallback] if region.ai.fallback else [])]
    ai_grants = {
        (role, scope)
        for role, scope in _grants_of(region.names.identity)
        if role in (COGNITIVE_SERVICES_OPENAI_USER, COGNITIVE_SERVICES_SPEECH_USER)
    }
    assert ai_grants == {
        (role, account_name(t))
        for t in targets
        for role in (COGNITIVE_SERVICES_OPENAI_USER, COGNITIVE_SERVICES_SPEECH_USER)
    }


def test_no_identity_is_granted_cognitive_services_user() -> None:
    roles = {g.inputs["roleDefinitionId"].rsplit("/", 1)[-1] for g in GLOBAL.of_type(GRANT)}
    assert COGNITIVE_SERVICES_USER not in roles


def test_the_region_stack_deploys_the_llm_on_its_account(region_plan: StackPlan) -> None:
    region = MANIFEST.regions[region_plan.stack]
    assert region.ai is not None and region.ai.llm is not None
    (deployment,) = region_plan.of_type(DEPLOYMENT)
    inputs = deployment.inputs
    assert inputs["accountName"] == account_name(region.key)
    assert inputs["resourceGroupName"] == GLOBAL.outputs["resourceGroup"]
    assert inputs["deploymentName"] == "gpt-5.4-mini"
    assert inputs["sku"] == {"name": region.ai.llm.sku, "capacity": 100}
    assert inputs["properties"]["model"] == {
        "format": "OpenAI",
        "name": "gpt-5.4-mini",
        "version": "2026-03-17",
    }


def test_the_agent_app_waits_for_the_deployments(region_plan: StackPlan) -> None:
    (deployment,) = region_plan.of_type(DEPLOYMENT)
    app = named(region_plan, APP, MANIFEST.regions[region_plan.stack].names.app)
    assert any(dep.endswith(f"::{deployment.name}") for dep in app.dependencies)


def test_both_apps_know_the_region_identity_as_azure_client_id(region_plan: StackPlan) -> None:
    identity = GLOBAL.outputs["identities"][region_plan.stack]["clientId"]
    names = MANIFEST.regions[region_plan.stack].names
    for app_name in (names.app, names.dispatch_app):
        env = _env(named(region_plan, APP, app_name))
        assert env["AZURE_CLIENT_ID"] == {"value": identity}


def test_the_agent_is_told_its_account_and_its_fallback(region_plan: StackPlan) -> None:
    region = MANIFEST.regions[region_plan.stack]
    accounts = GLOBAL.outputs["aiAccounts"]
    env = _env(named(region_plan, APP, region.names.app))
    own = accounts[region.key]
    assert env["MERIDIAN_AI_ENDPOINT"] == {"value": own["endpoint"].rstrip("/")}
    assert env["MERIDIAN_AI_RESOURCE_ID"] == {"value": own["id"]}
    assert env["MERIDIAN_LLM_PROVIDER"] == {"value": "azure-ai"}
    assert env["MERIDIAN_LLM_MODEL"] == {"value": "gpt-5.4-mini"}
    fallback = region.ai.fallback if region.ai else None
    if fallback is None:
        assert "MERIDIAN_AI_FALLBACK_ENDPOINT" not in env
    else:
        assert env["MERIDIAN_AI_FALLBACK_ENDPOINT"] == {
            "value": accounts[fallback]["endpoint"].rstrip("/")
        }
        assert env["MERIDIAN_AI_FALLBACK_LOCATION"] == {
            "value": MANIFEST.regions[fallback].location
        }
        assert env["MERIDIAN_LLM_FALLBACK_MODEL"] == {"value": "gpt-5.4-mini"}


def test_no_model_key_appears_in_any_stack() -> None:
    stacks = [GLOBAL, *(plan(key, PROVISIONED) for key in MANIFEST.regions)]
    text = json.dumps([[r.inputs for r in s.resources] + [s.outputs] for s in stacks])
    for variable in ("AZURE_SPEECH_KEY", "AZURE_OPENAI_API_KEY", "OPENAI_API_KEY"):
        assert variable not in text
    # The vault holds LiveKit's pair and nothing else: no model key is asked for.
    assert GLOBAL.outputs["requiredSecrets"] == ["livekit-api-key", "livekit-api-secret"]
    assert not any(
        "listAccountKeys" in r.type or "ListKeys" in r.type for s in stacks for r in s.resources
    )
    for stack in stacks[1:]:
        for app in stack.of_type(APP):
            refs = {s["name"] for s in app.inputs["configuration"]["secrets"]}
            assert refs <= {"livekit-api-key", "livekit-api-secret"}
