"""Specification of the shared latency model in meridian/geo/latency.py."""

from __future__ import annotations

import csv
import math
import random
import statistics
from pathlib import Path

import pytest

from meridian.geo import latency
from meridian.geo.latency import (
    LAST_MILE_MS,
    LatencyModel,
    Location,
    country_location,
    default_model,
    great_circle_km,
    measured_rtt_table,
    physics_rtt_ms,
    rank_regions,
    site_location,
)
from meridian.geo.regions import azure_regions

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
    # CI checks out ../shared next to the repository; without it this must fail, not skip
    assert SHARED_RTT.exists(), f"shared reference data missing: {SHARED_RTT}"
    assert (latency.RTT_CSV).read_bytes() == SHARED_RTT.read_bytes()


def test_measured_table_is_symmetrised_with_the_mean_of_both_directions():
    with latency.RTT_CSV.open(newline="") as f:
        directed = {(r["source"], r["destination"]): float(r["rtt_ms"]) for r in csv.DictReader(f)}
    a, b = next((a, b) for (a, b), v in directed.items() if directed.get((b, a), v) != v)
    mean = (directed[(a, b)] + directed[(b, a)]) / 2
    assert default_model().backbone_rtt_ms(a, b) == default_model().backbone_rtt_ms(b, a) == mean


def test_one_way_measurements_serve_both_directions():
    # westindia appears only as a destination for some sources in the published table.
    assert default_model().backbone_rtt_ms(
        "westindia", "australiaeast"
    ) == default_model().backbone_rtt_ms("australiaeast", "westindia")


def test_backbone_prefers_measurement_over_physics():
    measured = measured_rtt_table()[("westeurope", "eastus")]
    assert default_model().backbone_rtt_ms("westeurope", "eastus") == measured


def test_unmeasured_pair_is_physics_corrected_by_the_nearest_measured_neighbour():
    # spaincentral is unmeasured; its nearest measured site is francesouth.
    assert ("westeurope", "spaincentral") not in measured_rtt_table()
    here, proxy = site_location("westeurope"), site_location("francesouth")
    excess = default_model().backbone_rtt_ms("westeurope", "francesouth") - physics_rtt_ms(
        here, proxy
    )
    expected = physics_rtt_ms(here, site_location("spaincentral")) + excess
    assert default_model().backbone_rtt_ms("westeurope", "spaincentral") == pytest.approx(
        expected + latency.UNMEASURED_MARGIN_MS
    )


def test_unmeasured_pair_from_the_regions_own_neighbour_is_physics_plus_margin():
    here = site_location("francesouth")
    assert default_model().backbone_rtt_ms("francesouth", "spaincentral") == pytest.approx(
        physics_rtt_ms(here, site_location("spaincentral")) + latency.UNMEASURED_MARGIN_MS
    )


def test_estimates_for_held_out_measurements_are_rarely_optimistic():
    # Hide each measured region in turn and estimate its pairs from the rest of the table.
    table = measured_rtt_table()
    errors = []
    for hidden in default_model().sites:
        model = LatencyModel.from_table({k: v for k, v in table.items() if hidden not in k})
        errors += [
            model.backbone_rtt_ms(site, hidden) - rtt
            for (site, region), rtt in table.items()
            if region == hidden and site in model.sites
        ]
    optimistic = sum(e < 0 for e in errors) / len(errors)
    assert len(errors) > 2000
    assert statistics.median(errors) > 0
    assert optimistic < 0.3


def test_estimated_pair_is_the_same_in_both_directions():
    assert default_model().backbone_rtt_ms(
        "spaincentral", "westeurope"
    ) == default_model().backbone_rtt_ms("westeurope", "spaincentral")


def test_pair_of_two_unmeasured_regions_is_physics_plus_margin():
    a, b = site_location("spaincentral"), site_location("austriaeast")
    assert default_model().backbone_rtt_ms("spaincentral", "austriaeast") == pytest.approx(
        physics_rtt_ms(a, b) + latency.UNMEASURED_MARGIN_MS
    )


def test_estimates_are_cached_per_pair_and_stable():
    first = default_model().backbone_rtt_ms("japaneast", "austriaeast")
    assert default_model().backbone_rtt_ms("japaneast", "austriaeast") == first


def test_backbone_within_one_region_is_free():
    assert default_model().backbone_rtt_ms("eastus", "eastus") == 0


def test_spaincentral_is_placed_in_madrid_not_the_mediterranean():
    assert great_circle_km(site_location("spaincentral"), MADRID) < 30


def test_israelcentral_is_placed_in_israel_not_on_the_sinai_coast():
    assert great_circle_km(site_location("israelcentral"), Location(32.0853, 34.7818)) < 30


def test_colocated_australia_central_sites_tie_deterministically_by_name():
    canberra = Location(-35.3075, 149.1244)
    assert default_model().nearest_site(canberra) == "australiacentral"


def test_unknown_region_is_rejected_with_its_name():
    with pytest.raises(ValueError, match="atlantis"):
        default_model().expected_rtt_ms(LONDON, "atlantis")


def test_nearest_site_places_a_london_user_at_uk_south():
    assert default_model().nearest_site(LONDON) == "uksouth"


def test_nearest_site_only_picks_measured_sites():
    # spaincentral is not measured, so a Madrid user is anchored at a site with backbone data.
    assert default_model().nearest_site(MADRID) in {site for site, _ in measured_rtt_table()}


def test_sparsely_measured_sites_do_not_anchor_users():
    # The 2025-06 table measures jioindiawest against only 7 other sites.
    assert "jioindiawest" in default_model().sites
    assert "jioindiawest" not in default_model().anchors


def test_every_anchor_is_measured_against_most_other_sites():
    table = measured_rtt_table()
    others = len(default_model().sites) - 1
    for site in default_model().anchors:
        partners = sum(1 for src, _ in table if src == site)
        assert partners >= latency.ANCHOR_MIN_COVERAGE * others


def test_western_india_users_are_anchored_at_a_well_measured_indian_site():
    ahmedabad = Location(23.0225, 72.5714)
    assert default_model().nearest_site(ahmedabad) in {"westindia", "centralindia"}


def test_expected_rtt_is_last_mile_when_the_user_sits_on_the_region():
    at_site = site_location("southeastasia")
    assert default_model().expected_rtt_ms(at_site, "southeastasia") == pytest.approx(LAST_MILE_MS)


def test_expected_rtt_adds_access_leg_and_measured_backbone():
    site = default_model().nearest_site(LONDON)
    access = latency.access_rtt_ms(LONDON, site)
    assert default_model().expected_rtt_ms(LONDON, "eastus") == pytest.approx(
        access + default_model().backbone_rtt_ms(site, "eastus")
    )


def test_user_nearer_an_unmeasured_region_than_any_measured_site_is_placed_at_it():
    km = great_circle_km(MADRID, site_location("spaincentral"))
    assert default_model().expected_rtt_ms(MADRID, "spaincentral") == pytest.approx(
        LAST_MILE_MS + latency.ROUTE_INFLATION * km / 100
    )


def test_farther_user_reaches_an_unmeasured_region_through_their_site():
    site = default_model().nearest_site(LONDON)
    assert default_model().expected_rtt_ms(LONDON, "spaincentral") == pytest.approx(
        latency.access_rtt_ms(LONDON, site) + default_model().backbone_rtt_ms(site, "spaincentral")
    )


def _equidistant_points(a: Location, b: Location, count: int) -> list[Location]:
    """Points spread around the great circle of places equally far from a and b."""

    def unit(loc: Location) -> list[float]:
        lat, lon = math.radians(loc.latitude), math.radians(loc.longitude)
        return [math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)]

    def cross(u: list[float], v: list[float]) -> list[float]:
        return [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]]

    def normed(u: list[float]) -> list[float]:
        size = math.sqrt(sum(x * x for x in u))
        return [x / size for x in u]

    normal = normed([x - y for x, y in zip(unit(a), unit(b), strict=True)])
    e1 = normed(cross(normal, [0.0, 0.0, 1.0] if abs(normal[2]) < 0.9 else [1.0, 0.0, 0.0]))
    e2 = cross(normal, e1)
    points = []
    for i in range(count):
        t = 2 * math.pi * i / count
        x, y, z = (math.cos(t) * p + math.sin(t) * q for p, q in zip(e1, e2, strict=True))
        lat = math.degrees(math.asin(max(-1.0, min(1.0, z))))
        points.append(Location(lat, math.degrees(math.atan2(y, x))))
    return points


UNMEASURED = sorted(
    name
    for name, region in azure_regions().items()
    if region.is_production and name not in default_model().sites
)


@pytest.mark.parametrize("region", UNMEASURED)
def test_unmeasured_region_is_not_favoured_over_a_measured_neighbour_at_the_same_distance(region):
    neighbour = default_model().nearest_site(site_location(region))
    users = _equidistant_points(site_location(region), site_location(neighbour), 360)
    assert all(
        great_circle_km(u, site_location(region))
        == pytest.approx(great_circle_km(u, site_location(neighbour)), abs=1.0)
        for u in users
    )
    favoured = sum(
        default_model().expected_rtt_ms(u, region) < default_model().expected_rtt_ms(u, neighbour)
        for u in users
    )
    assert favoured / len(users) <= 0.5


def test_rank_regions_orders_by_expected_rtt_then_name():
    ranked = rank_regions(SINGAPORE, ["westeurope", "southeastasia", "eastus"])
    assert [r for r, _ in ranked] == ["southeastasia", "westeurope", "eastus"]


def test_rank_regions_breaks_exact_ties_by_name(monkeypatch):
    monkeypatch.setattr(
        latency.LatencyModel, "_expected_rtt_via", lambda self, user, region, site: 50.0
    )
    ranked = rank_regions(LONDON, ["westeurope", "eastus", "southeastasia"])
    assert [r for r, _ in ranked] == ["eastus", "southeastasia", "westeurope"]


def test_rank_regions_does_not_depend_on_input_order():
    regions = ["westeurope", "southeastasia", "eastus", "brazilsouth"]
    assert rank_regions(MADRID, regions) == rank_regions(MADRID, list(reversed(regions)))


def test_country_location_places_a_country_where_its_people_live():
    japan = country_location("jp")
    assert japan is not None
    assert default_model().nearest_site(japan) in {"japaneast", "japanwest"}


def test_country_location_handles_countries_across_the_antimeridian():
    fiji = country_location("FJ")
    assert fiji is not None
    assert abs(fiji.longitude) > 170


def test_country_location_is_none_for_unknown_codes():
    assert country_location("ZZ") is None


def test_nearest_site_agrees_with_a_haversine_scan_everywhere():
    rng = random.Random(7)
    sites = default_model().anchors
    for _ in range(500):
        user = Location(rng.uniform(-90, 90), rng.uniform(-180, 180))
        expected = min(sites, key=lambda s: (great_circle_km(user, site_location(s)), s))
        assert default_model().nearest_site(user) == expected
