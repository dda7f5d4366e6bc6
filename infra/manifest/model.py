"""What the parser returns: the manifest, its regions, and every name derived from them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from infra.manifest.errors import ManifestError
from infra.manifest.schema import (
    AgentSettings,
    DispatchSection,
    GlobalSettings,
    RegionSettings,
    RolloutSettings,
)
from meridian.contract import tagged_agent_name

# The stack named `global` (or `<prefix>-global`) deploys the global layer; so no region may
# use the key.
GLOBAL_KEY = "global"


@dataclass(frozen=True)
class ResourceNames:
    """Every Azure and LiveKit name derived from the agent and region: the one place they are built."""

    resource_group: str
    workspace: str
    environment: str
    identity: str
    app: str
    dispatch_app: str
    tagged_agent_name: str
    # Front Door: the region's origin (in the shared group and in its own), and its own route.
    origin: str
    origin_group: str
    route: str

    @classmethod
    def derive(cls, agent_name: str, region: str) -> ResourceNames:
        tagged = tagged_agent_name(agent_name, region)
        return cls(
            resource_group=f"rg-{tagged}",
            workspace=f"log-{tagged}",
            environment=f"cae-{tagged}",
            identity=f"id-{tagged}",
            app=tagged,
            dispatch_app=f"dispatch-{region}",
            tagged_agent_name=tagged,
            origin=region,
            origin_group=f"dispatch-{region}",
            route=f"region-{region}",
        )

    def container_apps(self) -> dict[str, str]:
        """Container-app names, by role, that must satisfy Azure's container-app name rules."""
        return {"app": self.app, "dispatch": self.dispatch_app}


@dataclass(frozen=True)
class ModelDeployment:
    """One model deployment on a region's Azure AI Services account."""

    name: str
    model: str
    version: str | None
    deployment_type: str
    # Azure's SKU for the deployment type (Standard, DataZoneStandard, ...), and its capacity.
    sku: str
    capacity: int


@dataclass(frozen=True)
class AiModels:
    """What Meridian provisions for a region: its residency policy, the stages its account
    serves, its deployments (created one after another), and the region it falls back to."""

    residency: str
    stages: tuple[str, ...]
    deployments: tuple[ModelDeployment, ...]
    fallback: str | None

    @property
    def llm(self) -> ModelDeployment | None:
        """The LLM deployment, when the LLM stage is provisioned."""
        return self.deployments[0] if "llm" in self.stages and self.deployments else None


class Region(RegionSettings):
    """One deployable region: its key, its settings with defaults applied, and its derived names."""

    key: str
    names: ResourceNames
    # Set when the region's models are provisioned by Meridian (models.provision).
    ai: AiModels | None = None

    @property
    def tagged_agent_name(self) -> str:
        """The name this region's workers register under, e.g. support-agent-eu-west."""
        return self.names.tagged_agent_name


@dataclass(frozen=True)
class GlobalNames:
    """Every name in the global stack. Registry, vault and storage names are global across Azure,
    so they carry a short hash of the agent, the stack prefix and the LiveKit project URL."""

    resource_group: str
    registry: str
    vault: str
    fallback_storage: str
    front_door: str
    endpoint: str
    origin_group: str
    fallback_origin: str
    route: str
    # What every globally unique name is built from: the agent and prefix (letters and digits)
    # and the hash of the agent, prefix and LiveKit URL.
    stem: str = ""
    suffix: str = ""

    def ai_account(self, region: str) -> str:
        """The name (and custom subdomain) of a region's Azure AI Services account."""
        return ai_account_name(self.stem, region, self.suffix)

    @classmethod
    def derive(cls, agent_name: str, prefix: str, livekit_url: str) -> GlobalNames:
        digest = hashlib.sha256(f"{agent_name}|{prefix}|{livekit_url}".encode()).hexdigest()[:8]
        alnum = re.sub(r"[^a-z0-9]", "", agent_name)
        scope = f"{agent_name}-{prefix}-{GLOBAL_KEY}" if prefix else f"{agent_name}-{GLOBAL_KEY}"
        return cls(
            resource_group=f"rg-{scope}",
            registry=f"{alnum[:30]}{re.sub(r'[^a-z0-9]', '', prefix)[:10]}{digest}",
            vault=f"kv-{alnum[:11]}-{digest}",
            fallback_storage=f"st{digest}{alnum}"[:24],
            front_door=f"afd-{scope}",
            endpoint=(f"{agent_name}-{prefix}" if prefix else agent_name)[:46].rstrip("-"),
            origin_group="dispatch",
            fallback_origin="fallback",
            route="token",
            stem=f"{alnum[:20]}{re.sub(r'[^a-z0-9]', '', prefix)[:10]}",
            suffix=digest,
        )


def ai_account_name(stem: str, region: str, suffix: str) -> str:
    """A region's Azure AI Services account, also its custom subdomain: a DNS label global across
    Azure and reserved for 48 h after a delete, so it carries the global names' hash. At most
    3 + 30 + 1 + 20 + 1 + 8 = 63 lowercase letters, digits and hyphens."""
    return f"ai-{stem}-{region}-{suffix}"


@dataclass(frozen=True)
class Manifest:
    """The whole manifest: the agent, the global layer, dispatch, rollout and every region in
    file order."""

    path: Path
    agent: AgentSettings
    # The manifest-wide LiveKit project URL; a region may override its own.
    livekit_url: str
    global_: GlobalSettings
    dispatch: DispatchSection
    rollout: RolloutSettings
    regions: Mapping[str, Region]
    # `file:line: path (got value): note` for what deploys but deserves a look (e.g. Speech's
    # concurrency); synth prints them, `pulumi up` logs them as warnings.
    warnings: tuple[str, ...] = ()

    def global_names(self, stack: str) -> GlobalNames:
        """The global layer's names for a global stack (`global` or `<prefix>-global`)."""
        prefix = stack[: -len(GLOBAL_KEY)].rstrip("-") if is_global_stack(stack) else ""
        return GlobalNames.derive(self.agent.name, prefix, self.livekit_url)

    @property
    def rollout_waves(self) -> list[list[str]]:
        """Region keys in release order: the canary alone, then waves of `rollout.wave_size`."""
        keys = list(self.regions)
        canary = self.rollout.canary or keys[0]
        rest = [k for k in keys if k != canary]
        size = self.rollout.wave_size
        return [[canary], *(rest[i : i + size] for i in range(0, len(rest), size))]

    def region_for_stack(self, stack: str, configured: str | None = None) -> Region:
        """The region a stack deploys: config `meridian:region` if set, else the stack name's suffix."""
        if configured:
            if configured in self.regions:
                return self.regions[configured]
            raise ManifestError(
                [
                    f"config meridian:region: {configured!r} is not a region in {self.path.name};"
                    f" allowed: {', '.join(self.regions)}"
                ]
            )
        matches = [k for k in self.regions if stack == k or stack.endswith(f"-{k}")]
        if not matches:
            raise ManifestError(
                [
                    f"stack {stack!r} matches no region in {self.path.name}: name the stack after a region"
                    f" (optionally with a prefix, e.g. prod-{next(iter(self.regions), 'us-east')}) or set"
                    f" config meridian:region; regions: {', '.join(self.regions)}"
                ]
            )
        return self.regions[max(matches, key=len)]


def is_global_stack(stack: str) -> bool:
    """Whether a stack deploys the global layer: `global` or `<prefix>-global`."""
    return stack == GLOBAL_KEY or stack.endswith(f"-{GLOBAL_KEY}")


def global_stack_for(region_stack: str, region_key: str) -> str:
    """The global stack a region stack reads: `prod-eu-west` reads `prod-global`."""
    if region_stack.endswith(region_key):
        return region_stack[: -len(region_key)] + GLOBAL_KEY
    return GLOBAL_KEY
