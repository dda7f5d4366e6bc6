"""Build the STT, LLM and TTS clients a region's settings name."""

from __future__ import annotations

from dataclasses import dataclass

from livekit.agents import inference, llm, stt, tts
from livekit.agents.types import NOT_GIVEN
from livekit.plugins import azure, openai
from pydantic import SecretStr

from agent.settings import AgentSettings, LlmSettings, SttSettings, TtsSettings


@dataclass(frozen=True)
class Models:
    """The three remote models of one pipeline."""

    stt: stt.STT
    llm: llm.LLM
    tts: tts.TTS


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


def build_models(settings: AgentSettings) -> Models:
    """All three remote models for this region."""
    livekit = LiveKitCredentials(settings.worker.api_key, settings.worker.api_secret)
    return Models(
        stt=build_stt(settings.stt, settings.location, livekit),
        llm=build_llm(settings.llm, livekit),
        tts=build_tts(settings.tts, settings.location, livekit),
    )
