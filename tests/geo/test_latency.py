"""Specification of the shared latency model in geo/latency.py."""

from __future__ import annotations

import csv
import random
import statistics
from pathlib import Path

import pytest

from geo import latency
from geo.latency import (
    LAST_MILE_MS,
    Location,
    backbone_rtt_ms,
    country_location,
    expected_rtt_ms,
    great_circle_km,
    measured_rtt_table,
    nearest_site,
    physics_rtt_ms,
    rank_regions,
    site_location,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_RTT = REPO_ROOT.parent / "shared" / "data" / "azure_rtt_2025-06.csv"

LONDON = Location(51.5074, -0.1278)
SINGAPORE = Location(1.3521, 103.8198)
MADRID = Location(40.4168, -3.7038)


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [(91, 0), (-90.5, 0), (0, 180.1), (0, -181), (float("nan"), 0), (0, float("inf")), (True, 0)],
)
def test_location_rejects_out_of_range_or_non_numeric_coordinates(latitude, longitude):
    with pytest.raises(ValueError, match=r"latitude|longitude"):
        Location(latitude, longitude)


def test_location_accepts_the_poles_and_the_antimeridian():
    assert Location(90, 180) == Location(90.0, 180.0)
    assert Location(-90, -180).latitude == -90


def test_great_circle_london_to_new_york_is_about_5570_km():
    assert great_circle_km(LONDON, Location(40.7128, -74.0060)) == pytest.approx(5570, rel=0.01)


def test_physics_costs_about_1_ms_per_100_km_before_inflation():
    km = great_circle_km(LONDON, SINGAPORE)
    expected = latency.PHYSICS_FIXED_MS + latency.ROUTE_INFLATION * km / 100
    assert physics_rtt_ms(LONDON, SINGAPORE) == pytest.approx(expected)


def test_physics_fallback_tracks_the_measured_table_to_within_20_ms_median():
    errors = [
        abs(rtt - physics_rtt_ms(site_location(a), site_location(b)))
        for (a, b), rtt in measured_rtt_table().items()
    ]
    assert statistics.median(errors) < 20


def test_shipped_table_is_an_exact_copy_of_the_shared_reference():
    if not SHARED_RTT.exists():
        pytest.skip("shared reference data not present on this machine")
    assert (latency.RTT_CSV).read_bytes() == SHARED_RTT.read_bytes()


def test_measured_table_is_symmetrised_with_the_mean_of_both_directions():
    with latency.RTT_CSV.open(newline="") as f:
        directed = {(r["source"], r["destination"]): float(r["rtt_ms"]) for r in csv.DictReader(f)}
    a, b = next((a, b) for (a, b), v in directed.items() if directed.get((b, a), v) != v)
    mean = (directed[(a, b)] + directed[(b, a)]) / 2
    assert backbone_rtt_ms(a, b) == backbone_rtt_ms(b, a) == mean


def test_one_way_measurements_serve_both_directions():
    # westindia appears only as a destination for some sources in the published table.
    assert backbone_rtt_ms("westindia", "australiaeast") == backbone_rtt_ms(
        "australiaeast", "westindia"
    )


def test_backbone_prefers_measurement_over_physics():
    measured = measured_rtt_table()[("westeurope", "eastus")]
    assert backbone_rtt_ms("westeurope", "eastus") == measured


def test_backbone_falls_back_to_physics_for_unmeasured_pairs():
    assert ("westeurope", "spaincentral") not in measured_rtt_table()
    expected = physics_rtt_ms(site_location("westeurope"), site_location("spaincentral"))
    assert backbone_rtt_ms("westeurope", "spaincentral") == expected


def test_backbone_within_one_region_is_free():
    assert backbone_rtt_ms("eastus", "eastus") == 0


def test_spaincentral_is_placed_in_madrid_not_the_mediterranean():
    assert great_circle_km(site_location("spaincentral"), MADRID) < 30


def test_israelcentral_is_placed_in_israel_not_on_the_sinai_coast():
    assert great_circle_km(site_location("israelcentral"), Location(32.0853, 34.7818)) < 30


def test_colocated_australia_central_sites_tie_deterministically_by_name():
    canberra = Location(-35.3075, 149.1244)
    assert nearest_site(canberra) == "australiacentral"


def test_unknown_region_is_rejected_with_its_name():
    with pytest.raises(ValueError, match="atlantis"):
        expected_rtt_ms(LONDON, "atlantis")


def test_nearest_site_places_a_london_user_at_uk_south():
    assert nearest_site(LONDON) == "uksouth"


def test_nearest_site_only_picks_measured_sites():
    # spaincentral is not measured, so a Madrid user is anchored at a site with backbone data.
    assert nearest_site(MADRID) in {site for site, _ in measured_rtt_table()}


def test_expected_rtt_is_last_mile_when_the_user_sits_on_the_region():
    at_site = site_location("southeastasia")
    assert expected_rtt_ms(at_site, "southeastasia") == pytest.approx(LAST_MILE_MS)


def test_expected_rtt_adds_access_leg_and_measured_backbone():
    site = nearest_site(LONDON)
    access = latency.access_rtt_ms(LONDON, site)
    assert expected_rtt_ms(LONDON, "eastus") == pytest.approx(
        access + backbone_rtt_ms(site, "eastus")
    )


def test_unmeasured_region_is_reached_directly_by_physics():
    assert expected_rtt_ms(MADRID, "spaincentral") == pytest.approx(
        LAST_MILE_MS + physics_rtt_ms(MADRID, site_location("spaincentral"))
    )


def test_rank_regions_orders_by_expected_rtt_then_name():
    ranked = rank_regions(SINGAPORE, ["westeurope", "southeastasia", "eastus"])
    assert [r for r, _ in ranked] == ["southeastasia", "westeurope", "eastus"]


def test_rank_regions_breaks_exact_ties_by_name(monkeypatch):
    monkeypatch.setattr(latency, "_expected_rtt_via", lambda user, region, site: 50.0)
    ranked = rank_regions(LONDON, ["westeurope", "eastus", "southeastasia"])
    assert [r for r, _ in ranked] == ["eastus", "southeastasia", "westeurope"]


def test_rank_regions_does_not_depend_on_input_order():
    regions = ["westeurope", "southeastasia", "eastus", "brazilsouth"]
    assert rank_regions(MADRID, regions) == rank_regions(MADRID, list(reversed(regions)))


def test_country_location_places_a_country_where_its_people_live():
    japan = country_location("jp")
    assert japan is not None
    assert nearest_site(japan) in {"japaneast", "japanwest"}


def test_country_location_handles_countries_across_the_antimeridian():
    fiji = country_location("FJ")
    assert fiji is not None
    assert abs(fiji.longitude) > 170


def test_country_location_is_none_for_unknown_codes():
    assert country_location("ZZ") is None


def test_nearest_site_agrees_with_a_haversine_scan_everywhere():
    rng = random.Random(7)
    sites = sorted({site for site, _ in measured_rtt_table()})
    for _ in range(500):
        user = Location(rng.uniform(-90, 90), rng.uniform(-180, 180))
        expected = min(sites, key=lambda s: (great_circle_km(user, site_location(s)), s))
        assert nearest_site(user) == expected
