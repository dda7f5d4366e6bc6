"""Specification of the Azure region list in meridian/geo/regions.py."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from meridian.geo import regions
from meridian.geo.regions import ACCESS_CORRECTIONS, azure_regions

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_REGIONS = REPO_ROOT.parent / "shared" / "data" / "azure_regions_extended.csv"


def test_shipped_region_list_is_an_exact_copy_of_the_shared_reference():
    # CI checks out ../shared next to the repository; without it this must fail, not skip
    assert SHARED_REGIONS.exists(), f"shared reference data missing: {SHARED_REGIONS}"
    assert regions.REGIONS_CSV.read_bytes() == SHARED_REGIONS.read_bytes()


def test_published_special_access_flag_is_exposed():
    assert azure_regions()["germanynorth"].special_access
    assert not azure_regions()["germanywestcentral"].special_access


def test_jio_regions_are_marked_restricted_with_the_reason():
    for name in ("jioindiacentral", "jioindiawest"):
        region = azure_regions()[name]
        assert region.special_access
        assert region.access_note is not None and "Jio" in region.access_note


def test_regions_the_export_flags_carry_no_correction_note():
    assert azure_regions()["germanynorth"].access_note is None


def test_every_access_correction_fixes_a_flag_the_export_leaves_empty():
    # A correction that the published file already agrees with is dead weight after a refresh.
    with regions.REGIONS_CSV.open(newline="", encoding="utf-8") as f:
        published = {row["name"]: row["special_access"] for row in csv.DictReader(f)}
    assert all(published[name] == "" for name in ACCESS_CORRECTIONS)


def test_a_correction_for_a_region_the_file_lacks_is_reported(monkeypatch):
    monkeypatch.setitem(ACCESS_CORRECTIONS, "atlantiscentral", "sunk")
    azure_regions.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"atlantiscentral.*azure_regions\.csv"):
            azure_regions()
    finally:
        monkeypatch.undo()
        azure_regions.cache_clear()


def test_category_pairing_and_zones_are_exposed():
    region = azure_regions()["westeurope"]
    assert region.category == "Recommended"
    assert region.paired_region == "northeurope"
    assert region.availability_zones == 3
    assert azure_regions()["austriaeast"].paired_region is None


def test_canary_and_stage_regions_are_not_production():
    assert not azure_regions()["eastus2euap"].is_production
    assert not azure_regions()["eastusstg"].is_production
    assert azure_regions()["eastus"].is_production


def test_generally_available_excludes_restricted_and_non_production_regions():
    available = {name for name, r in azure_regions().items() if r.generally_available}
    assert "eastus" in available
    assert not {"germanynorth", "jioindiacentral", "centraluseuap"} & available
