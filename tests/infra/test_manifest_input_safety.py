"""A hostile or careless regions.yaml gets a clear error fast: never a traceback, a hang or a leak."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.manifest import ManifestError, load_manifest, parse_manifest
from infra.manifest.source import MAX_MANIFEST_BYTES
from tests.manifests import THREE_REGIONS

FIXTURE_TEXT = THREE_REGIONS.read_text()
NAME = Path("regions.yaml")


def errors_of(text: str) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text, NAME)
    return caught.value.errors


def with_region(text: str, region: str) -> str:
    return text + region


ALIAS_BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x]"]
    + [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]"
        for i in range(9)
    ]
)


def test_an_alias_bomb_is_refused_within_a_second() -> None:
    started = time.monotonic()
    errors = errors_of(ALIAS_BOMB)
    assert time.monotonic() - started < 1.0
    assert errors == [
        "regions.yaml:2: YAML aliases (*a) and merge keys are not supported;"
        " put shared settings under defaults: instead"
    ]


def test_merge_keys_are_refused_clearly() -> None:
    text = FIXTURE_TEXT.replace("  us-east:\n", "  us-east:\n    <<: {replicas: {max: 3}}\n")
    (error,) = errors_of(text)
    assert "regions.us-east: YAML merge keys (<<) are not supported" in error


def test_a_file_over_the_size_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "regions.yaml"
    big.write_text(FIXTURE_TEXT + "#" * MAX_MANIFEST_BYTES)
    with pytest.raises(
        ManifestError, match=r"regions.yaml: the manifest is [\d,]+ bytes; the limit is 262,144"
    ):
        load_manifest(big)


def test_a_non_utf8_byte_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "regions.yaml"
    bad.write_bytes(b"agent:\n  name: caf\xe9\n")
    with pytest.raises(
        ManifestError, match=r"regions.yaml:2: the manifest must be UTF-8 text \(byte 0xe9"
    ):
        load_manifest(bad)


def test_deep_nesting_is_refused() -> None:
    (error,) = errors_of("a: " + "[" * 8000 + "]" * 8000)
    assert "nesting deeper than 16 levels" in error


def test_an_unhashable_key_is_a_clear_error() -> None:
    (error,) = errors_of("? [a, b]\n: 1\n")
    assert error == "regions.yaml:1: (top level): a key must be text, not a list or mapping"


def test_a_region_key_that_yaml_reads_as_a_boolean_is_reported_on_its_own_line() -> None:
    text = FIXTURE_TEXT + "  yes:\n    location: brazilsouth\n"
    line = len(FIXTURE_TEXT.splitlines()) + 1
    (error,) = errors_of(text)
    assert error == f"regions.yaml:{line}: regions: key 'yes' must be text; quote it ('yes':)"


def test_duplicate_keys_name_the_path_and_line() -> None:
    text = FIXTURE_TEXT + "  us-east:\n    location: eastus2\n"
    line = len(FIXTURE_TEXT.splitlines()) + 1
    assert errors_of(text) == [f"regions.yaml:{line}: regions.us-east: duplicate key 'us-east'"]


def test_credentials_in_the_livekit_url_are_refused_without_echoing_them() -> None:
    text = FIXTURE_TEXT.replace(
        "wss://meridian.livekit.cloud", "wss://APIkey:s3cret@meridian.livekit.cloud"
    )
    (error,) = errors_of(text)
    assert "livekit_url must not carry a user name or password" in error
    assert "s3cret" not in error


def test_a_plain_ws_livekit_url_to_a_remote_host_is_refused() -> None:
    text = FIXTURE_TEXT.replace("wss://meridian.livekit.cloud", "ws://meridian.livekit.cloud")
    (error,) = errors_of(text)
    assert (
        "livekit_url (got 'ws://meridian.livekit.cloud'): livekit_url must be a wss:// URL"
        " (ws:// only on a loopback address); meridian.livekit.cloud is not loopback" in error
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tags", "owner: sk-proj-abcdefghijklmnopqrstuvwx"),
        ("tags", "build: kJ8d7fH2mQ9pL3xZ0vB6nT1rY4wE5sA8cD2gF7hJ9kL"),
        ("system_prompt", "Use the key APIe9Xd3kL2mQp7 when asked."),
    ],
)
def test_secret_looking_values_are_refused_and_not_echoed(field: str, value: str) -> None:
    if field == "tags":
        text = FIXTURE_TEXT.replace("    app: meridian\n", f"    app: meridian\n    {value}\n")
    else:
        text = FIXTURE_TEXT.replace("  tags:\n", f"  system_prompt: {value!r}\n  tags:\n")
    (error,) = errors_of(text)
    assert f"defaults.{field}" in error
    assert "secrets never go in regions.yaml" in error
    assert value.split()[-1].rstrip(".") not in error


def test_a_huge_system_prompt_is_refused_quickly() -> None:
    text = FIXTURE_TEXT.replace("  tags:\n", f"  system_prompt: {'a ' * 20_000!r}\n  tags:\n")
    started = time.monotonic()
    (error,) = errors_of(text)
    assert time.monotonic() - started < 1.0
    assert "defaults.system_prompt" in error
    assert "at most 16000 characters" in error


def test_a_floating_image_tag_is_refused() -> None:
    text = FIXTURE_TEXT.replace("agent:0.1.0", "agent:latest")
    (error,) = errors_of(text)
    assert "agent (got " not in error
    assert "image tag 'latest' moves between builds" in error


def test_a_floating_tag_passes_with_the_dev_flag() -> None:
    text = FIXTURE_TEXT.replace("agent:0.1.0\n", "agent:latest\n  allow_floating_tag: true\n")
    assert parse_manifest(text, NAME).agent.image.endswith(":latest")


# Anything at all: only a ManifestError may come out, and quickly.
@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_any_text_is_a_manifest_or_a_manifest_error(text: str) -> None:
    try:
        parse_manifest(text, NAME)
    except ManifestError as exc:
        assert exc.errors
        assert all(message.startswith("regions.yaml") for message in exc.errors)


_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(
    section=st.sampled_from(["agent", "livekit_url", "dispatch", "defaults", "regions"]),
    key=st.text(min_size=1, max_size=12),
    value=_values,
)
def test_any_value_in_any_section_is_a_manifest_or_a_manifest_error(
    section: str, key: str, value: object
) -> None:
    data = yaml.safe_load(FIXTURE_TEXT)
    if isinstance(data[section], dict):
        data[section][key] = value
    else:
        data[section] = value
    try:
        parse_manifest(yaml.safe_dump(data, allow_unicode=True), NAME)
    except ManifestError as exc:
        assert all(message.startswith("regions.yaml") for message in exc.errors)


@settings(max_examples=150, deadline=2000)
@given(st.binary(max_size=300))
def test_any_bytes_are_a_manifest_or_a_manifest_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("m") / "regions.yaml"
    path.write_bytes(data)
    try:
        load_manifest(path)
    except ManifestError as exc:
        assert exc.errors
