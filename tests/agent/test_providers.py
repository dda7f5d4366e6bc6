"""The provider factory builds the client each region's settings name (no network needed)."""

from __future__ import annotations

from livekit.agents import inference
from livekit.plugins import azure, openai

from agent.providers import build_models
from agent.settings import load_settings
from tests.agent.support import azure_env, base_env


def test_livekit_inference_strings_build_inference_clients() -> None:
    models = build_models(load_settings(base_env()))
    assert isinstance(models.stt, inference.STT) and models.stt.model == "deepgram/nova-3"
    assert isinstance(models.llm, inference.LLM) and models.llm.model == "openai/gpt-4.1-mini"
    assert isinstance(models.tts, inference.TTS) and models.tts.model == "cartesia/sonic-3"


def test_an_azure_region_uses_azure_speech_and_azure_openai() -> None:
    models = build_models(load_settings(azure_env()))
    assert isinstance(models.stt, azure.STT)
    assert isinstance(models.tts, azure.TTS)
    assert isinstance(models.llm, openai.LLM) and models.llm.model == "gpt-4o-mini"


def test_azure_speech_runs_in_the_regions_own_location() -> None:
    models = build_models(load_settings(azure_env()))
    assert models.stt._config.speech_region == "westeurope"  # type: ignore[attr-defined]
    assert models.tts._opts.region == "westeurope"  # type: ignore[attr-defined]
    assert models.tts._opts.voice == "en-US-AvaMultilingualNeural"  # type: ignore[attr-defined]


def test_a_custom_speech_endpoint_replaces_the_location() -> None:
    endpoint = "wss://westeurope.stt.speech.microsoft.com/speech/universal/v2"
    models = build_models(load_settings(azure_env(MERIDIAN_STT_ENDPOINT=endpoint)))
    assert models.stt._config.speech_endpoint == endpoint  # type: ignore[attr-defined]


def test_openai_builds_the_openai_plugin() -> None:
    env = base_env(
        MERIDIAN_LLM_PROVIDER="openai", MERIDIAN_LLM_MODEL="gpt-4.1-mini", OPENAI_API_KEY="sk-x" * 4
    )
    models = build_models(load_settings(env))
    assert isinstance(models.llm, openai.LLM) and models.llm.model == "gpt-4.1-mini"


def test_a_provisioned_region_builds_keyless_models_with_fallbacks() -> None:
    from livekit.agents import llm, stt, tts

    from agent.azure_speech import EntraSTT, EntraTTS
    from tests.agent.azure_doubles import RESOURCE_ID, ShortLivedCredential

    env = base_env(
        MERIDIAN_STT_PROVIDER="azure-ai",
        MERIDIAN_STT_MODEL="azure-speech",
        MERIDIAN_STT_LANGUAGE="en-US",
        MERIDIAN_LLM_PROVIDER="azure-ai",
        MERIDIAN_LLM_MODEL="gpt-5.4-mini",
        MERIDIAN_TTS_PROVIDER="azure-ai",
        MERIDIAN_TTS_MODEL="en-US-AvaMultilingualNeural",
        MERIDIAN_AI_ENDPOINT="https://ai-eu.cognitiveservices.azure.com",
        MERIDIAN_AI_RESOURCE_ID=RESOURCE_ID,
        MERIDIAN_AI_FALLBACK_ENDPOINT="https://ai-us.cognitiveservices.azure.com",
        MERIDIAN_AI_FALLBACK_RESOURCE_ID=RESOURCE_ID.replace("eu-west", "us-east"),
        MERIDIAN_AI_FALLBACK_LOCATION="eastus",
        MERIDIAN_LLM_FALLBACK_MODEL="gpt-5.4-mini",
    )
    models = build_models(load_settings(env), credential=ShortLivedCredential(lifetime=3600))
    assert isinstance(models.stt, stt.FallbackAdapter)
    assert isinstance(models.llm, llm.FallbackAdapter)
    assert isinstance(models.tts, tts.FallbackAdapter)
    assert all(isinstance(s, EntraSTT) for s in models.stt._stt_instances)
    assert all(isinstance(t, EntraTTS) for t in models.tts._tts_instances)
    where = {
        stage: [
            models.placements.resolve(stage, i.metrics_metadata).location  # type: ignore[union-attr]
            for i in instances
        ]
        for stage, instances in (
            ("stt", models.stt._stt_instances),
            ("llm", models.llm._llm_instances),
            ("tts", models.tts._tts_instances),
        )
    }
    assert where == {stage: ["westeurope", "eastus"] for stage in ("stt", "llm", "tts")}
    # no key reaches any plugin
    assert models.tts._tts_instances[0]._opts.subscription_key is None  # type: ignore[attr-defined]
