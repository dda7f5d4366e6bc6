"""Settings: the environment contract, and one clear error per bad variable."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from meridian.dispatch.settings import SettingsError, load_settings
from meridian.policy import DispatchPolicy, ProbePolicy, policy_env
from tests.dispatch.support import DEFAULT_REGIONS, base_env


def test_defaults_give_a_ten_minute_token_and_no_region_override(settings):
    assert (settings.policy.token_ttl_seconds, settings.policy.allow_region_override) == (
        600,
        False,
    )


def test_without_policy_variables_the_policy_is_the_safe_default(settings):
    # a bare `python -m meridian.dispatch` must not let callers choose the room or their identity
    assert settings.policy == DispatchPolicy()
    assert "room_name" not in settings.policy.client_fields
    assert "participant_identity" not in settings.policy.client_fields


def test_the_policy_infra_renders_is_read_back_unchanged():
    policy = DispatchPolicy(
        client_fields=("participant_name", "room_name"),
        cors_origins=("https://app.example.com",),
        token_ttl_seconds=300,
        allow_region_override=True,
        country_header="CF-IPCountry",
        can_publish_data=False,
        publish_sources=("microphone", "camera"),
        rate_per_minute=60,
        rate_burst=20,
        require_shared_secret=True,
        trusted_proxy_hops=2,
        probes=ProbePolicy(interval_seconds=10, down_after_failures=5),
    )
    env = base_env(**policy_env(policy), MERIDIAN_DISPATCH_SHARED_SECRET="s" * 16)
    assert load_settings(env).policy == policy


def test_base_and_tagged_agent_names(settings):
    assert settings.agent_name == "support-agent"
    assert settings.tagged_agent_name("us-east") == "support-agent-us-east"


def test_region_table_is_parsed_in_order(settings):
    assert [e.region for e in settings.regions] == ["us-east", "eu-west", "ap-southeast"]


def test_secrets_never_appear_in_repr(settings):
    assert "test-secret" not in repr(settings)


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"MERIDIAN_REGION": ""}, "MERIDIAN_REGION"),
        ({"LIVEKIT_API_SECRET": ""}, "LIVEKIT_API_SECRET"),
        ({"LIVEKIT_API_SECRET": "x"}, "LIVEKIT_API_SECRET"),
        ({"LIVEKIT_API_SECRET": "s" * 31}, "LIVEKIT_API_SECRET"),
        ({"LIVEKIT_API_KEY": " "}, "LIVEKIT_API_KEY"),
        ({"MERIDIAN_REGIONS": "{not json"}, "MERIDIAN_REGIONS"),
        ({"MERIDIAN_REGION": "mars"}, "MERIDIAN_REGIONS"),
        ({"MERIDIAN_DISPATCH_TOKEN_TTL_SECONDS": "901"}, "MERIDIAN_DISPATCH_TOKEN_TTL_SECONDS"),
        ({"MERIDIAN_DISPATCH_PUBLISH_SOURCES": '["mic"]'}, "MERIDIAN_DISPATCH_PUBLISH_SOURCES"),
        ({"MERIDIAN_DISPATCH_PUBLISH_SOURCES": "microphone"}, "MERIDIAN_DISPATCH_PUBLISH_SOURCES"),
        ({"MERIDIAN_DISPATCH_CLIENT_FIELDS": '["region"]'}, "MERIDIAN_DISPATCH_CLIENT_FIELDS"),
        ({"MERIDIAN_DISPATCH_CORS_ORIGINS": '["example.com"]'}, "MERIDIAN_DISPATCH_CORS_ORIGINS"),
        ({"MERIDIAN_DISPATCH_SHARED_SECRET": "short"}, "MERIDIAN_DISPATCH_SHARED_SECRET"),
        ({"MERIDIAN_DISPATCH_REQUIRE_SHARED_SECRET": "true"}, "MERIDIAN_DISPATCH_SHARED_SECRET"),
        (
            {"MERIDIAN_DISPATCH_PROBES": '{"interval_seconds": 0}'},
            "MERIDIAN_DISPATCH_PROBES.interval_seconds",
        ),
        ({"MERIDIAN_AGENT_NAME": "Support_Agent"}, "MERIDIAN_AGENT_NAME"),
        ({"MERIDIAN_DISPATCH_TRUSTED_PROXY_HOPS": "6"}, "MERIDIAN_DISPATCH_TRUSTED_PROXY_HOPS"),
        ({"MERIDIAN_DISPATCH_TRUSTED_PROXY_HOPS": "-1"}, "MERIDIAN_DISPATCH_TRUSTED_PROXY_HOPS"),
        ({"MERIDIAN_FRONT_DOOR_ID": "id with spaces"}, "MERIDIAN_FRONT_DOOR_ID"),
        ({"MERIDIAN_FRONT_DOOR_ID": "x" * 65}, "MERIDIAN_FRONT_DOOR_ID"),
        ({"MERIDIAN_DISPATCH_WORKER_URL": "support-agent-eu-west"}, "MERIDIAN_DISPATCH_WORKER_URL"),
        ({"MERIDIAN_REGIONS_URL": "http://st.example/m/regions.json"}, "MERIDIAN_REGIONS_URL"),
        (
            {"MERIDIAN_DISPATCH_REGIONS_REFRESH_SECONDS": "1"},
            "MERIDIAN_DISPATCH_REGIONS_REFRESH_SECONDS",
        ),
        (
            {"MERIDIAN_DISPATCH_ALLOW_REGION_OVERRIDE": "maybe"},
            "MERIDIAN_DISPATCH_ALLOW_REGION_OVERRIDE",
        ),
    ],
)
def test_bad_variable_is_named_in_the_error(overrides, variable):
    with pytest.raises(SettingsError) as excinfo:
        load_settings(base_env(**overrides))
    assert excinfo.value.variable == variable
    assert str(excinfo.value).startswith(f"environment variable {variable} ")
    assert "\n" not in str(excinfo.value)


def test_a_bad_secret_is_named_but_never_shown():
    with pytest.raises(SettingsError) as excinfo:
        load_settings(base_env(MERIDIAN_DISPATCH_SHARED_SECRET="tooShortSecret"))
    assert "tooShortSecret" not in str(excinfo.value)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"location": "atlantis"}, "MERIDIAN_REGIONS[0].location"),
        ({"livekit_url": "https://x"}, "MERIDIAN_REGIONS[0].livekit_url"),
        ({"dispatch_url": "ftp://x"}, "MERIDIAN_REGIONS[0].dispatch_url"),
        ({"colour": "red"}, "MERIDIAN_REGIONS[0].colour"),
    ],
)
def test_bad_region_entry_is_named_by_index_and_key(change, field):
    regions = [dict(DEFAULT_REGIONS[0], **change), *DEFAULT_REGIONS[1:]]
    with pytest.raises(SettingsError) as excinfo:
        load_settings(base_env(MERIDIAN_REGIONS=json.dumps(regions)))
    assert excinfo.value.variable == field


def test_python_m_dispatch_exits_2_with_one_line_on_bad_config():
    result = subprocess.run(
        [sys.executable, "-m", "meridian.dispatch"],
        env={"PATH": "", "MERIDIAN_REGION": "eu-west"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "dispatch: environment variable MERIDIAN_AGENT_NAME is not set;"
        " expected the base agent name, e.g. 'support-agent'"
    ]


def test_defaults_trust_no_proxy_and_no_front_door(settings):
    assert (settings.policy.trusted_proxy_hops, settings.front_door_id) == (0, None)


def test_the_front_door_id_is_read_from_its_variable():
    fdid = "6f1c3a52-0d4e-4b7a-9a43-5a8e2b1f7c10"
    assert load_settings(base_env(MERIDIAN_FRONT_DOOR_ID=fdid)).front_door_id == fdid


def test_python_m_dispatch_exits_2_with_one_line_when_the_port_is_taken():
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "meridian.dispatch"],
            env={**base_env(), "PATH": "", "MERIDIAN_DISPATCH_PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        f"dispatch: cannot listen on 0.0.0.0:{port} (MERIDIAN_DISPATCH_PORT): "
    )


def test_a_short_api_secret_is_refused_without_being_shown():
    with pytest.raises(SettingsError) as excinfo:
        load_settings(base_env(LIVEKIT_API_SECRET="tooShortButSecret"))
    assert "tooShortButSecret" not in str(excinfo.value)
    assert "at least 32 characters" in str(excinfo.value)
    assert load_settings(base_env(LIVEKIT_API_SECRET="s" * 32)).api_secret.get_secret_value()
