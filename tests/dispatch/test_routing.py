"""Routing: which region serves a user, and what happens on ties, failures and missing hints."""

from __future__ import annotations

import json

import pytest

from meridian.dispatch.health import ProbeResult
from meridian.dispatch.routing import ClientHints, NoHealthyRegion, choose_region
from meridian.geo.latency import Location, country_location
from tests.dispatch.support import board_for

CITIES = {
    "New York": (Location(40.7128, -74.0060), "us-east"),
    "São Paulo": (Location(-23.5505, -46.6333), "us-east"),
    "London": (Location(51.5074, -0.1278), "eu-west"),
    "Frankfurt": (Location(50.1109, 8.6821), "eu-west"),
    "Johannesburg": (Location(-26.2041, 28.0473), "eu-west"),
    "Mumbai": (Location(19.0760, 72.8777), "ap-southeast"),
    "Singapore": (Location(1.3521, 103.8198), "ap-southeast"),
    "Tokyo": (Location(35.6762, 139.6503), "ap-southeast"),
    "Sydney": (Location(-33.8688, 151.2093), "ap-southeast"),
}


def take_down(board, region: str) -> None:
    for _ in range(10):
        board.record(region, ProbeResult(False, "test outage"), now=0.0)


@pytest.mark.parametrize("city", CITIES)
def test_each_reference_city_goes_to_its_nearest_default_region(settings, city):
    location, expected = CITIES[city]
    decision = choose_region(settings, board_for(settings), ClientHints(location=location))
    assert decision.region == expected


def test_coordinates_reason_names_the_basis_and_expected_rtt(settings):
    decision = choose_region(
        settings, board_for(settings), ClientHints(location=CITIES["London"][0])
    )
    assert decision.reason.startswith("client coordinates: lowest expected RTT")


def test_regions_sharing_a_location_tie_break_by_region_key(make_settings):
    regions = [
        {"region": "eu-west-b", "location": "westeurope", "livekit_url": "wss://b.example"},
        {"region": "eu-west-a", "location": "westeurope", "livekit_url": "wss://a.example"},
    ]
    settings = make_settings(MERIDIAN_REGION="eu-west-b", MERIDIAN_REGIONS=json.dumps(regions))
    decisions = {
        choose_region(settings, board_for(settings), ClientHints(location=Location(52, 5))).region
        for _ in range(5)
    }
    assert decisions == {"eu-west-a"}


def test_down_region_sends_users_to_the_next_nearest_healthy_one(settings):
    board = board_for(settings)
    take_down(board, "eu-west")
    decision = choose_region(settings, board, ClientHints(location=CITIES["London"][0]))
    assert decision.region == "us-east"
    assert "skipped down eu-west" in decision.reason


def test_all_regions_down_raises_no_healthy_region(settings):
    board = board_for(settings)
    for region in ("us-east", "eu-west", "ap-southeast"):
        take_down(board, region)
    with pytest.raises(NoHealthyRegion):
        choose_region(settings, board, ClientHints(location=CITIES["Tokyo"][0]))


def test_explicit_region_wins_over_coordinates(settings):
    hints = ClientHints(region="ap-southeast", location=CITIES["London"][0])
    assert choose_region(settings, board_for(settings), hints).region == "ap-southeast"


def test_explicit_region_that_is_down_does_not_fail_over(settings):
    board = board_for(settings)
    take_down(board, "ap-southeast")
    with pytest.raises(NoHealthyRegion, match="ap-southeast"):
        choose_region(settings, board, ClientHints(region="ap-southeast"))


def test_country_location_routes_a_japanese_user_to_asia(settings):
    hints = ClientHints(country="JP", country_location=country_location("JP"))
    decision = choose_region(settings, board_for(settings), hints)
    assert decision.region == "ap-southeast"
    assert decision.reason.startswith("country JP")


def test_no_hints_means_the_serving_region(settings):
    decision = choose_region(settings, board_for(settings), ClientHints())
    assert (decision.region, decision.reason) == ("eu-west", "no client location: serving region")


def test_no_hints_with_serving_region_down_goes_to_its_nearest_healthy_neighbour(settings):
    board = board_for(settings)
    take_down(board, "eu-west")
    assert choose_region(settings, board, ClientHints()).region == "us-east"
