"""What a region's agent container is told: its environment variables and the secrets behind them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from infra.manifest import Region

# LiveKit Inference authenticates with the LiveKit key pair, so "livekit" stages need nothing extra.
PROVIDER_SECRETS: dict[str, str] = {
    "azure": "AZURE_SPEECH_KEY",
    "azure-openai": "AZURE_OPENAI_API_KEY",
    "openai": "OPENAI_API_KEY",
}
LIVEKIT_SECRETS = ("LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")


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
    settings = region.settings
    plain: dict[str, str | None] = {
        "LIVEKIT_URL": settings.livekit_url,
        "LIVEKIT_AGENT_NAME": region.agent_name,
        "MERIDIAN_REGION": region.key,
        "MERIDIAN_LOCATION": settings.location,
        "MERIDIAN_DRAIN_SECONDS": str(settings.drain_seconds),
        "MERIDIAN_LOAD_THRESHOLD": f"{settings.worker.load_threshold:g}",
        "MERIDIAN_IDLE_PROCESSES": str(settings.worker.idle_processes),
        "MERIDIAN_SYSTEM_PROMPT": settings.system_prompt,
    }
    for stage in ("stt", "llm", "tts"):
        spec = getattr(settings.models, stage)
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
