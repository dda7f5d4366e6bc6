"""Configuration: the environment is parsed once, and each mistake gives one clear line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agent.settings import SettingsError, load_settings
from meridian.contract import AGENT_HEALTH_PORT
from tests.agent.support import LIVEKIT_SECRET, REPO, azure_env, base_env


def test_a_livekit_inference_region_parses_into_typed_settings() -> None:
    settings = load_settings(base_env())
    assert (settings.region, settings.location) == ("eu-west", "westeurope")
    assert settings.worker.agent_name == "support-agent"
    assert settings.worker.tagged_agent_name == "support-agent-eu-west"
    assert (settings.worker.drain_seconds, settings.worker.idle_processes) == (240, 2)
    assert settings.worker.load_threshold == 0.75
    assert (settings.stt.provider, settings.stt.model) == ("livekit", "deepgram/nova-3")


def test_an_azure_region_carries_endpoint_deployment_and_keys() -> None:
    settings = load_settings(azure_env())
    assert settings.llm.provider == "azure-openai"
    assert settings.llm.model == "gpt-4o-mini"
    assert settings.llm.endpoint == "https://meridian-westeurope.openai.azure.com"
    assert settings.stt.api_key is not None and settings.tts.api_key is not None


def test_secrets_never_appear_in_the_settings_repr() -> None:
    settings = load_settings(azure_env())
    text = repr(settings) + str(settings)
    assert LIVEKIT_SECRET not in text
    assert "azure-openai-key-0123456789" not in text
    assert LIVEKIT_SECRET in settings.secrets()


def test_the_health_port_is_the_one_infra_probes_unless_set() -> None:
    assert load_settings(base_env()).worker.health_port == AGENT_HEALTH_PORT
    assert load_settings(base_env(MERIDIAN_HEALTH_PORT="18081")).worker.health_port == 18081


def test_a_local_livekit_server_on_loopback_is_accepted() -> None:
    settings = load_settings(base_env(LIVEKIT_URL="ws://127.0.0.1:7880"))
    assert settings.worker.livekit_url == "ws://127.0.0.1:7880"


def test_the_system_prompt_can_be_overridden() -> None:
    settings = load_settings(base_env(MERIDIAN_SYSTEM_PROMPT="Answer in one sentence."))
    assert settings.system_prompt == "Answer in one sentence."


BAD_ENVIRONMENTS = [
    ({"MERIDIAN_REGION": None}, "MERIDIAN_REGION is not set"),
    ({"MERIDIAN_REGION": "EU West"}, "MERIDIAN_REGION is 'EU West'"),
    ({"MERIDIAN_LOCATION": "West Europe"}, "MERIDIAN_LOCATION is 'West Europe'"),
    ({"LIVEKIT_URL": "example.livekit.cloud"}, "LIVEKIT_URL is 'example.livekit.cloud'"),
    ({"LIVEKIT_API_SECRET": ""}, "LIVEKIT_API_SECRET is not set"),
    ({"LIVEKIT_AGENT_NAME": "support-agent-us-east"}, "LIVEKIT_AGENT_NAME is"),
    ({"MERIDIAN_STT_PROVIDER": "whisper"}, "MERIDIAN_STT_PROVIDER is 'whisper'; expected one of"),
    ({"MERIDIAN_STT_MODEL": "nova-3"}, "MERIDIAN_STT_MODEL is 'nova-3'"),
    ({"MERIDIAN_LLM_PROVIDER": "anthropic"}, "MERIDIAN_LLM_PROVIDER is 'anthropic'"),
    ({"MERIDIAN_TTS_MODEL": None}, "MERIDIAN_TTS_MODEL is not set"),
    ({"MERIDIAN_DRAIN_SECONDS": "soon"}, "MERIDIAN_DRAIN_SECONDS is 'soon'"),
    ({"MERIDIAN_DRAIN_SECONDS": "0"}, "MERIDIAN_DRAIN_SECONDS is '0'"),
    ({"MERIDIAN_LOAD_THRESHOLD": "1.5"}, "MERIDIAN_LOAD_THRESHOLD is '1.5'; expected a number"),
    ({"MERIDIAN_LOAD_THRESHOLD": "0"}, "MERIDIAN_LOAD_THRESHOLD is '0'"),
    ({"MERIDIAN_IDLE_PROCESSES": "-1"}, "MERIDIAN_IDLE_PROCESSES is '-1'"),
    ({"MERIDIAN_FAQ_THRESHOLD": "150"}, "MERIDIAN_FAQ_THRESHOLD is '150'"),
    ({"MERIDIAN_FAQ_PATH": "/nonexistent/faq.yaml"}, "MERIDIAN_FAQ_PATH is '/nonexistent"),
    ({"MERIDIAN_STT_ENDPOINT": "ftp://x"}, "MERIDIAN_STT_ENDPOINT is 'ftp://x'"),
    ({"MERIDIAN_HEALTH_PORT": "0"}, "MERIDIAN_HEALTH_PORT is '0'"),
    ({"LIVEKIT_URL": "ws://example.livekit.cloud"}, "example.livekit.cloud is not loopback"),
]


@pytest.mark.parametrize(("overrides", "expected"), BAD_ENVIRONMENTS)
def test_each_malformed_variable_is_named_in_one_line(overrides: dict, expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(base_env(**overrides))
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


AZURE_MISTAKES = [
    ({"MERIDIAN_LLM_ENDPOINT": None}, "MERIDIAN_LLM_ENDPOINT is not set"),
    ({"AZURE_OPENAI_API_KEY": None}, "AZURE_OPENAI_API_KEY is not set"),
    ({"AZURE_SPEECH_KEY": None}, "AZURE_SPEECH_KEY is not set"),
    ({"MERIDIAN_LLM_ENDPOINT": "http://plain.example"}, "expected an https:// URL"),
]


@pytest.mark.parametrize(("overrides", "expected"), AZURE_MISTAKES)
def test_provider_specific_requirements_are_named(overrides: dict, expected: str) -> None:
    with pytest.raises(SettingsError, match=expected):
        load_settings(azure_env(**overrides))


def test_openai_requires_its_own_key() -> None:
    env = base_env(MERIDIAN_LLM_PROVIDER="openai", MERIDIAN_LLM_MODEL="gpt-4.1-mini")
    with pytest.raises(SettingsError, match="OPENAI_API_KEY is not set"):
        load_settings(env)


def test_start_with_a_bad_variable_exits_with_one_line_and_no_traceback() -> None:
    env = base_env(MERIDIAN_LOAD_THRESHOLD="high")
    done = subprocess.run(
        [sys.executable, "-m", "agent", "start"],
        cwd=REPO,
        env={**env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "agent: configuration error: environment variable MERIDIAN_LOAD_THRESHOLD is 'high';"
        " expected a number in (0, 1]"
    ]
    assert done.stdout == ""


def test_the_revision_comes_from_container_apps_and_is_none_elsewhere() -> None:
    assert load_settings(base_env()).revision is None
    env = {**base_env(), "CONTAINER_APP_REVISION": "support-agent-eu-west--0000002"}
    assert load_settings(env).revision == "support-agent-eu-west--0000002"


def _azure_ai_env(**overrides: str | None) -> dict[str, str]:
    return base_env(
        **{
            "MERIDIAN_LLM_PROVIDER": "azure-ai",
            "MERIDIAN_LLM_MODEL": "gpt-5.4-mini",
            "MERIDIAN_AI_ENDPOINT": "https://ai-x.cognitiveservices.azure.com",
            "MERIDIAN_AI_RESOURCE_ID": "/subscriptions/s/providers/x/accounts/ai-x",
            "AZURE_CLIENT_ID": "00000000-0000-0000-0000-00000000c1d",
            **overrides,
        }
    )


def test_a_provisioned_region_needs_no_key() -> None:
    settings = load_settings(_azure_ai_env())
    assert settings.ai is not None and settings.ai.fallback is None
    assert settings.ai.client_id == "00000000-0000-0000-0000-00000000c1d"
    assert settings.llm.api_key is None


AZURE_AI_MISTAKES = [
    (
        {"MERIDIAN_AI_ENDPOINT": None},
        "MERIDIAN_AI_ENDPOINT is not set; it is required when MERIDIAN_LLM_PROVIDER is azure-ai",
    ),
    ({"MERIDIAN_AI_RESOURCE_ID": None}, "MERIDIAN_AI_RESOURCE_ID is not set"),
    (
        {"MERIDIAN_AI_FALLBACK_ENDPOINT": "https://ai-y.cognitiveservices.azure.com"},
        "MERIDIAN_AI_FALLBACK_RESOURCE_ID is not set",
    ),
]


@pytest.mark.parametrize(("overrides", "expected"), AZURE_AI_MISTAKES)
def test_provisioned_models_name_each_missing_variable(overrides: dict, expected: str) -> None:
    with pytest.raises(SettingsError, match=expected):
        load_settings(_azure_ai_env(**overrides))
