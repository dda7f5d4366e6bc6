"""Build the STT, LLM and TTS clients a region's settings name: LiveKit Inference, a given endpoint
with its key, or (`azure-ai`) the region's own Azure AI Services account, keyless, each stage
falling back to the account of the region's fallback on throttling, errors or timeouts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from azure.core.credentials_async import AsyncTokenCredential
from livekit.agents import inference, llm, stt, tts
from livekit.agents.llm.chat_context import MetricsMetadata
from livekit.agents.types import NOT_GIVEN
from livekit.plugins import azure, openai
from pydantic import SecretStr

from agent.azure_speech import EntraSTT, EntraTTS
from agent.entra import EntraTokens, region_credential
from agent.settings import (
    AgentSettings,
    AiAccount,
    AzureAiSettings,
    LlmSettings,
    SttSettings,
    TtsSettings,
)
from meridian.contract import AZURE_AI_PROVIDER


@dataclass(frozen=True)
class Served:
    """Who serves a stage: the provider, the deployment (model, deployment or voice) and the Azure
    location called (None when the provider does not say, e.g. LiveKit Inference)."""

    provider: str
    deployment: str
    location: str | None


@dataclass(frozen=True)
class FallbackSettings:
    """How soon a stage gives up on its primary deployment and asks the fallback instead. The
    LLM's first token normally comes in well under a second; three seconds is an outage."""

    llm_attempt_timeout: float = 3.0
    stt_attempt_timeout: float = 5.0
    # Throttling (429) is what falls back most: retrying the same deployment only waits longer.
    retries: int = 0


@dataclass
class Placements:
    """Who each model instance is, keyed by the metadata livekit-agents stamps on every turn's
    metrics (the instance that served it, also behind a FallbackAdapter)."""

    _by_metadata: dict[tuple[str, str, str], Served] = field(default_factory=dict)

    def add(self, stage: str, instance: stt.STT | llm.LLM | tts.TTS, served: Served) -> None:
        """Remember an instance built for a stage."""
        meta = instance.metrics_metadata
        self._by_metadata[(stage, meta.get("model_provider", ""), meta.get("model_name", ""))] = (
            served
        )

    def resolve(
        self, stage: str, metadata: Mapping[str, str] | MetricsMetadata | None
    ) -> Served | None:
        """The instance behind a turn's `<stage>_metadata`, or None when unknown."""
        if not metadata:
            return None
        key = (stage, metadata.get("model_provider", ""), metadata.get("model_name", ""))
        return self._by_metadata.get(key)


@dataclass
class Models:
    """The three remote models of one pipeline, who each instance is, and what to close."""

    stt: stt.STT
    llm: llm.LLM
    tts: tts.TTS
    placements: Placements = field(default_factory=Placements)
    tokens: EntraTokens | None = None

    async def aclose(self) -> None:
        """Close what the models hold beyond the session (the Entra credential)."""
        if self.tokens is not None:
            await self.tokens.aclose()


def _key(secret: SecretStr | None) -> str:
    # settings.load_settings guarantees a key for every provider that needs one
    assert secret is not None
    return secret.get_secret_value()


@dataclass(frozen=True)
class LiveKitCredentials:
    """The project key pair; LiveKit Inference authenticates with it."""

    api_key: SecretStr
    api_secret: SecretStr


def build_stt(settings: SttSettings, location: str, livekit: LiveKitCredentials) -> stt.STT:
    """Speech-to-text: LiveKit Inference, or Azure Speech in the region's own location."""
    if settings.provider == "livekit":
        return inference.STT(
            model=settings.model,  # type: ignore[arg-type]
            language=settings.language or NOT_GIVEN,
            base_url=settings.endpoint or NOT_GIVEN,
            api_key=livekit.api_key.get_secret_value(),
            api_secret=livekit.api_secret.get_secret_value(),
        )
    if settings.endpoint:
        return azure.STT(
            speech_key=_key(settings.api_key),
            speech_endpoint=settings.endpoint,
            language=settings.language or NOT_GIVEN,
        )
    return azure.STT(
        speech_key=_key(settings.api_key),
        speech_region=location,
        language=settings.language or NOT_GIVEN,
    )


def build_llm(settings: LlmSettings, livekit: LiveKitCredentials) -> llm.LLM:
    """Language model: LiveKit Inference, Azure OpenAI (model = deployment) or OpenAI."""
    if settings.provider == "livekit":
        return inference.LLM(
            model=settings.model,
            base_url=settings.endpoint,
            api_key=livekit.api_key.get_secret_value(),
            api_secret=livekit.api_secret.get_secret_value(),
        )
    if settings.provider == "azure-openai":
        return openai.LLM.with_azure(
            model=settings.model,
            azure_deployment=settings.model,
            azure_endpoint=settings.endpoint,
            api_key=_key(settings.api_key),
            api_version=settings.api_version,
        )
    return openai.LLM(
        model=settings.model,
        api_key=_key(settings.api_key),
        base_url=settings.endpoint or NOT_GIVEN,
    )


def build_tts(settings: TtsSettings, location: str, livekit: LiveKitCredentials) -> tts.TTS:
    """Text-to-speech: LiveKit Inference, or Azure Speech in the region's own location."""
    if settings.provider == "livekit":
        return inference.TTS(
            model=settings.model,  # type: ignore[arg-type]
            voice=settings.voice or NOT_GIVEN,
            language=settings.language or NOT_GIVEN,
            base_url=settings.endpoint or NOT_GIVEN,
            api_key=livekit.api_key.get_secret_value(),
            api_secret=livekit.api_secret.get_secret_value(),
        )
    # Azure Speech has no model choice for neural voices: the model names the voice unless a
    # separate voice is given.
    voice = settings.voice or settings.model
    return azure.TTS(
        voice=voice,
        language=settings.language,
        speech_key=_key(settings.api_key),
        speech_region=None if settings.endpoint else location,
        speech_endpoint=settings.endpoint,
    )


def _placement(stage: str, provider: str, model: str, settings: AgentSettings) -> Served:
    # A key-based Azure stage runs in the region's location unless an endpoint says otherwise.
    location = settings.location if provider == "azure" and stage != "llm" else None
    return Served(provider=provider, deployment=model, location=location)


@dataclass(frozen=True)
class _AzureAi:
    """Builds the keyless models of one Azure AI Services account."""

    tokens: EntraTokens
    account: AiAccount
    api_version: str

    def stt(self, settings: SttSettings) -> EntraSTT:
        return EntraSTT(
            tokens=self.tokens,
            resource_id=self.account.resource_id,
            location=self.account.location,
            language=settings.language,
        )

    def llm(self, deployment: str) -> llm.LLM:
        return openai.LLM.with_azure(
            model=deployment,
            azure_deployment=deployment,
            azure_endpoint=self.account.endpoint,
            azure_ad_token_provider=self.tokens.token,
            api_version=self.api_version,
        )

    def tts(self, settings: TtsSettings) -> EntraTTS:
        return EntraTTS(
            tokens=self.tokens,
            resource_id=self.account.resource_id,
            location=self.account.location,
            voice=settings.voice or settings.model,
            language=settings.language,
        )


def build_models(
    settings: AgentSettings,
    *,
    credential: AsyncTokenCredential | None = None,
    fallback: FallbackSettings = FallbackSettings(),
) -> Models:
    """All three remote models for this region. `azure-ai` stages authenticate as the region
    identity (`credential`, default azure-identity's chain with AZURE_CLIENT_ID)."""
    livekit = LiveKitCredentials(settings.worker.api_key, settings.worker.api_secret)
    placements = Placements()
    ai: AzureAiSettings | None = settings.ai
    tokens = None
    if ai is not None:
        tokens = EntraTokens(credential or region_credential(ai.client_id))

    def provisioned(account: AiAccount) -> _AzureAi:
        assert tokens is not None
        return _AzureAi(tokens, account, settings.llm.api_version)

    if settings.stt.provider == AZURE_AI_PROVIDER and ai is not None:
        chain = [(provisioned(ai.account).stt(settings.stt), ai.account)]
        if ai.fallback:
            chain.append((provisioned(ai.fallback).stt(settings.stt), ai.fallback))
        for instance, account in chain:
            placements.add("stt", instance, Served(AZURE_AI_PROVIDER, "speech", account.location))
        stt_model: stt.STT = (
            stt.FallbackAdapter(
                [i for i, _ in chain],
                attempt_timeout=fallback.stt_attempt_timeout,
                max_retry_per_stt=fallback.retries,
            )
            if len(chain) > 1
            else chain[0][0]
        )
    else:
        stt_model = build_stt(settings.stt, settings.location, livekit)
        placements.add(
            "stt", stt_model, _placement("stt", settings.stt.provider, settings.stt.model, settings)
        )

    if settings.llm.provider == AZURE_AI_PROVIDER and ai is not None:
        llms = [(provisioned(ai.account).llm(settings.llm.model), settings.llm.model, ai.account)]
        if ai.fallback and ai.fallback_llm:
            llms.append(
                (provisioned(ai.fallback).llm(ai.fallback_llm), ai.fallback_llm, ai.fallback)
            )
        for instance, name, account in llms:
            placements.add("llm", instance, Served(AZURE_AI_PROVIDER, name, account.location))
        llm_model: llm.LLM = (
            llm.FallbackAdapter(
                [i for i, _, _ in llms],
                attempt_timeout=fallback.llm_attempt_timeout,
                max_retry_per_llm=fallback.retries,
            )
            if len(llms) > 1
            else llms[0][0]
        )
    else:
        llm_model = build_llm(settings.llm, livekit)
        placements.add(
            "llm", llm_model, _placement("llm", settings.llm.provider, settings.llm.model, settings)
        )

    if settings.tts.provider == AZURE_AI_PROVIDER and ai is not None:
        voice = settings.tts.voice or settings.tts.model
        voices = [(provisioned(ai.account).tts(settings.tts), ai.account)]
        if ai.fallback:
            voices.append((provisioned(ai.fallback).tts(settings.tts), ai.fallback))
        for instance, account in voices:
            placements.add("tts", instance, Served(AZURE_AI_PROVIDER, voice, account.location))
        tts_model: tts.TTS = (
            tts.FallbackAdapter([i for i, _ in voices], max_retry_per_tts=fallback.retries)
            if len(voices) > 1
            else voices[0][0]
        )
    else:
        tts_model = build_tts(settings.tts, settings.location, livekit)
        served = settings.tts.voice or settings.tts.model
        placements.add("tts", tts_model, _placement("tts", settings.tts.provider, served, settings))
    return Models(stt=stt_model, llm=llm_model, tts=tts_model, placements=placements, tokens=tokens)
