"""What a region's agent container is told: its environment variables and the secrets behind them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from infra.manifest import Manifest, Region

# LiveKit Inference authenticates with the LiveKit key pair, so "livekit" stages need nothing extra.
PROVIDER_SECRETS: dict[str, str] = {
    "azure": "AZURE_SPEECH_KEY",
    "azure-openai": "AZURE_OPENAI_API_KEY",
    "openai": "OPENAI_API_KEY",
}
LIVEKIT_SECRETS = ("LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")
DISPATCH_SHARED_SECRET = "MERIDIAN_DISPATCH_SHARED_SECRET"


@dataclass(frozen=True)
class SecretSpec:
    """A secret known by one environment variable name, from which its other names derive."""

    env: str

    @property
    def config_key(self) -> str:
        """The Pulumi config key (`pulumi config set --secret meridian:<key>`)."""
        first, *rest = self.env.lower().split("_")
        return first + "".join(part.capitalize() for part in rest)

    @property
    def secret_name(self) -> str:
        """The Container App secret name (lowercase letters, digits and hyphens)."""
        return re.sub(r"[^a-z0-9]+", "-", self.env.lower())


@dataclass(frozen=True)
class EnvVar:
    """One container environment variable: a plain value or a reference to a secret."""

    name: str
    value: str | None = None
    secret: SecretSpec | None = None


def agent_secrets(region: Region) -> list[SecretSpec]:
    """The secrets a region's agent needs: LiveKit's, plus those of the model providers it uses."""
    names = list(LIVEKIT_SECRETS)
    for spec in (region.models.stt, region.models.llm, region.models.tts):
        env = PROVIDER_SECRETS.get(spec.provider)
        if env and env not in names:
            names.append(env)
    return [SecretSpec(name) for name in names]


def agent_env(region: Region) -> list[EnvVar]:
    """The agent container's environment, rendered from the region's settings."""
    plain: dict[str, str | None] = {
        "LIVEKIT_URL": region.livekit_url,
        "LIVEKIT_AGENT_NAME": region.agent_name,
        "MERIDIAN_REGION": region.key,
        "MERIDIAN_LOCATION": region.location,
        "MERIDIAN_DRAIN_SECONDS": str(region.drain_seconds),
        "MERIDIAN_LOAD_THRESHOLD": f"{region.worker.load_threshold:g}",
        "MERIDIAN_IDLE_PROCESSES": str(region.worker.idle_processes),
        "MERIDIAN_SYSTEM_PROMPT": region.system_prompt,
    }
    for stage in ("stt", "llm", "tts"):
        spec = getattr(region.models, stage)
        prefix = f"MERIDIAN_{stage.upper()}_"
        plain |= {
            f"{prefix}PROVIDER": spec.provider,
            f"{prefix}MODEL": spec.model,
            f"{prefix}ENDPOINT": spec.endpoint,
            f"{prefix}LANGUAGE": spec.language,
            f"{prefix}VOICE": spec.voice,
        }
    env = [EnvVar(name, value) for name, value in plain.items() if value is not None]
    env += [EnvVar(secret.env, secret=secret) for secret in agent_secrets(region)]
    return env


def dispatch_secrets(manifest: Manifest) -> list[SecretSpec]:
    """The secrets the dispatch service needs: LiveKit's, plus the shared secret when required."""
    names = [*LIVEKIT_SECRETS]
    if manifest.dispatch.require_shared_secret:
        names.append(DISPATCH_SHARED_SECRET)
    return [SecretSpec(name) for name in names]


def region_table(manifest: Manifest) -> str:
    """MERIDIAN_REGIONS: every region dispatch may send users to, as the service parses it."""
    return json.dumps(
        [
            {
                "region": r.key,
                "location": r.location,
                "livekit_url": r.livekit_url,
                **({"dispatch_url": r.dispatch_url} if r.dispatch_url else {}),
            }
            for r in manifest.regions.values()
        ],
        separators=(",", ":"),
    )


def dispatch_env(manifest: Manifest, region: Region) -> list[EnvVar]:
    """The dispatch container's environment: its region, the region table and its policy."""
    d = manifest.dispatch
    plain: dict[str, str | None] = {
        "MERIDIAN_REGION": region.key,
        "MERIDIAN_AGENT_NAME": manifest.agent_name,
        "MERIDIAN_REGIONS": region_table(manifest),
        # Inside a Container Apps environment, http://<app name> reaches that app's internal ingress.
        "MERIDIAN_DISPATCH_WORKER_URL": f"http://{region.names.app}",
        "MERIDIAN_DISPATCH_CLIENT_FIELDS": ",".join(d.client_fields),
        "MERIDIAN_DISPATCH_TOKEN_TTL_SECONDS": str(d.token_ttl_seconds),
        "MERIDIAN_DISPATCH_CAN_PUBLISH": _flag(d.can_publish),
        "MERIDIAN_DISPATCH_CAN_SUBSCRIBE": _flag(d.can_subscribe),
        "MERIDIAN_DISPATCH_ALLOW_REGION_OVERRIDE": _flag(d.allow_region_override),
        "MERIDIAN_DISPATCH_COUNTRY_HEADER": d.country_header,
        "MERIDIAN_DISPATCH_CORS_ORIGINS": ",".join(d.cors_origins) or None,
        "MERIDIAN_DISPATCH_RATE_PER_MINUTE": str(d.rate_per_minute),
        "MERIDIAN_DISPATCH_RATE_BURST": str(d.rate_burst),
        "MERIDIAN_DISPATCH_PROBE_INTERVAL_SECONDS": f"{d.probes.interval_seconds:g}",
        "MERIDIAN_DISPATCH_PROBE_TIMEOUT_SECONDS": f"{d.probes.timeout_seconds:g}",
        "MERIDIAN_DISPATCH_DOWN_AFTER_FAILURES": str(d.probes.down_after_failures),
        "MERIDIAN_DISPATCH_UP_AFTER_SUCCESSES": str(d.probes.up_after_successes),
    }
    env = [EnvVar(name, value) for name, value in plain.items() if value is not None]
    env += [EnvVar(secret.env, secret=secret) for secret in dispatch_secrets(manifest)]
    return env


def _flag(value: bool) -> str:
    return "true" if value else "false"
