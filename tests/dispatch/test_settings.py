"""Settings: the environment contract, and one clear error per bad variable."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from dispatch.settings import SettingsError, load_settings
from tests.dispatch.support import DEFAULT_REGIONS, base_env


def test_defaults_give_a_ten_minute_token_and_no_region_override(settings):
    assert (settings.token_ttl_seconds, settings.allow_region_override) == (600, False)


def test_region_table_is_parsed_in_order(settings):
    assert [e.region for e in settings.regions] == ["us-east", "eu-west", "ap-southeast"]


def test_secrets_never_appear_in_repr(settings):
    assert "test-secret" not in repr(settings)


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"MERIDIAN_REGION": ""}, "MERIDIAN_REGION"),
        ({"LIVEKIT_API_SECRET": ""}, "LIVEKIT_API_SECRET"),
        ({"MERIDIAN_REGIONS": "{not json"}, "MERIDIAN_REGIONS"),
        ({"MERIDIAN_REGION": "mars"}, "MERIDIAN_REGIONS"),
        ({"MERIDIAN_DISPATCH_TOKEN_TTL_SECONDS": "901"}, "MERIDIAN_DISPATCH_TOKEN_TTL_SECONDS"),
        ({"MERIDIAN_DISPATCH_PUBLISH_SOURCES": "mic"}, "MERIDIAN_DISPATCH_PUBLISH_SOURCES"),
        ({"MERIDIAN_DISPATCH_CLIENT_FIELDS": "region"}, "MERIDIAN_DISPATCH_CLIENT_FIELDS"),
        ({"MERIDIAN_DISPATCH_CORS_ORIGINS": "example.com"}, "MERIDIAN_DISPATCH_CORS_ORIGINS"),
        ({"MERIDIAN_DISPATCH_SHARED_SECRET": "short"}, "MERIDIAN_DISPATCH_SHARED_SECRET"),
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


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"location": "atlantis"}, "MERIDIAN_REGIONS[0].location"),
        ({"livekit_url": "https://x"}, "MERIDIAN_REGIONS[0].livekit_url"),
        ({"dispatch_url": "ftp://x"}, "MERIDIAN_REGIONS[0].dispatch_url"),
        ({"colour": "red"}, "MERIDIAN_REGIONS[0]"),
    ],
)
def test_bad_region_entry_is_named_by_index_and_key(change, field):
    regions = [dict(DEFAULT_REGIONS[0], **change), *DEFAULT_REGIONS[1:]]
    with pytest.raises(SettingsError) as excinfo:
        load_settings(base_env(MERIDIAN_REGIONS=json.dumps(regions)))
    assert excinfo.value.variable == field


def test_python_m_dispatch_exits_2_with_one_line_on_bad_config():
    result = subprocess.run(
        [sys.executable, "-m", "dispatch"],
        env={"PATH": "", "MERIDIAN_REGION": "eu-west"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "dispatch: environment variable MERIDIAN_AGENT_NAME is required but not set"
    ]
