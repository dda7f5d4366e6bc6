"""The program behind every stack: the global layer for `global`/`<prefix>-global`, otherwise the
stack's region, reading the global stack's outputs."""

from __future__ import annotations

from datetime import date

import pulumi
from pulumi_azure_native import authorization

from infra.env import all_secrets
from infra.global_layer import GlobalLayer
from infra.global_refs import GlobalOutput, GlobalRefs
from infra.manifest import (
    DEFAULT_MANIFEST,
    GLOBAL_KEY,
    Manifest,
    ManifestError,
    container_app_name_problems,
    global_stack_for,
    is_global_stack,
    load_manifest,
    stack_prefix,
)
from infra.regional_agent import RegionalAgent
from infra.soft_delete import SoftDeleteLookupError, soft_deleted_accounts
from meridian.images import UNBUILT_IMAGE, is_placeholder_image, pinned_image


class RegionOutput:
    """Output names of a region stack, which the release and status scripts read."""

    REGION = "region"
    LOCATION = "location"
    RESOURCE_GROUP = "resourceGroup"
    APP_NAME = "appName"
    AGENT_NAME = "agentName"
    IMAGE = "image"
    LIVEKIT_URL = "livekitUrl"
    DISPATCH_APP_NAME = "dispatchAppName"
    DISPATCH_URL = "dispatchUrl"
    LATEST_REVISION = "latestRevision"
    GLOBAL_STACK = "globalStack"
    GLOBAL_URL = "globalUrl"


def main() -> None:
    """Deploy the global layer or the region this stack names (config `meridian:region` wins)."""
    config = pulumi.Config("meridian")
    stack = pulumi.get_stack()
    try:
        manifest = load_manifest(
            config.get("manifest") or DEFAULT_MANIFEST, on=_deploy_date(config)
        )
        for warning in manifest.warnings:
            pulumi.log.warn(warning)
        if is_global_stack(stack) and not config.get("region"):
            _deploy_global(manifest, stack, config)
        else:
            _deploy_region(manifest, stack, config)
    except ManifestError as exc:
        # RunError is printed without a traceback, like any other deployment error.
        raise pulumi.RunError(str(exc)) from None


def _deploy_date(config: pulumi.Config) -> date | None:
    """config meridian:deployDate (YYYY-MM-DD) checks models' lifecycle as of that day; unset:
    today. A plan made ahead of a deploy, or a test, sets it."""
    text = config.get("deployDate")
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise pulumi.RunError(
            f"config meridian:deployDate: {text!r} is not a date (YYYY-MM-DD)"
        ) from None


def _deleted_ai_accounts(manifest: Manifest, config: pulumi.Config) -> frozenset[str]:
    """The soft-deleted accounts to restore: config meridian:deletedAiAccounts (a JSON list, what
    an offline plan passes), else asked of Azure when any region provisions models."""
    if not any(region.ai for region in manifest.regions.values()):
        return frozenset()
    given = config.get_object("deletedAiAccounts")
    if given is not None:
        if not isinstance(given, list) or not all(isinstance(n, str) for n in given):
            raise pulumi.RunError("config meridian:deletedAiAccounts must be a JSON list of names")
        return frozenset(given)
    subscription = authorization.get_client_config().subscription_id
    try:
        return soft_deleted_accounts(subscription)
    except SoftDeleteLookupError as exc:
        pulumi.log.warn(
            f"could not list soft-deleted Azure AI accounts ({exc}); an account deleted in the"
            " last 48 hours will fail to be created: set config meridian:deletedAiAccounts to"
            " the names to restore"
        )
        return frozenset()


def _deploy_global(manifest: Manifest, stack: str, config: pulumi.Config) -> None:
    # Secret values never pass through Pulumi: they are set in the vault (README, 'Secrets'), so
    # an `up` from any copy of the stack config, a release's included, cannot write an old one.
    layer = GlobalLayer(
        manifest,
        manifest.global_names(stack),
        deleted_ai_accounts=_deleted_ai_accounts(manifest, config),
    )
    pulumi.export(GlobalOutput.RESOURCE_GROUP, layer.resource_group.name)
    pulumi.export(GlobalOutput.REGISTRY_LOGIN_SERVER, layer.registry.login_server)
    pulumi.export(GlobalOutput.REGISTRY_ID, layer.registry.id)
    pulumi.export(GlobalOutput.KEY_VAULT_URI, layer.vault.properties.vault_uri)
    pulumi.export(GlobalOutput.KEY_VAULT_NAME, layer.vault.name)
    pulumi.export(GlobalOutput.KEY_VAULT_ID, layer.vault.id)
    pulumi.export(GlobalOutput.REQUIRED_SECRETS, [s.secret_name for s in all_secrets(manifest)])
    pulumi.export(GlobalOutput.FRONT_DOOR_ID, layer.front_door.front_door_id)
    pulumi.export(GlobalOutput.FRONT_DOOR_PROFILE, layer.front_door.name)
    pulumi.export(GlobalOutput.FRONT_DOOR_ENDPOINT, layer.endpoint.name)
    pulumi.export(GlobalOutput.ORIGIN_GROUP, layer.origin_group.name)
    pulumi.export(GlobalOutput.GLOBAL_URL, layer.url)
    pulumi.export(GlobalOutput.REGION_TABLE_URL, layer.region_table_url)
    pulumi.export(
        GlobalOutput.IDENTITIES,
        {
            key: {"id": i.id, "clientId": i.client_id, "principalId": i.principal_id}
            for key, i in layer.identities.items()
        },
    )
    pulumi.export(
        GlobalOutput.AI_ACCOUNTS,
        {
            key: {
                "name": a.name,
                "id": a.id,
                "endpoint": a.properties.endpoint,
                "location": a.location,
            }
            for key, a in layer.ai_accounts.items()
        },
    )


def _region_image(manifest: Manifest, stack: str, config: pulumi.Config) -> str:
    """The image a region stack deploys: a release sets `meridian:image` per stack
    (scripts/rollout.py), `agent.image` in regions.yaml is the default. With neither, a preview
    (and `make synth`) shows UNBUILT_IMAGE, and a deploy is refused."""
    configured = config.get("image")
    image = configured or manifest.agent.image
    if is_placeholder_image(image):
        if pulumi.runtime.is_dry_run():
            return UNBUILT_IMAGE
        if configured:
            where = f"stack config meridian:image is {configured!r}, which nothing builds"
        elif image:
            where = f"{manifest.path.name}: agent.image is {image!r}, which nothing builds"
        else:
            where = (
                f"{manifest.path.name}: agent.image is not set, nor is stack config meridian:image"
            )
        raise pulumi.RunError(
            f"stack {stack} has no built agent image to deploy ({where}). Build and push the image"
            " (README, 'The agent image'), then deploy its digest: `pulumi config set"
            f" meridian:image <registry>.azurecr.io/meridian-agent@sha256:<digest> -s {stack}`"
            " and `pulumi up`, or release it to every region with `scripts/rollout.py --image …`"
        )
    assert image is not None
    try:
        return pinned_image(image, allow_floating=manifest.agent.allow_floating_tag)
    except ValueError as exc:
        raise pulumi.RunError(f"config meridian:image: {exc}") from None


def _deploy_region(manifest: Manifest, stack: str, config: pulumi.Config) -> None:
    region = manifest.region_for_stack(stack, config.get("region"))
    image = _region_image(manifest, stack, config)
    global_stack = config.get("globalStack") or global_stack_for(stack, region.key)
    # The environment is the global stack's: `staging-us-east` reads `staging-global`, and every
    # name it creates (resource group, apps, agent name) carries `staging`.
    names = manifest.region_names(
        region.key, stack_prefix(global_stack.rsplit("/", 1)[-1], GLOBAL_KEY)
    )
    problems = container_app_name_problems(names)
    if problems:
        raise pulumi.RunError(
            f"stack {stack}: {'; '.join(problems)}; shorten the stack prefix, agent.name or the"
            " region key"
        )
    refs = GlobalRefs.read(global_stack, region.key)
    regional = RegionalAgent(manifest, region, names, image, refs)

    pulumi.export(RegionOutput.REGION, region.key)
    pulumi.export(RegionOutput.LOCATION, region.location)
    pulumi.export(RegionOutput.RESOURCE_GROUP, regional.resource_group.name)
    pulumi.export(RegionOutput.APP_NAME, regional.app.name)
    pulumi.export(RegionOutput.AGENT_NAME, names.tagged_agent_name)
    pulumi.export(RegionOutput.IMAGE, image)
    pulumi.export(RegionOutput.LIVEKIT_URL, region.livekit_url)
    pulumi.export(RegionOutput.DISPATCH_APP_NAME, regional.dispatch.name)
    pulumi.export(RegionOutput.DISPATCH_URL, regional.dispatch_url)
    pulumi.export(RegionOutput.LATEST_REVISION, regional.app.latest_revision_name)
    pulumi.export(RegionOutput.GLOBAL_STACK, global_stack)
    pulumi.export(RegionOutput.GLOBAL_URL, refs.global_url)
