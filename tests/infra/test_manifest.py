"""regions.yaml is parsed only by infra/manifest/, and every mistake is caught before a deploy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.manifest import ManifestError, ResourceNames, load_manifest
from tests.manifests import THREE_REGIONS


def test_shipped_manifest_loads_three_regions() -> None:
    manifest = load_manifest(THREE_REGIONS)
    assert {key: r.location for key, r in manifest.regions.items()} == {
        "us-east": "eastus",
        "eu-west": "westeurope",
        "ap-southeast": "southeastasia",
    }


def test_defaults_apply_to_every_region() -> None:
    manifest = load_manifest(THREE_REGIONS)
    assert all(
        r.replicas == manifest.regions["us-east"].replicas for r in manifest.regions.values()
    )
    assert len({r.models for r in manifest.regions.values()}) == 1


def test_region_overrides_merge_deeply_into_defaults(manifest_data, write_manifest) -> None:
    manifest_data["regions"]["ap-southeast"]["models"] = {
        "llm": {
            "provider": "azure-openai",
            "model": "gpt-4o-mini",
            "endpoint": "https://sea.openai.azure.com",
        }
    }
    manifest_data["regions"]["ap-southeast"]["replicas"] = {"max": 3}
    region = load_manifest(write_manifest(manifest_data)).regions["ap-southeast"]
    assert region.models.llm.endpoint == "https://sea.openai.azure.com"
    assert region.models.stt.provider == "livekit"
    assert (region.replicas.min, region.replicas.max) == (1, 3)


def test_region_can_override_livekit_url(manifest_data, write_manifest) -> None:
    manifest_data["regions"]["eu-west"]["livekit_url"] = "wss://eu.example.livekit.cloud"
    manifest = load_manifest(write_manifest(manifest_data))
    assert manifest.regions["eu-west"].livekit_url == "wss://eu.example.livekit.cloud"
    assert manifest.regions["us-east"].livekit_url == manifest_data["livekit_url"]


def test_a_local_livekit_server_on_loopback_is_accepted(manifest_data, write_manifest) -> None:
    manifest_data["livekit_url"] = "ws://127.0.0.1:7880"
    manifest = load_manifest(write_manifest(manifest_data))
    assert manifest.regions["eu-west"].livekit_url == "ws://127.0.0.1:7880"


def test_names_are_derived_from_agent_and_region() -> None:
    names = ResourceNames.derive("support-agent", "eu-west")
    assert names.tagged_agent_name == names.app == "support-agent-eu-west"
    assert names.resource_group == "rg-support-agent-eu-west"
    assert names.environment == "cae-support-agent-eu-west"
    assert names.identity == "id-support-agent-eu-west"


def test_grace_period_covers_drain_time() -> None:
    region = load_manifest(THREE_REGIONS).regions["us-east"]
    assert region.grace_seconds > region.drain_seconds


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


def _delete(data: dict[str, Any], dotted: str) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        data = data[part]
    del data[last]


# Each case: (id, mutation, expected path in the message, expected phrase in the message).
BAD_MANIFESTS: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    (
        "secret-looking tag",
        lambda d: _set(d, "defaults.tags", {"openai_api_key": "sk-123"}),
        "defaults.tags",
        "looks like a secret",
    ),
    (
        "https livekit url",
        lambda d: _set(d, "livekit_url", "https://meridian.livekit.cloud"),
        "livekit_url",
        "must be a wss:// URL",
    ),
    (
        "unknown dispatch client field",
        lambda d: _set(d, "dispatch.client_fields", ["room"]),
        "dispatch.client_fields",
        "not token request fields",
    ),
    (
        "unknown key with suggestion",
        lambda d: _set(d, "defaults.replicas.maxx", 3),
        "defaults.replicas.maxx",
        "did you mean 'max'",
    ),
    (
        "unknown top-level key",
        lambda d: _set(d, "regoins", {}),
        "regoins",
        "did you mean 'regions'",
    ),
    (
        "missing location",
        lambda d: _delete(d, "regions.eu-west.location"),
        "regions.eu-west.location",
        "required field is missing",
    ),
    (
        "missing agent name",
        lambda d: _delete(d, "agent.name"),
        "agent.name",
        "required field is missing",
    ),
    (
        "wrong type",
        lambda d: _set(d, "regions.eu-west.replicas", {"max": "ten"}),
        "regions.eu-west.replicas.max",
        "valid integer",
    ),
    (
        "region key not DNS-safe",
        lambda d: d["regions"].update({"EU_North": {"location": "northeurope"}}),
        "regions.EU_North",
        "DNS-safe",
    ),
    (
        "duplicate location",
        lambda d: _set(d, "regions.eu-west.location", "eastus"),
        "regions.eu-west.location",
        "already used by region 'us-east'",
    ),
    (
        "unknown Azure location",
        lambda d: _set(d, "regions.eu-west.location", "westeurop"),
        "regions.eu-west.location",
        "did you mean westeurope",
    ),
    (
        "cpu/memory pair",
        lambda d: _set(d, "regions.us-east.resources", {"cpu": 1.5, "memory": "4Gi"}),
        "regions.us-east.resources",
        "allowed cpu/memory pairs",
    ),
    (
        "memory format",
        lambda d: _set(d, "defaults.resources.memory", "4GB"),
        "defaults.resources.memory",
        "size in GiB",
    ),
    (
        "app name too long",
        lambda d: d["regions"].update({"ap-southeast-primary": {"location": "australiaeast"}}),
        "regions.ap-southeast-primary",
        "breaks Azure's rules",
    ),
    (
        "min above max",
        lambda d: _set(d, "regions.eu-west.replicas", {"min": 5, "max": 2}),
        "regions.eu-west.replicas",
        "must not exceed max",
    ),
    (
        "replicas beyond limit",
        lambda d: _set(d, "regions.eu-west.replicas", {"max": 5000}),
        "regions.eu-west.replicas.max",
        "less than or equal to 1000",
    ),
    (
        "probe out of range",
        lambda d: _set(d, "defaults.probes.startup.failure_threshold", 30),
        "defaults.probes.startup.failure_threshold",
        "less than or equal to 10",
    ),
    (
        "grace beyond limit",
        lambda d: _set(d, "defaults.drain_seconds", 571),
        "defaults.drain_seconds",
        "less than or equal to 570",
    ),
    (
        "scale rule above load threshold",
        lambda d: _set(d, "defaults.scale.cpu_percent", 90),
        "defaults.scale.cpu_percent",
        "must be below worker.load_threshold",
    ),
    (
        "unknown provider",
        lambda d: _set(d, "defaults.models.llm.provider", "azure"),
        "defaults.models.llm",
        "not one of: livekit, azure-openai, openai",
    ),
    (
        "azure-openai without endpoint",
        lambda d: _set(
            d, "regions.eu-west.models", {"llm": {"provider": "azure-openai", "model": "gpt-4o"}}
        ),
        "regions.eu-west.models.llm",
        "needs an endpoint",
    ),
    (
        "secret in manifest",
        lambda d: _set(d, "regions.us-east.api_secret", "x"),
        "regions.us-east.api_secret",
        "secrets never go in regions.yaml",
    ),
    (
        "unpinned image",
        lambda d: _set(d, "agent.image", "ghcr.io/meridian/agent"),
        "agent.image",
        "pin a tag or a digest",
    ),
    (
        "missing global section",
        lambda d: _delete(d, "global"),
        "global",
        "required field is missing",
    ),
    (
        "misspelt global location",
        lambda d: _set(d, "global.location", "westeurop"),
        "global.location",
        "did you mean westeurope",
    ),
    (
        "front door probe interval out of range",
        lambda d: _set(d, "global.front_door.interval_seconds", 2),
        "global.front_door.interval_seconds",
        "greater than or equal to 5",
    ),
    (
        "more samples required than taken",
        lambda d: _set(d, "global.front_door.successful_samples_required", 9),
        "global.front_door",
        "must not exceed sample_size (4)",
    ),
    (
        "unknown front door key",
        lambda d: _set(d, "global.front_door.interval", 10),
        "global.front_door.interval",
        "did you mean 'interval_seconds'",
    ),
    (
        "region key reserved for the global stack",
        lambda d: _set(d, "regions.global", {"location": "brazilsouth"}),
        "regions.global",
        "names the global stack",
    ),
    (
        "canary outside the manifest",
        lambda d: _set(d, "rollout.canary", "mars"),
        "rollout.canary",
        "the canary must be a region of this manifest",
    ),
    (
        "zero wave size",
        lambda d: _set(d, "rollout.wave_size", 0),
        "rollout.wave_size",
        "greater than or equal to 1",
    ),
    (
        "bad livekit url",
        lambda d: _set(d, "livekit_url", "meridian.livekit.cloud"),
        "livekit_url",
        "wss://",
    ),
    ("no regions", lambda d: _set(d, "regions", {}), "regions", "at least one region"),
    (
        "agent name with uppercase",
        lambda d: _set(d, "agent.name", "Support"),
        "agent.name",
        "lowercase letters",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "path", "phrase"), [c[1:] for c in BAD_MANIFESTS], ids=[c[0] for c in BAD_MANIFESTS]
)
def test_bad_manifest_is_reported_with_file_path_and_rule(
    manifest_data, write_manifest, mutate, path, phrase
) -> None:
    mutate(manifest_data)
    with pytest.raises(ManifestError) as caught:
        load_manifest(write_manifest(manifest_data))
    matching = [
        e
        for e in caught.value.errors
        if e.startswith("regions.yaml:") and f" {path}" in e and phrase in e
    ]
    assert matching, caught.value.errors


def test_every_error_is_reported_at_once(manifest_data, write_manifest) -> None:
    _set(manifest_data, "regions.eu-west.replicas", {"max": 5000})
    _set(manifest_data, "regions.us-east.location", "nowhere")
    _set(manifest_data, "agent.image", "ghcr.io/meridian/agent")
    with pytest.raises(ManifestError) as caught:
        load_manifest(write_manifest(manifest_data))
    assert len(caught.value.errors) == 3


def test_error_names_the_line_of_the_bad_value(tmp_path: Path) -> None:
    text = THREE_REGIONS.read_text().replace(
        "    location: westeurope\n", "    location: westeurop\n"
    )
    (tmp_path / "regions.yaml").write_text(text)
    line = next(
        n
        for n, text_line in enumerate(text.splitlines(), 1)
        if text_line.endswith("location: westeurop")
    )
    with pytest.raises(ManifestError) as caught:
        load_manifest(tmp_path / "regions.yaml")
    assert caught.value.errors[0].startswith(f"regions.yaml:{line}: regions.eu-west.location")


def test_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "regions.yaml").write_text("agent:\n  name: a\n  image: [unclosed\nregions: {}\n")
    with pytest.raises(ManifestError) as caught:
        load_manifest(tmp_path / "regions.yaml")
    assert caught.value.errors[0].startswith("regions.yaml:4: invalid YAML")


def test_duplicate_yaml_keys_are_rejected(tmp_path: Path) -> None:
    text = THREE_REGIONS.read_text() + "  us-east:\n    location: eastus2\n"
    (tmp_path / "regions.yaml").write_text(text)
    with pytest.raises(ManifestError, match="duplicate key 'us-east'"):
        load_manifest(tmp_path / "regions.yaml")


def test_missing_file_is_a_manifest_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read the manifest"):
        load_manifest(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("stack", "region"),
    [("us-east", "us-east"), ("prod-us-east", "us-east"), ("staging-ap-southeast", "ap-southeast")],
)
def test_stack_name_selects_its_region(stack: str, region: str) -> None:
    assert load_manifest(THREE_REGIONS).region_for_stack(stack).key == region


def test_config_region_wins_over_stack_name() -> None:
    assert load_manifest(THREE_REGIONS).region_for_stack("prod", "eu-west").key == "eu-west"


def test_unknown_stack_lists_valid_regions() -> None:
    with pytest.raises(ManifestError, match="us-east, eu-west, ap-southeast"):
        load_manifest(THREE_REGIONS).region_for_stack("prod-mars")
