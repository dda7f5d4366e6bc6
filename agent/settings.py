"""Parse the agent's environment, once, into a typed and validated settings object.

`AgentEnvironment` is the environment as infra renders it (pydantic-settings, one field per
`meridian.contract.Env` name); `load_settings` checks what depends on more than one variable and
groups the result into `AgentSettings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field, SecretStr, ValidationInfo, field_validator

from agent.prompt import DEFAULT_SYSTEM_PROMPT
from meridian.contract import (
    AGENT_HEALTH_PORT,
    AZURE_AI_PROVIDER,
    LLM_PROVIDERS,
    MODEL_STAGES,
    PROVIDER_SECRETS,
    STT_PROVIDERS,
    TTS_PROVIDERS,
    Env,
    RegionKey,
    is_agent_base_name,
    tagged_agent_name,
)
from meridian.env_settings import EnvSettings, SettingsError, read_env
from meridian.transport import transport_problem

SttProvider = Literal["livekit", "azure", "azure-ai"]
LlmProvider = Literal["livekit", "azure-openai", "openai", "azure-ai"]
TtsProvider = Literal["livekit", "azure", "azure-ai"]
assert get_args(SttProvider) == STT_PROVIDERS
assert get_args(LlmProvider) == LLM_PROVIDERS
assert get_args(TtsProvider) == TTS_PROVIDERS

DEFAULT_FAQ_PATH = Path(__file__).with_name("faq.yaml")
# rapidfuzz scores run 0-100. 85 accepts "whats your opening hours" for "what are your opening
# hours" but rejects questions that only share a topic word; see agent/faq.py.
DEFAULT_FAQ_THRESHOLD = 85.0
DEFAULT_AUDIO_CACHE_MB = 32
# The Azure OpenAI data-plane API version that the OpenAI plugin's chat completions target.
DEFAULT_AZURE_OPENAI_API_VERSION = "2024-10-21"


@dataclass(frozen=True)
class SttSettings:
    """Speech-to-text stage."""

    provider: SttProvider
    model: str
    language: str | None = None
    endpoint: str | None = None
    api_key: SecretStr | None = None


@dataclass(frozen=True)
class LlmSettings:
    """Language-model stage."""

    provider: LlmProvider
    model: str
    endpoint: str | None = None
    api_key: SecretStr | None = None
    api_version: str = DEFAULT_AZURE_OPENAI_API_VERSION


@dataclass(frozen=True)
class TtsSettings:
    """Text-to-speech stage."""

    provider: TtsProvider
    model: str
    voice: str | None = None
    language: str | None = None
    endpoint: str | None = None
    api_key: SecretStr | None = None


@dataclass(frozen=True)
class AiAccount:
    """An Azure AI Services account Meridian provisioned: where to call it, and its resource ID
    (Azure Speech's Entra tokens name it)."""

    endpoint: str
    resource_id: str
    location: str


@dataclass(frozen=True)
class AzureAiSettings:
    """The keyless models of an `azure-ai` region: its account, the identity that calls it, and
    the account (and LLM deployment) every stage falls back to."""

    account: AiAccount
    client_id: str | None = None
    fallback: AiAccount | None = None
    fallback_llm: str | None = None


@dataclass(frozen=True)
class CacheSettings:
    """The FAQ response cache."""

    faq_path: Path = DEFAULT_FAQ_PATH
    threshold: float = DEFAULT_FAQ_THRESHOLD
    audio_budget_bytes: int = DEFAULT_AUDIO_CACHE_MB * 1024 * 1024
    # the worker's audio store, shared by its job processes (agent.server makes it at start)
    audio_dir: Path | None = None


@dataclass(frozen=True)
class WorkerSettings:
    """How the worker registers, sheds load and drains.

    `agent_name` is the base name (``support-agent``); the worker registers with LiveKit under
    `tagged_agent_name` (``support-agent-eu-west``), which LIVEKIT_AGENT_NAME holds.
    """

    livekit_url: str
    api_key: SecretStr
    api_secret: SecretStr
    agent_name: str
    tagged_agent_name: str
    drain_seconds: int
    load_threshold: float
    idle_processes: int
    health_port: int = AGENT_HEALTH_PORT


@dataclass(frozen=True)
class AgentSettings:
    """Everything the agent reads from its environment."""

    region: str
    location: str
    worker: WorkerSettings
    stt: SttSettings
    llm: LlmSettings
    tts: TtsSettings
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    cache: CacheSettings = field(default_factory=CacheSettings)
    # the Container Apps revision this replica runs; None outside Container Apps
    revision: str | None = None
    ai: AzureAiSettings | None = None

    def secrets(self) -> list[str]:
        """Every credential value, so log redaction can scrub them wherever they appear."""
        found = [self.worker.api_key, self.worker.api_secret]
        found += [s.api_key for s in (self.stt, self.llm, self.tts) if s.api_key is not None]
        return [secret.get_secret_value() for secret in found]


def _url(*schemes: str) -> AfterValidator:
    def check(value: str | None) -> str | None:
        if value is None:
            return None
        if problem := transport_problem(value, schemes):
            raise ValueError(f"expected {problem}")
        return value.rstrip("/")

    return AfterValidator(check)


def _var(name: str, expected: str | None = None) -> object:
    return Field(validation_alias=name, description=expected)


_Endpoint = Annotated[str | None, _url("wss", "https")]
_HttpsEndpoint = Annotated[str | None, _url("https")]


class AgentEnvironment(EnvSettings):
    """The agent container's environment, variable by variable (see docs/agent.md)."""

    region: RegionKey = _var(Env.REGION, "the region key, e.g. 'eu-west'")
    location: Annotated[str, Field(pattern=r"^[a-z0-9]+$")] = _var(
        Env.LOCATION, "an Azure location name such as 'westeurope'"
    )
    livekit_url: Annotated[str, _url("wss", "https")] = _var(
        Env.LIVEKIT_URL, "a wss:// or https:// URL (ws:// or http:// only on a loopback address)"
    )
    livekit_api_key: SecretStr = _var(Env.LIVEKIT_API_KEY, "the LiveKit API key")
    livekit_api_secret: SecretStr = _var(Env.LIVEKIT_API_SECRET, "the LiveKit API secret")
    tagged_agent_name: str = _var(Env.LIVEKIT_AGENT_NAME, "'<agent>-<region>'")
    drain_seconds: Annotated[int, Field(ge=1)] = _var(Env.DRAIN_SECONDS, "a whole number >= 1")
    load_threshold: Annotated[float, Field(gt=0, le=1)] = _var(
        Env.LOAD_THRESHOLD, "a number in (0, 1]"
    )
    idle_processes: Annotated[int, Field(ge=0)] = _var(Env.IDLE_PROCESSES, "a whole number >= 0")
    health_port: Annotated[int, Field(ge=1, le=65535)] = Field(
        AGENT_HEALTH_PORT, validation_alias=Env.HEALTH_PORT, description="a port in 1..65535"
    )
    stt_provider: SttProvider = _var(
        Env.model_stage("stt", "provider"), "one of " + ", ".join(STT_PROVIDERS)
    )
    stt_model: str = _var(Env.model_stage("stt", "model"), "the speech-to-text model")
    stt_language: str | None = Field(None, validation_alias=Env.model_stage("stt", "language"))
    stt_endpoint: _Endpoint = Field(None, validation_alias=Env.model_stage("stt", "endpoint"))
    llm_provider: LlmProvider = _var(
        Env.model_stage("llm", "provider"), "one of " + ", ".join(LLM_PROVIDERS)
    )
    llm_model: str = _var(Env.model_stage("llm", "model"), "the language model")
    llm_endpoint: _HttpsEndpoint = Field(None, validation_alias=Env.model_stage("llm", "endpoint"))
    llm_api_version: str = Field(
        DEFAULT_AZURE_OPENAI_API_VERSION, validation_alias=Env.LLM_API_VERSION
    )
    tts_provider: TtsProvider = _var(
        Env.model_stage("tts", "provider"), "one of " + ", ".join(TTS_PROVIDERS)
    )
    tts_model: str = _var(Env.model_stage("tts", "model"), "the text-to-speech model or voice")
    tts_voice: str | None = Field(None, validation_alias=Env.model_stage("tts", "voice"))
    tts_language: str | None = Field(None, validation_alias=Env.model_stage("tts", "language"))
    tts_endpoint: _Endpoint = Field(None, validation_alias=Env.model_stage("tts", "endpoint"))
    azure_speech_key: SecretStr | None = Field(None, validation_alias=PROVIDER_SECRETS["azure"])
    azure_openai_api_key: SecretStr | None = Field(
        None, validation_alias=PROVIDER_SECRETS["azure-openai"]
    )
    openai_api_key: SecretStr | None = Field(None, validation_alias=PROVIDER_SECRETS["openai"])
    azure_client_id: str | None = Field(None, validation_alias=Env.AZURE_CLIENT_ID)
    ai_endpoint: _HttpsEndpoint = Field(None, validation_alias=Env.AI_ENDPOINT)
    ai_resource_id: str | None = Field(None, validation_alias=Env.AI_RESOURCE_ID)
    ai_fallback_endpoint: _HttpsEndpoint = Field(None, validation_alias=Env.AI_FALLBACK_ENDPOINT)
    ai_fallback_resource_id: str | None = Field(None, validation_alias=Env.AI_FALLBACK_RESOURCE_ID)
    ai_fallback_location: Annotated[str | None, Field(pattern=r"^[a-z0-9]+$")] = Field(
        None, validation_alias=Env.AI_FALLBACK_LOCATION
    )
    llm_fallback_model: str | None = Field(None, validation_alias=Env.LLM_FALLBACK_MODEL)
    system_prompt: str = Field(DEFAULT_SYSTEM_PROMPT, validation_alias=Env.SYSTEM_PROMPT)
    faq_path: Path = Field(DEFAULT_FAQ_PATH, validation_alias=Env.FAQ_PATH)
    faq_threshold: Annotated[float, Field(gt=0, le=100)] = Field(
        DEFAULT_FAQ_THRESHOLD,
        validation_alias=Env.FAQ_THRESHOLD,
        description="a number in (0, 100]",
    )
    # Container Apps sets it; it is never a reason to refuse to start
    revision: str | None = Field(None, validation_alias=Env.CONTAINER_APP_REVISION)
    audio_cache_mb: Annotated[int, Field(ge=0)] = Field(
        DEFAULT_AUDIO_CACHE_MB,
        validation_alias=Env.AUDIO_CACHE_MB,
        description="a whole number >= 0",
    )

    @field_validator("tagged_agent_name")
    @classmethod
    def _tagged_name(cls, value: str, info: ValidationInfo) -> str:
        region = info.data.get("region")
        if region is None:  # the region itself is wrong; that is reported instead
            return value
        base = value.removesuffix(f"-{region}")
        if base == value or not is_agent_base_name(base):
            raise ValueError(
                f"expected {tagged_agent_name('<agent>', region)}: a base agent name (lowercase"
                f" letters, digits and single hyphens) followed by -{region}, the {Env.REGION} key"
            )
        return value

    @field_validator("faq_path")
    @classmethod
    def _readable(cls, value: Path) -> Path:
        if not value.is_file():
            raise ValueError("expected a readable file")
        return value

    def provider_key(self, provider: str) -> SecretStr | None:
        """The credential a model provider needs: None if it needs none or it is not set."""
        variable = PROVIDER_SECRETS.get(provider)
        if variable is None:
            return None
        found = {
            PROVIDER_SECRETS["azure"]: self.azure_speech_key,
            PROVIDER_SECRETS["azure-openai"]: self.azure_openai_api_key,
            PROVIDER_SECRETS["openai"]: self.openai_api_key,
        }[variable]
        return found


def _stage_key(env: AgentEnvironment, stage: str, provider: str) -> SecretStr | None:
    """The provider's credential; SettingsError if the provider needs one that is not set."""
    key = env.provider_key(provider)
    variable = PROVIDER_SECRETS.get(provider)
    if variable is not None and key is None:
        raise SettingsError(
            variable,
            f"is not set; it is required when {Env.model_stage(stage, 'provider')} is {provider}",
        )
    return key


def _livekit_model(stage: str, model: str, example: str) -> str:
    provider, _, rest = model.partition("/")
    if not provider or not rest:
        raise SettingsError(
            Env.model_stage(stage, "model"),
            f"is {model!r}; expected a LiveKit Inference model string such as {example!r}",
        )
    return model


_LIVEKIT_EXAMPLES = {
    "stt": "deepgram/nova-3",
    "llm": "openai/gpt-4.1-mini",
    "tts": "cartesia/sonic-3",
}


def _model(env: AgentEnvironment, stage: str, provider: str, model: str) -> str:
    if provider == "livekit":
        return _livekit_model(stage, model, _LIVEKIT_EXAMPLES[stage])
    return model


def _stt(env: AgentEnvironment) -> SttSettings:
    provider = env.stt_provider
    return SttSettings(
        provider=provider,
        model=_model(env, "stt", provider, env.stt_model),
        language=env.stt_language,
        endpoint=env.stt_endpoint,
        api_key=_stage_key(env, "stt", provider),
    )


def _llm(env: AgentEnvironment) -> LlmSettings:
    provider = env.llm_provider
    model = _model(env, "llm", provider, env.llm_model)
    if provider == "azure-openai" and env.llm_endpoint is None:
        raise SettingsError(
            Env.model_stage("llm", "endpoint"),
            "is not set; expected a URL starting with https:// (the Azure OpenAI resource)",
        )
    return LlmSettings(
        provider=provider,
        model=model,
        endpoint=env.llm_endpoint,
        api_key=_stage_key(env, "llm", provider),
        api_version=env.llm_api_version,
    )


def _tts(env: AgentEnvironment) -> TtsSettings:
    provider = env.tts_provider
    return TtsSettings(
        provider=provider,
        model=_model(env, "tts", provider, env.tts_model),
        voice=env.tts_voice,
        language=env.tts_language,
        endpoint=env.tts_endpoint,
        api_key=_stage_key(env, "tts", provider),
    )


def _azure_ai(env: AgentEnvironment) -> AzureAiSettings | None:
    """The provisioned account, when a stage uses it; every variable it needs, or a SettingsError."""
    uses = [s for s in MODEL_STAGES if getattr(env, f"{s}_provider") == AZURE_AI_PROVIDER]
    if not uses:
        return None
    why = f"it is required when {Env.model_stage(uses[0], 'provider')} is {AZURE_AI_PROVIDER}"
    for variable, value in (
        (Env.AI_ENDPOINT, env.ai_endpoint),
        (Env.AI_RESOURCE_ID, env.ai_resource_id),
    ):
        if value is None:
            raise SettingsError(variable, f"is not set; {why}")
    assert env.ai_endpoint and env.ai_resource_id
    fallback_vars = {
        Env.AI_FALLBACK_ENDPOINT: env.ai_fallback_endpoint,
        Env.AI_FALLBACK_RESOURCE_ID: env.ai_fallback_resource_id,
        Env.AI_FALLBACK_LOCATION: env.ai_fallback_location,
    }
    fallback = None
    if any(v is not None for v in fallback_vars.values()):
        for variable, value in fallback_vars.items():
            if value is None:
                raise SettingsError(
                    variable,
                    "is not set; the fallback account needs its endpoint, resource ID and location",
                )
        fallback = AiAccount(
            env.ai_fallback_endpoint or "",
            env.ai_fallback_resource_id or "",
            env.ai_fallback_location or "",
        )
        if env.llm_provider == AZURE_AI_PROVIDER and env.llm_fallback_model is None:
            raise SettingsError(
                Env.LLM_FALLBACK_MODEL, "is not set; the LLM's fallback needs its deployment name"
            )
    return AzureAiSettings(
        account=AiAccount(env.ai_endpoint, env.ai_resource_id, env.location),
        client_id=env.azure_client_id,
        fallback=fallback,
        fallback_llm=env.llm_fallback_model if fallback else None,
    )


def _worker(env: AgentEnvironment) -> WorkerSettings:
    return WorkerSettings(
        livekit_url=env.livekit_url,
        api_key=env.livekit_api_key,
        api_secret=env.livekit_api_secret,
        agent_name=env.tagged_agent_name.removesuffix(f"-{env.region}"),
        tagged_agent_name=env.tagged_agent_name,
        drain_seconds=env.drain_seconds,
        load_threshold=env.load_threshold,
        idle_processes=env.idle_processes,
        health_port=env.health_port,
    )


def load_settings(environ: Mapping[str, str] | None = None) -> AgentSettings:
    """Read and validate the agent's settings; raises SettingsError for the first bad variable."""
    env = read_env(AgentEnvironment, environ)
    return AgentSettings(
        region=env.region,
        location=env.location,
        worker=_worker(env),
        stt=_stt(env),
        llm=_llm(env),
        tts=_tts(env),
        system_prompt=env.system_prompt,
        cache=CacheSettings(env.faq_path, env.faq_threshold, env.audio_cache_mb * 1024 * 1024),
        revision=(env.revision or "").strip() or None,
        ai=_azure_ai(env),
    )


__all__ = [
    "AgentEnvironment",
    "AgentSettings",
    "AiAccount",
    "AzureAiSettings",
    "CacheSettings",
    "LlmSettings",
    "SettingsError",
    "SttSettings",
    "TtsSettings",
    "WorkerSettings",
    "load_settings",
]
