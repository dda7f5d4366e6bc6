"""The program behind every stack: pick the stack's region, build it, export what operators need."""

from __future__ import annotations

import pulumi

from infra.env import agent_secrets, dispatch_secrets
from infra.manifest import DEFAULT_MANIFEST, ManifestError, Region, load_manifest
from infra.regional_agent import RegionalAgent


def main() -> None:
    """Deploy the region selected by config `meridian:region` or the stack name."""
    config = pulumi.Config("meridian")
    try:
        manifest = load_manifest(config.get("manifest") or DEFAULT_MANIFEST)
        region = manifest.region_for_stack(pulumi.get_stack(), config.get("region"))
    except ManifestError as exc:
        # RunError is printed without a traceback, like any other deployment error.
        raise pulumi.RunError(str(exc)) from None

    needed = [*agent_secrets(region), *dispatch_secrets(manifest)]
    secrets = {secret.env: config.require_secret(secret.config_key) for secret in needed}
    regional = RegionalAgent(manifest, region, secrets)
    _export(region, manifest.agent.image, regional)


def _export(region: Region, image: str, regional: RegionalAgent) -> None:
    pulumi.export("region", region.key)
    pulumi.export("location", region.location)
    pulumi.export("resourceGroup", regional.resource_group.name)
    pulumi.export("appName", regional.app.name)
    pulumi.export("agentName", region.tagged_agent_name)
    pulumi.export("image", image)
    pulumi.export("livekitUrl", region.livekit_url)
    pulumi.export("dispatchAppName", regional.dispatch.name)
    pulumi.export("dispatchUrl", regional.dispatch_url)
