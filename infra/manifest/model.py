"""What the parser returns: the manifest and its regions (their names: `infra.manifest.names`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from infra.manifest.errors import ManifestError
from infra.manifest.names import GLOBAL_KEY, GlobalNames, ResourceNames, stack_prefix
from infra.manifest.schema import (
    AgentSettings,
    DispatchSection,
    GlobalSettings,
    RegionSettings,
    RolloutSettings,
)


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
        return GlobalNames.derive(self.agent.name, stack_prefix(stack, GLOBAL_KEY))

    def region_names(self, key: str, prefix: str = "") -> ResourceNames:
        """Region `key`'s names in the environment `prefix` ("" keeps the unprefixed names)."""
        if not prefix:
            return self.regions[key].names
        return ResourceNames.derive(self.agent.name, key, prefix)

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
