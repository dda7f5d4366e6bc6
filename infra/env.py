"""What a region's containers are told: their environment variables and the secrets behind them.

Every name comes from `meridian.contract`, which the agent and dispatch read with; the dispatch
policy is rendered by `meridian.policy.policy_env`, its reader's own counterpart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from infra.manifest import Manifest, Region, ResourceNames
from meridian.contract import (
    AZURE_AI_PROVIDER,
    LIVEKIT_SECRETS,
    MODEL_STAGES,
    PROVIDER_SECRETS,
    Env,
    region_route_prefix,
)
from meridian.policy import policy_env
from meridian.region_table import RegionEntry, render_region_table


@dataclass(frozen=True)
class SecretSpec:
    """A secret known by one environment variable name, from which its other names derive."""

    env: str

    @property
    def secret_name(self) -> str:
        """The Key Vault and Container App secret name (lowercase letters, digits, hyphens)."""
        return re.sub(r"[^a-z0-9]+", "-", self.env.lower())


@dataclass(frozen=True)
class GlobalEntry:
    """What a region's dispatch service knows of the global layer: the entry URL and the ID of the
    Front Door profile whose requests it answers, and the region identity's client ID."""

    url: str
    front_door_id: str
    # The published region table, and the client ID of the region identity that reads it.
    region_table_url: str
    identity_client_id: str


@dataclass(frozen=True)
class AiAccount:
    """A provisioned Azure AI Services account as the agent calls it."""

    endpoint: str
    resource_id: str
    location: str


@dataclass(frozen=True)
class AgentAccess:
    """What the agent needs from the global stack: the region identity's client ID (read by
    azure-identity as AZURE_CLIENT_ID), the region's AI account and its fallback's."""

    identity_client_id: str
    account: AiAccount | None = None
    fallback: AiAccount | None = None
    # The fallback region's LLM deployment, when this region's LLM is provisioned.
    fallback_llm: str | None = None


@dataclass(frozen=True)
class EnvVar:
    """One container environment variable: a plain value or a reference to a secret."""

    name: str
    value: str | None = None
    secret: SecretSpec | None = None


def agent_secrets(region: Region) -> list[SecretSpec]:
    """The secrets a region's agent needs: LiveKit's, plus those of the model providers it uses."""
    names = list(LIVEKIT_SECRETS)
    for stage in MODEL_STAGES:
        env = PROVIDER_SECRETS.get(getattr(region.models, stage).provider)
        if env and env not in names:
            names.append(env)
    return [SecretSpec(name) for name in names]


def agent_env(
    region: Region, access: AgentAccess | None = None, names: ResourceNames | None = None
) -> list[EnvVar]:
    """The agent container's environment, rendered from the region's settings, its names in this
    environment (default: unprefixed) and, when given, what the global stack created for it
    (identity, AI accounts)."""
    names = names or region.names
    plain: dict[str, str | None] = {
        Env.LIVEKIT_URL: region.livekit_url,
        Env.LIVEKIT_AGENT_NAME: names.tagged_agent_name,
        Env.REGION: region.key,
        Env.LOCATION: region.location,
        Env.DRAIN_SECONDS: str(region.drain_seconds),
        Env.LOAD_THRESHOLD: f"{region.worker.load_threshold:g}",
        Env.IDLE_PROCESSES: str(region.worker.idle_processes),
        Env.SYSTEM_PROMPT: region.system_prompt,
    }
    for stage in MODEL_STAGES:
        spec = getattr(region.models, stage)
        for setting in ("provider", "model", "endpoint", "language", "voice"):
            plain[Env.model_stage(stage, setting)] = getattr(spec, setting)
        if spec.provider == AZURE_AI_PROVIDER and spec.model is None:
            # Azure Speech has one model; the TTS stage's voice names what it speaks.
            plain[Env.model_stage(stage, "model")] = (
                "azure-speech" if stage == "stt" else spec.voice
            )
    if access is not None:
        plain[Env.AZURE_CLIENT_ID] = access.identity_client_id
        plain |= _ai_env(region, access)
    return _with_secrets(plain, agent_secrets(region))


def _ai_env(region: Region, access: AgentAccess) -> dict[str, str | None]:
    """The keyless AI account of the region and the one it falls back to: no key, anywhere."""
    if region.ai is None or access.account is None:
        return {}
    env: dict[str, str | None] = {
        Env.AI_ENDPOINT: access.account.endpoint,
        Env.AI_RESOURCE_ID: access.account.resource_id,
    }
    if access.fallback is not None:
        env |= {
            Env.AI_FALLBACK_ENDPOINT: access.fallback.endpoint,
            Env.AI_FALLBACK_RESOURCE_ID: access.fallback.resource_id,
            Env.AI_FALLBACK_LOCATION: access.fallback.location,
            Env.LLM_FALLBACK_MODEL: access.fallback_llm,
        }
    return env


def dispatch_secrets(manifest: Manifest) -> list[SecretSpec]:
    """The secrets the dispatch service needs: LiveKit's, plus the shared secret when required."""
    names = [*LIVEKIT_SECRETS]
    if manifest.dispatch.require_shared_secret:
        names.append(Env.DISPATCH_SHARED_SECRET)
    return [SecretSpec(name) for name in names]


def all_secrets(manifest: Manifest) -> list[SecretSpec]:
    """Every secret any region's containers use: what the global Key Vault must hold."""
    specs = [s for region in manifest.regions.values() for s in agent_secrets(region)]
    specs += dispatch_secrets(manifest)
    return list(dict.fromkeys(specs))


def region_entry(region: Region, global_url: str) -> RegionEntry:
    """One region as dispatch routes by it. Peers are probed through the global entry URL's
    per-region route unless a region names its own dispatch_url, so no address is copied."""
    return RegionEntry(
        region=region.key,
        location=region.location,
        livekit_url=region.livekit_url,
        dispatch_url=region.dispatch_url or f"{global_url}{region_route_prefix(region.key)}",
    )


def region_table(manifest: Manifest, global_url: str) -> str:
    """Every region dispatch may send users to, as the service parses it: what the global layer
    publishes (regions.json) for every region's dispatch to read."""
    return render_region_table([region_entry(r, global_url) for r in manifest.regions.values()])


def dispatch_env(
    manifest: Manifest, region: Region, entry: GlobalEntry, names: ResourceNames | None = None
) -> list[EnvVar]:
    """The dispatch container's environment: its region, the region table and its policy, with
    the region's names in this environment (default: unprefixed)."""
    names = names or region.names
    plain: dict[str, str | None] = {
        Env.REGION: region.key,
        Env.AGENT_BASE_NAME: manifest.agent.name,
        # Only a prefixed environment sets it: unprefixed stacks keep the environment they had.
        Env.STACK_PREFIX: names.prefix or None,
        # Its own region only, which depends on nothing but this region: the service starts on
        # it, then reads the whole table the global layer publishes and keeps it current.
        Env.REGIONS: render_region_table([region_entry(region, entry.url)]),
        Env.REGIONS_URL: entry.region_table_url,
        Env.AZURE_CLIENT_ID: entry.identity_client_id,
        Env.FRONT_DOOR_ID: entry.front_door_id,
        # Inside a Container Apps environment, http://<app name> reaches that app's internal ingress.
        Env.dispatch("worker_url"): f"http://{names.app}",
        **policy_env(manifest.dispatch.policy),
    }
    return _with_secrets(plain, dispatch_secrets(manifest))


def _with_secrets(plain: dict[str, str | None], secrets: list[SecretSpec]) -> list[EnvVar]:
    env = [EnvVar(name, value) for name, value in plain.items() if value is not None]
    return env + [EnvVar(secret.env, secret=secret) for secret in secrets]
