"""What the parser returns: the manifest, its regions, and every name derived from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from infra.manifest.errors import ManifestError
from infra.manifest.schema import AgentSettings, DispatchSection, RegionSettings
from meridian.contract import tagged_agent_name


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
        )

    def container_apps(self) -> dict[str, str]:
        """Container-app names, by role, that must satisfy Azure's container-app name rules."""
        return {"app": self.app, "dispatch": self.dispatch_app}


class Region(RegionSettings):
    """One deployable region: its key, its settings with defaults applied, and its derived names."""

    key: str
    names: ResourceNames

    @property
    def tagged_agent_name(self) -> str:
        """The name this region's workers register under, e.g. support-agent-eu-west."""
        return self.names.tagged_agent_name


@dataclass(frozen=True)
class Manifest:
    """The whole manifest: the agent, the dispatch section, and every region in file order."""

    path: Path
    agent: AgentSettings
    dispatch: DispatchSection
    regions: Mapping[str, Region]

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
