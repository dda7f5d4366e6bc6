"""Every name Meridian gives a resource, built in one place.

Three kinds of name, each with its own rule:

- **Pulumi resource names** (logical names, the URN) never depend on a value a user may edit
  later (`livekit_url`, sizes, models): renaming one makes Pulumi replace the resource.
- **Azure names scoped to a subscription or resource group** (resource groups, apps, identities)
  come from the agent name, the stack prefix and the region key: readable, and different for
  `prod-us-east` and `staging-us-east`. An unprefixed stack keeps the names it always had.
- **Azure names that are global** (registry, Key Vault, storage account, Front Door endpoint host,
  AI Services subdomains) add the deployment's **seed**: eight hex characters drawn once, when
  the stack first deploys, and kept in its state (`infra.naming.deployment_seed`). Two
  deployments of one manifest (another subscription, staging next to production in one tenant)
  never share one; editing the manifest never changes it; after `pulumi destroy` a new deploy
  draws a new seed, so it never collides with its own soft-deleted vault or subdomain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from meridian.contract import tagged_agent_name

# The stack named `global` (or `<prefix>-global`) deploys the global layer; so no region may
# use the key.
GLOBAL_KEY = "global"
# The seed is this many random bytes, written as lowercase hex (twice as many characters).
SEED_BYTES = 4


@dataclass(frozen=True)
class AzureNameRule:
    """What Azure allows in one kind of globally unique name: its length, and whether it may
    hold hyphens (never first, last or doubled); every one is lowercase letters and digits."""

    kind: str
    max_length: int
    hyphens: bool


REGISTRY = AzureNameRule("container registry", 50, hyphens=False)
KEY_VAULT = AzureNameRule("key vault", 24, hyphens=True)
STORAGE_ACCOUNT = AzureNameRule("storage account", 24, hyphens=False)
FRONT_DOOR_ENDPOINT = AzureNameRule("Front Door endpoint", 46, hyphens=True)
# Azure AI Services (Cognitive Services) custom subdomain, <name>.cognitiveservices.azure.com:
# the account name too, so one DNS label (63 characters).
AI_SERVICES_SUBDOMAIN = AzureNameRule("AI Services custom subdomain", 63, hyphens=True)


def unique_azure_name(base: str, seed: str, rule: AzureNameRule) -> str:
    """A globally unique Azure name for this deployment: `base` (any text; it is only there for
    people) cut down to what `rule` allows, then the deployment's `seed`, which is what makes the
    name unique. Use it through `infra.naming.unique_name`, which takes the seed output."""
    if not re.fullmatch(f"[0-9a-f]{{{2 * SEED_BYTES}}}", seed):
        raise ValueError(f"a deployment seed is {2 * SEED_BYTES} lowercase hex digits: {seed!r}")
    allowed = r"[^a-z0-9-]" if rule.hyphens else r"[^a-z0-9]"
    body = re.sub(r"-+", "-", re.sub(allowed, "", base.lower())).strip("-")
    joint = "-" if rule.hyphens else ""
    body = body[: rule.max_length - len(seed) - len(joint)].rstrip("-")
    # Every rule wants a letter first; a seed may start with a digit.
    if not body[:1].isalpha():
        body = ("m" + body)[: rule.max_length - len(seed) - len(joint)].rstrip("-")
    return f"{body}{joint}{seed}"


def stack_prefix(stack: str, suffix: str) -> str:
    """The environment prefix of a stack named `<prefix>-<suffix>` (`prod-us-east` → `prod`), or
    "" for a stack named `<suffix>` alone or anything else."""
    if stack.endswith(f"-{suffix}"):
        return stack[: -len(suffix) - 1]
    return ""


@dataclass(frozen=True)
class ResourceNames:
    """Every Azure and LiveKit name of one region in one environment (stack prefix)."""

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
    # The environment these names belong to ("" for an unprefixed stack).
    prefix: str = ""

    @classmethod
    def derive(cls, agent_name: str, region: str, prefix: str = "") -> ResourceNames:
        tagged = tagged_agent_name(agent_name, region, prefix)
        scoped = f"{prefix}-{region}" if prefix else region
        return cls(
            resource_group=f"rg-{tagged}",
            workspace=f"log-{tagged}",
            environment=f"cae-{tagged}",
            identity=f"id-{tagged}",
            app=tagged,
            dispatch_app=f"dispatch-{scoped}",
            tagged_agent_name=tagged,
            # Front Door names live in the environment's own profile: the region key is enough.
            origin=region,
            origin_group=f"dispatch-{region}",
            route=f"region-{region}",
            prefix=prefix,
        )

    def container_apps(self) -> dict[str, str]:
        """Container-app names, by role, that must satisfy Azure's container-app name rules."""
        return {"app": self.app, "dispatch": self.dispatch_app}


CONTAINER_APP_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")


def container_app_name_problems(names: ResourceNames) -> list[str]:
    """Why a region's container-app names break Azure's rules (none: an empty list)."""
    return [
        f"derived container-app name {app_name!r} ({role}) breaks Azure's rules: 2-32 lowercase"
        " letters, digits and hyphens, starting with a letter, ending with a letter or digit,"
        " no '--'"
        for role, app_name in names.container_apps().items()
        if not CONTAINER_APP_NAME.fullmatch(app_name) or "--" in app_name
    ]


@dataclass(frozen=True)
class GlobalNames:
    """Every name in one environment's global stack. Resource-group-scoped names are plain; the
    globally unique ones are methods that add the deployment's seed."""

    prefix: str
    resource_group: str
    front_door: str
    origin_group: str
    fallback_origin: str
    route: str
    # What the globally unique names start with, before the seed: agent name and prefix.
    stem: str

    @classmethod
    def derive(cls, agent_name: str, prefix: str) -> GlobalNames:
        scope = f"{agent_name}-{prefix}-{GLOBAL_KEY}" if prefix else f"{agent_name}-{GLOBAL_KEY}"
        return cls(
            prefix=prefix,
            resource_group=f"rg-{scope}",
            front_door=f"afd-{scope}",
            origin_group="dispatch",
            fallback_origin="fallback",
            route="token",
            stem=f"{prefix}-{agent_name}" if prefix else agent_name,
        )

    def registry(self, seed: str) -> str:
        return unique_azure_name(self.stem, seed, REGISTRY)

    def vault(self, seed: str) -> str:
        return unique_azure_name(f"kv-{self.stem}", seed, KEY_VAULT)

    def storage(self, seed: str) -> str:
        return unique_azure_name(f"st{self.stem}", seed, STORAGE_ACCOUNT)

    def endpoint(self, seed: str) -> str:
        return unique_azure_name(self.stem, seed, FRONT_DOOR_ENDPOINT)

    def ai_account(self, region: str, seed: str) -> str:
        """A region's Azure AI Services account name, which is also its custom subdomain. The
        stem is cut, never the region key, so no two regions' names meet."""
        room = AI_SERVICES_SUBDOMAIN.max_length - len(seed) - len(f"ai--{region}-")
        stem = self.stem[:room].rstrip("-")
        return unique_azure_name(f"ai-{stem}-{region}", seed, AI_SERVICES_SUBDOMAIN)
