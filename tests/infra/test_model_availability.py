"""Provisioned models are checked against the shipped availability table before anything deploys:
each refusal names the region, the model and what would work; what deploys but deserves a look is
a warning."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.manifest import Manifest, ManifestError, parse_manifest
from infra.manifest.availability import sessions_per_replica
from meridian.ai_models import ai_catalog
from tests.manifests import MODELS_DAY, PROVISIONED

SHARED_TABLE = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "azure_ai_models.csv"
)


@pytest.fixture
def models_data() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(PROVISIONED.read_text()))


def parse(data: dict[str, Any], day: date = MODELS_DAY) -> Manifest:
    return parse_manifest(yaml.safe_dump(data, sort_keys=False), Path("/x/regions.yaml"), on=day)


def errors_of(data: dict[str, Any], day: date = MODELS_DAY) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        parse(data, day)
    return caught.value.errors


def test_the_fixture_provisions_every_region_with_its_fallback(models_data: dict) -> None:
    manifest = parse(models_data)
    plans = {key: region.ai for key, region in manifest.regions.items()}
    assert plans["eu-west"] is not None and plans["eu-west"].llm is not None
    assert plans["eu-west"].llm.sku == "GlobalStandard"
    assert plans["eu-west"].llm.version == "2026-03-17"
    assert plans["us-east"] is not None and plans["us-east"].llm is not None
    assert plans["us-east"].llm.sku == "DataZoneStandard"
    assert {k: p.fallback for k, p in plans.items() if p} == {
        "us-east": None,
        "eu-west": "us-east",
        "ap-southeast": "eu-west",
    }


def test_the_shipped_table_is_the_shared_copy_byte_for_byte() -> None:
    shipped = Path(__file__).resolve().parents[2] / "meridian" / "data" / "azure_ai_models.csv"
    assert shipped.read_bytes() == SHARED_TABLE.read_bytes()


def test_a_deployment_type_the_region_lacks_names_region_model_and_what_works(
    models_data: dict,
) -> None:
    models_data["regions"]["ap-southeast"]["models"] = {"llm": {"deployment": "regional"}}
    (message,) = errors_of(models_data)
    assert re.match(r"regions\.yaml:\d+: regions\.ap-southeast\.models\.llm\.deployment", message)
    assert "(got 'regional')" in message
    assert (
        "gpt-5.4-mini has no regional deployment in southeastasia (region ap-southeast" in message
    )
    assert "residency 'any' allows deployment: global" in message


def test_a_type_that_breaks_the_residency_policy_is_refused_with_the_policy_that_allows_it(
    models_data: dict,
) -> None:
    models_data["regions"]["eu-west"]["models"] = {"provision": {"residency": "region"}}
    (message,) = errors_of(models_data)
    assert "defaults.models.llm.deployment (got 'global')" in message
    assert "residency 'region' of region eu-west forbids" in message
    assert "(residency 'any' allows it)" in message


def test_a_model_the_region_lacks_points_to_the_nearest_region_that_has_it(
    models_data: dict,
) -> None:
    # Before the 2026-07 deprecations, gpt-4.1-mini is regional in westeurope, not in southeastasia.
    models_data["defaults"]["models"]["llm"].update(model="gpt-4.1-mini", deployment="regional")
    models_data["defaults"]["models"]["provision"]["residency"] = "region"
    models_data["regions"]["us-east"]["models"]["llm"] = {"deployment": "regional"}
    errors = errors_of(models_data, day=date(2026, 6, 1))
    (message,) = [e for e in errors if "ap-southeast" in e]
    assert "southeastasia offers gpt-4.1-mini only as global" in message
    assert "deployable there under 'region': gpt-4o-mini provisioned" in message
    assert "nearest regions with gpt-4.1-mini under residency 'region': japaneast" in message
    assert "ms from southeastasia" in message


def test_a_retired_model_is_refused_for_new_deployments_by_the_deploy_date(
    models_data: dict,
) -> None:
    models_data["defaults"]["models"]["llm"]["model"] = "gpt-4.1-mini"
    models_data["regions"]["us-east"]["models"]["llm"] = {"deployment": "global"}
    errors = errors_of(models_data, day=date(2026, 12, 2))
    assert len(errors) == 3
    assert all("gpt-4.1-mini is retired on 2026-10-14" in e for e in errors)
    assert (
        "region eu-west: deployable in westeurope under residency 'any': gpt-5.4-mini global"
        in errors[1]
    )


def test_a_deprecated_model_is_refused_before_it_retires(models_data: dict) -> None:
    models_data["defaults"]["models"]["llm"]["model"] = "gpt-4o-mini"
    errors = errors_of(models_data, day=date(2026, 8, 1))
    assert (
        "gpt-4o-mini is deprecated since 2026-07-01, retires 2026-10-01: no new deployments"
        in errors[0]
    )


def test_the_same_model_is_accepted_before_its_deprecation(models_data: dict) -> None:
    models_data["defaults"]["models"]["llm"]["model"] = "gpt-4o-mini"
    models_data["regions"]["eu-west"]["models"] = {"llm": {"deployment": "data-zone"}}
    models_data["regions"]["ap-southeast"]["models"] = {
        "llm": {"deployment": "provisioned", "capacity": 25}
    }
    manifest = parse(models_data, day=date(2026, 5, 1))
    assert manifest.regions["ap-southeast"].ai.llm.sku == "ProvisionedManaged"  # type: ignore[union-attr]


def test_a_model_retiring_soon_is_a_warning(models_data: dict) -> None:
    manifest = parse(models_data, day=date(2027, 1, 10))
    assert any(
        "gpt-5.4-mini retires on 2027-03-18 (67 days after 2027-01-10)" in w
        for w in manifest.warnings
    )


def test_provisioned_capacity_follows_the_ptu_minimum_and_step(models_data: dict) -> None:
    models_data["defaults"]["models"]["llm"].update(
        model="gpt-4o-mini", deployment="provisioned", capacity=30
    )
    models_data["defaults"]["models"]["provision"]["residency"] = "region"
    models_data["regions"]["us-east"]["models"]["llm"] = {}
    models_data["regions"]["eu-west"]["location"] = "swedencentral"
    del models_data["regions"]["ap-southeast"]
    errors = errors_of(models_data, day=date(2026, 5, 1))
    assert any("takes at least 25 PTUs, in steps of 25" in e for e in errors)


def test_a_realtime_model_is_not_an_llm(models_data: dict) -> None:
    models_data["regions"]["eu-west"]["location"] = "swedencentral"
    models_data["regions"]["eu-west"]["models"] = {"llm": {"model": "gpt-realtime"}}
    (message,) = errors_of(models_data)
    assert (
        "regions.eu-west.models.llm.model (got 'gpt-realtime'): a realtime speech-to-speech model"
        in message
    )


def test_a_location_outside_the_table_cannot_provision(models_data: dict) -> None:
    models_data["regions"]["ap-southeast"]["location"] = "koreacentral"
    (message,) = errors_of(models_data)
    assert "has no entry for koreacentral (region ap-southeast)" in message
    assert "it covers eastus, westeurope" in message


def test_an_hd_voice_outside_the_hd_regions_is_refused(models_data: dict) -> None:
    models_data["regions"]["ap-southeast"]["location"] = "japaneast"
    models_data["regions"]["ap-southeast"]["models"] = {
        "tts": {"voice": "en-US-Ava:DragonHDLatestNeural"}
    }
    (message,) = errors_of(models_data)
    assert "regions.ap-southeast.models.tts.voice" in message
    assert "HD voices are not offered in japaneast (region ap-southeast)" in message


def test_speech_concurrency_over_the_default_is_a_warning_naming_the_region(
    models_data: dict,
) -> None:
    models_data["regions"]["eu-west"]["replicas"] = {"min": 1, "max": 16}
    manifest = parse(models_data)
    (warning,) = [w for w in manifest.warnings if "recognitions" in w]
    assert re.match(r"regions\.yaml:\d+: regions\.eu-west\.replicas\.max \(got 16\)", warning)
    assert "16 replicas of up to 7 sessions (112 concurrent recognitions" in warning
    assert "default of 100 per resource" in warning
    assert "keep replicas.max at 14 or below" in warning


def test_sessions_per_replica_follow_the_load_threshold_and_cores(models_data: dict) -> None:
    region = parse(models_data).regions["eu-west"]
    # 0.5 of 2 cores at 13% of a core per session with real media (docs/benchmarks.md)
    assert sessions_per_replica(region) == 7


def test_a_fallback_outside_the_data_zone_is_refused(models_data: dict) -> None:
    models_data["regions"]["us-east"]["models"]["provision"]["fallback"] = "eu-west"
    (message,) = errors_of(models_data)
    assert "regions.us-east.models.provision.fallback (got 'eu-west')" in message
    assert (
        "outside the data zone of eastus that residency 'data-zone' of region us-east requires"
        in message
    )


def test_a_fallback_must_be_another_provisioning_region(models_data: dict) -> None:
    models_data["regions"]["eu-west"]["models"] = {"provision": {"fallback": "mars"}}
    (message,) = errors_of(models_data)
    assert "allowed: nearest, none, us-east, ap-southeast" in message


def test_no_fitting_fallback_is_a_warning(models_data: dict) -> None:
    models_data["regions"]["us-east"]["models"]["provision"]["fallback"] = "nearest"
    manifest = parse(models_data)
    assert any("region us-east has no fallback" in w for w in manifest.warnings)


def test_provider_azure_ai_needs_provision_and_an_llm_deployment(manifest_data: dict) -> None:
    manifest_data["regions"]["eu-west"]["models"] = {
        "llm": {"provider": "azure-ai", "model": "gpt-5.4-mini"}
    }
    assert any("needs deployment, capacity" in e for e in errors_of(manifest_data))
    manifest_data["regions"]["eu-west"]["models"]["llm"].update(deployment="global", capacity=50)
    assert any("add models.provision" in e for e in errors_of(manifest_data))


def test_deployment_settings_belong_to_a_provisioned_llm_only(manifest_data: dict) -> None:
    manifest_data["defaults"]["models"]["llm"]["capacity"] = 10
    (message,) = errors_of(manifest_data)
    assert "defaults.models.llm" in message
    assert "only apply to an LLM with provider 'azure-ai'" in message


def test_synth_prints_manifest_warnings_on_stderr_and_still_succeeds(
    models_data: dict, tmp_path: Path
) -> None:
    models_data["regions"]["eu-west"]["replicas"] = {"min": 1, "max": 16}
    path = tmp_path / "regions.yaml"
    path.write_text(yaml.safe_dump(models_data, sort_keys=False))
    done = subprocess.run(
        [
            sys.executable,
            "scripts/synth.py",
            "--manifest",
            str(path),
            "--deploy-date",
            "2026-12-02",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert "warning: regions.yaml:" in done.stderr and "recognitions" in done.stderr


def test_synth_exits_2_on_a_refused_model(models_data: dict, tmp_path: Path) -> None:
    models_data["defaults"]["models"]["llm"]["model"] = "gpt-4.1-mini"
    path = tmp_path / "regions.yaml"
    path.write_text(yaml.safe_dump(models_data, sort_keys=False))
    done = subprocess.run(
        [
            sys.executable,
            "scripts/synth.py",
            "--manifest",
            str(path),
            "--deploy-date",
            "2026-12-02",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 2
    assert "gpt-4.1-mini is retired on 2026-10-14" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_catalog_knows_southeastasia_has_only_provisioned_in_region() -> None:
    catalog = ai_catalog()
    regional = {
        m
        for (loc, m), types in catalog.offered.items()
        if loc == "southeastasia" and types & {"regional", "provisioned"}
    }
    assert regional == {"gpt-4o-mini"}
    assert catalog.data_zone("southeastasia") is None
    assert catalog.keeps_residency("data-zone", "westeurope", "swedencentral")
