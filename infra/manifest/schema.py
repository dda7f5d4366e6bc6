"""The shape of regions.yaml: frozen pydantic models with every per-field rule and bound."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from infra.manifest.errors import SECRET_LIKE_KEY, SECRET_VALUE, did_you_mean
from infra.manifest.leaks import credentials_in_url, secret_in
from meridian.aca_limits import aca_limits
from meridian.ai_models import DeploymentType, Residency
from meridian.contract import (
    AGENT_NAME_MAX_LENGTH,
    AZURE_AI_PROVIDER,
    LLM_PROVIDERS,
    MODEL_STAGES,
    STT_PROVIDERS,
    TTS_PROVIDERS,
    is_agent_base_name,
)
from meridian.geo.regions import azure_regions
from meridian.images import pinned_image
from meridian.policy import DispatchPolicy
from meridian.transport import transport_problem

_LIMITS = aca_limits()
# Container Apps on a workload-profiles environment (Consumption profile): memory is always 2 x CPU.
ALLOWED_CPU_MEMORY: tuple[tuple[float, float], ...] = tuple(
    (float(cpu), float(mem.removesuffix("Gi")))
    for key in (
        "consumption_only_env_v1",
        "consumption_profile_in_workload_profiles_env_v2_adds",
    )
    for cpu, mem in _LIMITS["consumption_cpu_memory_combinations"][key]
)
MAX_REPLICAS = int(_LIMITS["max_replicas"]["cli_arm"])
MAX_GRACE_SECONDS = int(_LIMITS["termination_grace_period_seconds"]["documented_max"])
# Seconds between the end of the agent's drain and SIGKILL, so the worker can exit cleanly.
GRACE_MARGIN_SECONDS = 30
# A system prompt travels as one container environment variable; LLM context, not the manifest,
# is where long documents belong.
MAX_PROMPT_CHARS = 16_000
MAX_URL_CHARS = 2048
MAX_NAME_CHARS = 200

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def _plain_text(value: str, what: str) -> str:
    reason = secret_in(value)
    if reason:
        raise PydanticCustomError(
            SECRET_VALUE,
            f"{what} {reason}; secrets never go in regions.yaml: set them in the global Key"
            " Vault with `az keyvault secret set` (README, 'Secrets')",
        )
    return value


def _url(value: str, schemes: tuple[str, ...], what: str, example: str) -> str:
    problem = transport_problem(value, schemes)
    if problem is not None or not re.fullmatch(r"[a-z]+://[^\s/]+(/\S*)?", value):
        raise ValueError(f"{what} must be {problem or 'a URL'}, such as {example}")
    if credentials_in_url(value):
        raise PydanticCustomError(
            SECRET_VALUE,
            f"{what} must not carry a user name or password: it is shown to every client;"
            " set credentials in the global Key Vault (README, 'Secrets')",
        )
    return value


class Resources(_Model):
    """CPU cores and memory (GiB) of one replica; Container Apps allows only fixed pairs."""

    cpu: float
    memory: Annotated[str, Field(max_length=16)]

    @field_validator("memory")
    @classmethod
    def _memory_format(cls, value: str) -> str:
        if not re.fullmatch(r"\d+(\.\d+)?Gi", value):
            raise ValueError("memory is a size in GiB such as '4Gi' or '0.5Gi'")
        return value

    @property
    def memory_gib(self) -> float:
        return float(self.memory.removesuffix("Gi"))

    @model_validator(mode="after")
    def _allowed_pair(self) -> Resources:
        if (self.cpu, self.memory_gib) not in ALLOWED_CPU_MEMORY:
            pairs = ", ".join(f"{c:g}/{m:g}Gi" for c, m in ALLOWED_CPU_MEMORY)
            raise ValueError(
                f"cpu {self.cpu:g} with memory {self.memory} is not a Container Apps size;"
                f" allowed cpu/memory pairs: {pairs}"
            )
        return self


class Replicas(_Model):
    """How many replicas Container Apps may run; min >= 1 keeps a warm worker registered."""

    min: Annotated[int, Field(ge=0, le=MAX_REPLICAS)]
    max: Annotated[int, Field(ge=1, le=MAX_REPLICAS)]

    @model_validator(mode="after")
    def _ordered(self) -> Replicas:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self


class Scale(_Model):
    """The CPU scale rule: add a replica when average CPU passes this percentage."""

    cpu_percent: Annotated[int, Field(ge=1, le=100)]


class Worker(_Model):
    """The livekit-agents worker's own capacity settings."""

    load_threshold: Annotated[float, Field(gt=0, le=1)]
    idle_processes: Annotated[int, Field(ge=0, le=64)]


class Probe(_Model):
    """An HTTP probe on the worker's health server; ranges are Container Apps' own."""

    initial_delay_seconds: Annotated[int, Field(ge=1, le=60)]
    period_seconds: Annotated[int, Field(ge=1, le=240)]
    timeout_seconds: Annotated[int, Field(ge=1, le=240)]
    failure_threshold: Annotated[int, Field(ge=1, le=10)]


class Probes(_Model):
    startup: Probe
    liveness: Probe


class ModelSpec(_Model):
    """One model stage: which provider, which model, and optionally where and how it speaks.

    For provider `azure-ai` (the account Meridian provisions in the region) the LLM also names its
    deployment type and capacity, and the model may be left out of STT (Azure Speech has one)."""

    provider: Name
    model: Annotated[Name | None, Field(validate_default=True)] = None
    endpoint: Annotated[str | None, Field(max_length=MAX_URL_CHARS)] = None
    language: Annotated[str | None, Field(min_length=1, max_length=35)] = None
    voice: Name | None = None
    deployment: DeploymentType | None = None
    # Standard deployments: thousands of tokens per minute; provisioned: PTUs.
    capacity: Annotated[int | None, Field(ge=1, le=100_000)] = None
    version: Annotated[str | None, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None

    @field_validator("endpoint")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is None:
            return value
        return _url(value, ("https",), "endpoint", "https://<name>.openai.azure.com")

    @field_validator("model")
    @classmethod
    def _model(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("provider") not in (None, AZURE_AI_PROVIDER):
            raise PydanticCustomError("missing", "Field required")
        return value if value is None else _plain_text(value, "this value")

    @field_validator("voice")
    @classmethod
    def _no_secret(cls, value: str | None) -> str | None:
        return value if value is None else _plain_text(value, "this value")


def _provider_check(spec: ModelSpec, allowed: tuple[str, ...], stage: str) -> ModelSpec:
    if spec.provider not in allowed:
        raise ValueError(f"provider {spec.provider!r} is not one of: {', '.join(allowed)}")
    llm_azure_ai = stage == "llm" and spec.provider == AZURE_AI_PROVIDER
    extra = [f for f in ("deployment", "capacity", "version") if getattr(spec, f) is not None]
    if extra and not llm_azure_ai:
        raise ValueError(
            f"{', '.join(extra)} only apply to an LLM with provider {AZURE_AI_PROVIDER!r}"
            " (a deployment Meridian provisions)"
        )
    if spec.provider == AZURE_AI_PROVIDER and spec.endpoint is not None:
        raise ValueError(
            f"provider {AZURE_AI_PROVIDER!r} calls the account Meridian provisions in the region;"
            " an endpoint belongs to provider 'azure' or 'azure-openai'"
        )
    return spec


class Provision(_Model):
    """`models.provision`: Meridian creates one Azure AI Services account in the region (custom
    subdomain, keys disabled) for the stages whose provider is `azure-ai`."""

    # Where Azure may process the calls: in the region, in its data zone (US, EU), or anywhere.
    residency: Residency = "region"
    # On throttling (429), errors or timeouts each model falls back to another region's
    # deployment: the nearest that keeps the residency policy, a named region, or none.
    fallback: Annotated[str, Field(min_length=1, max_length=64)] = "nearest"


class Models(_Model):
    """The STT, LLM and TTS a region's agent calls; each region can point at its own endpoints,
    or ask Meridian to provision them (`provision`)."""

    provision: Provision | None = None
    stt: ModelSpec
    llm: ModelSpec
    tts: ModelSpec

    @field_validator("stt")
    @classmethod
    def _stt(cls, spec: ModelSpec) -> ModelSpec:
        return _provider_check(spec, STT_PROVIDERS, "stt")

    @field_validator("llm")
    @classmethod
    def _llm(cls, spec: ModelSpec) -> ModelSpec:
        spec = _provider_check(spec, LLM_PROVIDERS, "llm")
        if spec.provider == "azure-openai" and spec.endpoint is None:
            raise ValueError(
                "provider 'azure-openai' needs an endpoint (https://<name>.openai.azure.com)"
            )
        if spec.provider == AZURE_AI_PROVIDER:
            missing = [f for f in ("model", "deployment", "capacity") if getattr(spec, f) is None]
            if missing:
                raise ValueError(
                    f"provider {AZURE_AI_PROVIDER!r} needs {', '.join(missing)}: the Azure model"
                    " (e.g. gpt-5.4-mini), its deployment type (regional, data-zone, global or"
                    " provisioned) and capacity (thousands of tokens per minute, or PTUs)"
                )
        return spec

    @field_validator("tts")
    @classmethod
    def _tts(cls, spec: ModelSpec) -> ModelSpec:
        spec = _provider_check(spec, TTS_PROVIDERS, "tts")
        if spec.provider == AZURE_AI_PROVIDER and not (spec.voice or spec.model):
            raise ValueError(
                f"provider {AZURE_AI_PROVIDER!r} needs a voice (e.g. en-US-AvaMultilingualNeural)"
            )
        return spec

    @model_validator(mode="after")
    def _provisioned(self) -> Models:
        uses = [s for s in MODEL_STAGES if getattr(self, s).provider == AZURE_AI_PROVIDER]
        if uses and self.provision is None:
            raise ValueError(
                f"{', '.join(uses)} use provider {AZURE_AI_PROVIDER!r}, the account Meridian"
                " provisions: add models.provision (residency: region, data-zone or any)"
            )
        if self.provision is not None and not uses:
            raise ValueError(
                f"models.provision creates an account no stage uses: set a stage's provider to"
                f" {AZURE_AI_PROVIDER!r}, or set provision: null"
            )
        return self

    @property
    def provisioned_stages(self) -> tuple[str, ...]:
        """The stages served by the account Meridian provisions in the region."""
        return tuple(s for s in MODEL_STAGES if getattr(self, s).provider == AZURE_AI_PROVIDER)


def known_location(value: str) -> str:
    """An Azure ARM location name, or a ValueError that suggests the closest ones."""
    known = azure_regions()
    if value not in known:
        close = did_you_mean(value, list(known), limit=3)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise ValueError(
            f"{value!r} is not an Azure region{hint} (see meridian/geo/data/azure_regions.csv)"
        )
    return value


class RegionSettings(_Model):
    """Everything that may differ per region: the defaults merged with the region's overrides."""

    location: Annotated[str, Field(max_length=64)]
    livekit_url: Annotated[str, Field(max_length=MAX_URL_CHARS)]
    resources: Resources
    replicas: Replicas
    scale: Scale
    worker: Worker
    drain_seconds: Annotated[int, Field(ge=1, le=MAX_GRACE_SECONDS - GRACE_MARGIN_SECONDS)]
    probes: Probes
    latency_budget_ms: Annotated[int, Field(ge=100, le=10_000)]
    models: Models
    system_prompt: Annotated[str | None, Field(min_length=1, max_length=MAX_PROMPT_CHARS)] = None
    tags: dict[str, str] = Field(default_factory=dict, max_length=50)
    # Where other regions' dispatch services reach this one (a custom domain); without it, the
    # global stack's Front Door origin host is used.
    dispatch_url: Annotated[str | None, Field(max_length=MAX_URL_CHARS)] = None

    @field_validator("dispatch_url")
    @classmethod
    def _dispatch_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not re.fullmatch(r"https?://[^\s/]+/?", value):
            raise ValueError(
                "dispatch_url must be an https:// origin such as https://dispatch.eu.example.com"
            )
        return _url(value, ("https",), "dispatch_url", "https://dispatch.eu.example.com").rstrip(
            "/"
        )

    @field_validator("location")
    @classmethod
    def _known_location(cls, value: str) -> str:
        return known_location(value)

    @field_validator("livekit_url")
    @classmethod
    def _livekit_url(cls, value: str) -> str:
        return _url(value, ("wss",), "livekit_url", "wss://<project>.livekit.cloud")

    @field_validator("system_prompt")
    @classmethod
    def _prompt(cls, value: str | None) -> str | None:
        return value if value is None else _plain_text(value, "system_prompt")

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: dict[str, str]) -> dict[str, str]:
        for key, value in tags.items():
            if re.search(SECRET_LIKE_KEY, key, re.IGNORECASE):
                raise ValueError(
                    f"tag {key!r} looks like a secret; tags are plain text on every resource"
                )
            if not key or len(key) > 512 or re.search(r"[<>%&\\?/]", key):
                raise ValueError(f"tag name {key!r} must be 1-512 characters without <>%&\\?/")
            if len(value) > 256:
                raise ValueError(f"tag {key!r} value is longer than 256 characters")
            _plain_text(value, f"tag {key!r}")
        return tags

    @property
    def grace_seconds(self) -> int:
        """Container termination grace period: the drain window plus a margin to exit."""
        return self.drain_seconds + GRACE_MARGIN_SECONDS


class AgentSettings(_Model):
    """The one agent: its base name and the image every region runs by default."""

    name: Annotated[str, Field(max_length=AGENT_NAME_MAX_LENGTH)]
    # Only for trying things out: lets a floating tag such as :latest through. Declared before
    # image so the image check can see it.
    allow_floating_tag: bool = False
    # Unset until an image is built: a release sets each stack's `meridian:image`, and a region
    # stack refuses to deploy without one.
    image: Annotated[str | None, Field(max_length=512)] = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not is_agent_base_name(value):
            raise ValueError(
                f"agent name must be 1-{AGENT_NAME_MAX_LENGTH} lowercase letters, digits and"
                " single hyphens, starting with a letter and ending with a letter or digit"
            )
        return value

    @field_validator("image")
    @classmethod
    def _image(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        return pinned_image(value, allow_floating=bool(info.data.get("allow_floating_tag")))


class DispatchSection(DispatchPolicy):
    """The `dispatch:` section: the token endpoint's policy plus how its app is sized."""

    resources: Resources = Resources(cpu=0.5, memory="1Gi")
    replicas: Replicas = Replicas(min=1, max=3)

    @field_validator("replicas")
    @classmethod
    def _always_on(cls, replicas: Replicas) -> Replicas:
        if replicas.min < 1:
            raise ValueError(
                "dispatch needs min replicas >= 1: clients call it before any agent runs"
            )
        return replicas

    @property
    def policy(self) -> DispatchPolicy:
        """The part the dispatch service itself reads."""
        return DispatchPolicy.model_validate(
            self.model_dump(include=set(DispatchPolicy.model_fields))
        )


class FrontDoorProbe(_Model):
    """How Front Door checks each region's dispatch `/healthz` and picks among healthy ones
    (Azure's own ranges for an origin group)."""

    interval_seconds: Annotated[int, Field(ge=5, le=255)] = 30
    sample_size: Annotated[int, Field(ge=1, le=255)] = 4
    successful_samples_required: Annotated[int, Field(ge=1, le=255)] = 3
    # Regions within this many ms of the fastest one share traffic (latency-based routing).
    additional_latency_ms: Annotated[int, Field(ge=0, le=1000)] = 50

    @model_validator(mode="after")
    def _samples(self) -> FrontDoorProbe:
        if self.successful_samples_required > self.sample_size:
            raise ValueError(
                f"successful_samples_required ({self.successful_samples_required}) must not"
                f" exceed sample_size ({self.sample_size})"
            )
        return self


class GlobalSettings(_Model):
    """The `global:` section: where the shared registry, vault and Front Door profile live."""

    location: Annotated[str, Field(max_length=64)]
    front_door: FrontDoorProbe = FrontDoorProbe()

    @field_validator("location")
    @classmethod
    def _known_location(cls, value: str) -> str:
        return known_location(value)


class RolloutSettings(_Model):
    """The `rollout:` section: the canary region goes first, then the rest in waves of this size."""

    canary: Annotated[str | None, Field(max_length=64)] = None
    wave_size: Annotated[int, Field(ge=1, le=100)] = 2


class ManifestFile(_Model):
    """The top level of regions.yaml, before each section is validated on its own."""

    agent: dict[str, Any]
    livekit_url: Any
    global_: dict[str, Any] = Field(alias="global")
    dispatch: dict[str, Any] = Field(default_factory=dict)
    rollout: dict[str, Any] = Field(default_factory=dict)
    defaults: dict[str, Any]
    regions: dict[str, dict[str, Any] | None]
