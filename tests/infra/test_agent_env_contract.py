"""What infra renders into the agent container is exactly what the agent parses at start-up."""

from __future__ import annotations

import pytest

from agent.settings import load_settings
from infra.env import agent_env
from infra.manifest import load_manifest
from tests.manifests import THREE_REGIONS

MANIFEST = load_manifest(THREE_REGIONS)


def rendered(region_key: str, manifest=MANIFEST) -> dict[str, str]:
    # Secret references become stand-in values, as Container Apps would inject the real ones.
    return {
        v.name: v.value if v.secret is None else f"value-of-{v.name}"
        for v in agent_env(manifest.regions[region_key])
    }


@pytest.mark.parametrize("region_key", list(MANIFEST.regions))
def test_agent_parses_what_infra_renders(region_key: str) -> None:
    region = MANIFEST.regions[region_key]
    settings = load_settings(rendered(region_key))
    assert settings.region == region.key
    assert settings.location == region.location
    assert settings.worker.agent_name == MANIFEST.agent.name
    assert settings.worker.tagged_agent_name == region.tagged_agent_name
    assert settings.worker.livekit_url == region.livekit_url
    assert settings.worker.drain_seconds == region.drain_seconds
    assert settings.worker.load_threshold == region.worker.load_threshold
    assert settings.worker.idle_processes == region.worker.idle_processes
    assert (settings.stt.provider, settings.stt.model) == (
        region.models.stt.provider,
        region.models.stt.model,
    )
    assert (settings.llm.provider, settings.llm.model) == (
        region.models.llm.provider,
        region.models.llm.model,
    )
    assert (settings.tts.provider, settings.tts.model) == (
        region.models.tts.provider,
        region.models.tts.model,
    )


def test_in_region_azure_models_reach_the_agent(manifest_data, write_manifest) -> None:
    manifest_data["regions"]["ap-southeast"]["models"] = {
        "stt": {"provider": "azure", "model": "default", "language": "en-SG"},
        "llm": {
            "provider": "azure-openai",
            "model": "gpt-4o-mini",
            "endpoint": "https://sea.openai.azure.com",
        },
        "tts": {"provider": "azure", "model": "neural", "voice": "en-SG-LunaNeural"},
    }
    manifest = load_manifest(write_manifest(manifest_data))
    settings = load_settings(rendered("ap-southeast", manifest))
    assert settings.llm.endpoint == "https://sea.openai.azure.com"
    assert settings.tts.voice == "en-SG-LunaNeural"
    assert settings.stt.language == "en-SG"
    assert (
        settings.llm.api_key is not None
        and settings.llm.api_key.get_secret_value() == "value-of-AZURE_OPENAI_API_KEY"
    )


def test_a_provisioned_region_reaches_the_agent_keyless() -> None:
    from datetime import date

    from infra.env import AgentAccess, AiAccount
    from tests.manifests import PROVISIONED

    manifest = load_manifest(PROVISIONED, on=date(2026, 12, 2))
    region = manifest.regions["eu-west"]
    own = AiAccount(
        "https://ai-eu.cognitiveservices.azure.com", "/subscriptions/s/ai-eu", "westeurope"
    )
    other = AiAccount(
        "https://ai-us.cognitiveservices.azure.com", "/subscriptions/s/ai-us", "eastus"
    )
    access = AgentAccess("client-id-eu", own, other, fallback_llm="gpt-5.4-mini")
    env = {
        v.name: v.value if v.secret is None else f"value-of-{v.name}"
        for v in agent_env(region, access)
    }
    assert not [name for name in env if name.endswith("_KEY") and not name.startswith("LIVEKIT")]
    settings = load_settings(env)
    assert (settings.stt.provider, settings.llm.provider, settings.tts.provider) == (
        "azure-ai",
    ) * 3
    assert settings.ai is not None
    assert settings.ai.client_id == "client-id-eu"
    assert settings.ai.account.location == "westeurope"
    assert settings.ai.fallback is not None and settings.ai.fallback_llm == "gpt-5.4-mini"
    fallback = settings.ai.fallback
    assert (fallback.endpoint, fallback.resource_id, fallback.location) == (
        other.endpoint,
        other.resource_id,
        other.location,
    )
    assert settings.tts.model == "en-US-AvaMultilingualNeural"
