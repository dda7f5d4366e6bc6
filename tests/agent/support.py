"""Shared helpers for the agent tests: a complete, valid environment for the agent."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
REPO = Path(__file__).resolve().parent.parent.parent

# Credentials long enough for the log redactor to treat them as secrets.
LIVEKIT_KEY = "APIkeyForTests123"
LIVEKIT_SECRET = "secretForTests-0123456789abcdefghij"


def base_env(**overrides: str | None) -> dict[str, str]:
    """The environment infra renders for a LiveKit-Inference region; None removes a variable."""
    env = {
        "LIVEKIT_URL": "wss://example.livekit.cloud",
        "LIVEKIT_API_KEY": LIVEKIT_KEY,
        "LIVEKIT_API_SECRET": LIVEKIT_SECRET,
        "LIVEKIT_AGENT_NAME": "support-agent-eu-west",
        "MERIDIAN_REGION": "eu-west",
        "MERIDIAN_LOCATION": "westeurope",
        "MERIDIAN_STT_PROVIDER": "livekit",
        "MERIDIAN_STT_MODEL": "deepgram/nova-3",
        "MERIDIAN_LLM_PROVIDER": "livekit",
        "MERIDIAN_LLM_MODEL": "openai/gpt-4.1-mini",
        "MERIDIAN_TTS_PROVIDER": "livekit",
        "MERIDIAN_TTS_MODEL": "cartesia/sonic-3",
        "MERIDIAN_DRAIN_SECONDS": "240",
        "MERIDIAN_LOAD_THRESHOLD": "0.75",
        "MERIDIAN_IDLE_PROCESSES": "2",
    }
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def azure_env(**overrides: str | None) -> dict[str, str]:
    """A region that keeps every model call inside Azure."""
    azure: dict[str, str | None] = dict(
        MERIDIAN_STT_PROVIDER="azure",
        MERIDIAN_STT_MODEL="azure",
        MERIDIAN_STT_LANGUAGE="en-US",
        MERIDIAN_LLM_PROVIDER="azure-openai",
        MERIDIAN_LLM_MODEL="gpt-4o-mini",
        MERIDIAN_LLM_ENDPOINT="https://meridian-westeurope.openai.azure.com",
        MERIDIAN_TTS_PROVIDER="azure",
        MERIDIAN_TTS_MODEL="neural",
        MERIDIAN_TTS_VOICE="en-US-AvaMultilingualNeural",
        AZURE_SPEECH_KEY="azure-speech-key-0123456789",
        AZURE_OPENAI_API_KEY="azure-openai-key-0123456789",
    )
    return base_env(**{**azure, **overrides})
