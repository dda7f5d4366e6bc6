"""Specification of the region planner (planner, scripts/plan_regions.py): model use, set search,
population input, cost, plots."""

from __future__ import annotations

import io
import itertools
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from meridian.geo.latency import Location
from meridian.planner import cli as plan_regions
from meridian.planner.cost import RegionFootprint, global_layer_cost, load_prices, monthly_cost
from meridian.planner.plan import candidate_regions, plan
from meridian.planner.population import (
    PopulationError,
    User,
    load_population_csv,
    world_population,
)
from meridian.planner.selection import (
    best_sets,
    coverage,
    greedy_sets,
    mean_rtt,
    rtt_matrix,
)
from meridian.stats import weighted_percentile
from tests.manifests import THREE_REGIONS
from tests.planner.population_samples import write_customer_cities

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LONDON = User("London", Location(51.5074, -0.1278), 1.0, "Europe")
SYDNEY = User("Sydney", Location(-33.8688, 151.2093), 1.0, "Oceania")


def brute_force_best(matrix: np.ndarray, weights: np.ndarray, k: int) -> tuple[int, ...]:
    """The exact best k-set by trying every combination (the oracle for small cases)."""
    return min(
        itertools.combinations(range(matrix.shape[1]), k),
        key=lambda combo: mean_rtt(matrix, weights, combo),
    )


def run(args: list[str]) -> tuple[int, str, str]:
    # The fixture manifest, not the user's regions.yaml, unless a test names another.
    if "--manifest" not in args:
        args = [*args, "--manifest", str(THREE_REGIONS)]
    out, err = io.StringIO(), io.StringIO()
    code = plan_regions.main(args, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def customers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_customer_cities(tmp_path_factory.mktemp("population"))


# --- the shared latency model, as the planner sees it ---------------------------------------


def test_rtt_grows_with_distance_on_known_pairs() -> None:
    (row,) = rtt_matrix([LONDON], ["uksouth", "westeurope", "eastus", "southeastasia"])
    uksouth, westeurope, eastus, southeastasia = row
    assert uksouth < westeurope < eastus < southeastasia


def test_london_to_eastus_is_a_transatlantic_round_trip() -> None:
    # ~5,600 km great circle: fibre alone is 56 ms; real paths measure 70-95 ms.
    (row,) = rtt_matrix([LONDON], ["eastus"])
    assert 65 < row[0] < 100


def test_user_next_to_a_region_pays_only_the_last_mile() -> None:
    (row,) = rtt_matrix([LONDON], ["uksouth"])
    assert row[0] < 20


def test_antipodal_pair_costs_more_than_light_around_half_the_planet() -> None:
    # London-Sydney is ~17,000 km: at least 170 ms in fibre.
    (row,) = rtt_matrix([SYDNEY], ["uksouth"])
    assert row[0] > 170


# --- statistics ------------------------------------------------------------------------------


def test_weighted_percentile_follows_the_weights() -> None:
    values = np.array([10.0, 20.0, 30.0])
    assert weighted_percentile(values, np.array([1.0, 1.0, 1.0]), 50) == 20.0
    assert weighted_percentile(values, np.array([8.0, 1.0, 1.0]), 50) == 10.0
    assert weighted_percentile(values, np.array([1.0, 1.0, 8.0]), 95) == 30.0


def test_coverage_reports_weighted_mean_and_threshold_shares() -> None:
    result = coverage(np.array([40.0, 90.0, 200.0]), np.array([2.0, 1.0, 1.0]))
    assert result.mean_ms == pytest.approx((80 + 90 + 200) / 4)
    assert result.share_under == {50: 0.5, 100: 0.75, 150: 0.75}


# --- set search --------------------------------------------------------------------------------


def test_swaps_repair_a_set_plain_greedy_gets_wrong() -> None:
    # Users at 0 and 10 (and a light one at 5); sites A=0, B=5, C=10 on a line.
    matrix = np.array([[0.0, 5.0, 10.0], [5.0, 0.0, 5.0], [10.0, 5.0, 0.0]])
    weights = np.array([1.0, 0.5, 1.0])
    assert greedy_sets(matrix, weights, 2)[1] == (1, 0)
    assert sorted(best_sets(matrix, weights, 2)[1]) == [0, 2]


@pytest.mark.parametrize("seed", range(12))
def test_search_matches_brute_force_on_small_random_cases(seed: int) -> None:
    rng = random.Random(seed)
    sample = rng.sample(world_population(sample_points=300), 40)
    regions = sorted(rng.sample(candidate_regions(), 9))
    matrix = rtt_matrix(sample, regions)
    weights = np.array([u.weight for u in sample])
    for k, found in enumerate(best_sets(matrix, weights, 4), start=1):
        exact = brute_force_best(matrix, weights, k)
        assert mean_rtt(matrix, weights, found) == pytest.approx(mean_rtt(matrix, weights, exact))


def test_best_sets_grow_by_one_region_per_k() -> None:
    rng = np.random.default_rng(1)
    matrix = rng.uniform(5, 300, size=(50, 12))
    sets = best_sets(matrix, np.ones(50), 5)
    assert [len(set(s)) for s in sets] == [1, 2, 3, 4, 5]


# --- population input ---------------------------------------------------------------------------


def test_city_country_csv_resolves_cities_and_continents(customers: Path) -> None:
    users = load_population_csv(customers)
    by_name = {u.name: u for u in users}
    assert len(users) == 15
    assert by_name["São Paulo, BR"].continent == "South America"
    assert by_name["Paris, FR"].weight == 70.0


def test_lat_lon_csv_gets_continent_from_the_nearest_city(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text("lat,lon,weight\n-33.9,151.2,3\n48.85,2.35,1\n")
    users = load_population_csv(path)
    assert [(u.continent, u.weight) for u in users] == [("Oceania", 3.0), ("Europe", 1.0)]


def test_unknown_header_names_file_line_and_allowed_forms(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n1,2\n")
    with pytest.raises(PopulationError, match=r"bad.csv line 1: header x,y .*lat,lon,weight"):
        load_population_csv(path)


def test_bad_latitude_names_line_and_range(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("lat,lon,weight\n10,20,1\n95,20,1\n")
    with pytest.raises(PopulationError, match=r"line 3: lat '95' .*\[-90, 90\]"):
        load_population_csv(path)


def test_negative_weight_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("city,country,weight\nLondon,GB,-1\n")
    with pytest.raises(PopulationError, match=r"line 2: weight '-1' .*>= 0"):
        load_population_csv(path)


def test_unknown_city_suggests_close_names(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("city,country,weight\nManchestr,GB,1\n")
    with pytest.raises(PopulationError, match=r"city 'Manchestr' .* GB .*closest: Manchester"):
        load_population_csv(path)


def test_default_world_population_covers_every_inhabited_continent() -> None:
    users = world_population()
    continents = {u.continent for u in users}
    assert {"Africa", "Asia", "Europe", "North America", "Oceania", "South America"} <= continents
    # Country totals are kept: about the world's population (GeoNames figures).
    assert 6e9 < sum(u.weight for u in users) < 9e9


# --- cost ------------------------------------------------------------------------------------------


def test_monthly_cost_of_one_always_on_replica_after_the_free_grant() -> None:
    prices = load_prices()
    cost = monthly_cost([RegionFootprint(1, 10, cpu=2.0, memory_gib=4.0)], prices)
    seconds = 730 * 3600
    expected = (2 * seconds - 180_000) * 0.000024 + (4 * seconds - 360_000) * 0.000003
    assert cost.min_active_usd == pytest.approx(expected)
    assert cost.idle_floor_usd < cost.min_active_usd < cost.max_active_usd


# --- the plan and the command ------------------------------------------------------------------------


def test_plan_scores_current_baseline_and_best_sets(customers: Path) -> None:
    users = load_population_csv(customers)
    current = ["eastus", "westeurope", "southeastasia"]
    result = plan(users, current, candidate_regions(), max_k=4)
    names = [c.name for c in result.cases]
    means = {c.name: c.coverage.mean_ms for c in result.cases}
    assert names == ["current manifest", "baseline eastus", *(f"best k={k}" for k in range(1, 5))]
    assert means["best k=1"] <= means["baseline eastus"]
    assert means["best k=3"] <= means["current manifest"]
    assert [means[f"best k={k}"] for k in range(1, 5)] == sorted(
        (means[f"best k={k}"] for k in range(1, 5)), reverse=True
    )


def test_restricted_regions_are_only_candidates_when_asked() -> None:
    assert "germanynorth" not in candidate_regions()
    assert "germanynorth" in candidate_regions(include_restricted=True)
    assert "eastusstg" not in candidate_regions(include_restricted=True)


def test_jio_regions_are_restricted_candidates_only() -> None:
    assert not {"jioindiacentral", "jioindiawest"} & set(candidate_regions())
    assert {"jioindiacentral", "jioindiawest"} <= set(candidate_regions(include_restricted=True))


def test_json_output_has_cases_continents_and_costs(customers: Path) -> None:
    code, out, _ = run(["--population", str(customers), "--max-k", "3", "--cost", "--json"])
    document = json.loads(out)
    current = document["cases"][0]
    assert code == 0
    assert current["regions"] == ["eastus", "westeurope", "southeastasia"]
    assert current["monthly_cost_usd"]["min_active_usd"] > 0
    assert {c["continent"] for c in document["continents"]} >= {"Europe", "Asia"}


def test_markdown_output_states_saving_per_continent(customers: Path) -> None:
    code, out, _ = run(["--population", str(customers), "--max-k", "2", "--markdown"])
    assert code == 0
    assert "### Saving per continent (mean RTT, ms)" in out
    assert "| Europe |" in out


def test_map_is_written_as_png(customers: Path, tmp_path: Path) -> None:
    out_png = tmp_path / "map.png"
    code, _, _ = run(["--population", str(customers), "--max-k", "2", "--plot", str(out_png)])
    assert code == 0
    assert out_png.read_bytes().startswith(PNG_SIGNATURE)


def test_bad_population_file_is_one_clear_error(tmp_path: Path) -> None:
    code, out, err = run(["--population", str(tmp_path / "missing.csv")])
    assert code == 1
    assert out == ""
    assert err.startswith("plan_regions: cannot read") and "missing.csv" in err


def test_bad_manifest_is_reported_by_the_manifest_parser(tmp_path: Path, customers: Path) -> None:
    manifest = tmp_path / "regions.yaml"
    manifest.write_text("regions: 3\n")
    code, _, err = run(["--population", str(customers), "--manifest", str(manifest)])
    assert code == 1
    assert err.startswith("plan_regions: regions.yaml")
    assert "regions" in err.splitlines()[-1]


def test_script_runs_from_the_repo_root_as_documented(customers: Path) -> None:
    repo_root = Path(plan_regions.__file__).resolve().parents[2]
    completed = subprocess.run(
        [sys.executable, "scripts/plan_regions.py", "--population", str(customers), "--max-k", "1"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "current manifest" in completed.stdout


def test_the_global_layer_costs_a_registry_per_location_and_one_front_door() -> None:
    one, three = global_layer_cost(1), global_layer_cost(3)
    assert three.registry_usd == pytest.approx(3 * one.registry_usd)
    assert three.front_door_usd == one.front_door_usd == 35.0
    # Premium at $1.667/day over a 730-hour month.
    assert one.registry_usd == pytest.approx(1.667 * 730 / 24)


def test_front_door_requests_add_to_its_base_fee() -> None:
    assert global_layer_cost(
        3, token_requests_per_month=10_000_000
    ).front_door_usd == pytest.approx(35.0 + 1000 * 0.009)


def test_each_case_carries_the_global_layer_cost() -> None:
    prices = load_prices()
    cost = monthly_cost([RegionFootprint(1, 10, cpu=2.0, memory_gib=4.0)] * 3, prices)
    assert cost.global_layer_usd == pytest.approx(global_layer_cost(3).total_usd)


# --- model availability per candidate region --------------------------------------------------


def test_each_candidate_region_lists_the_models_it_can_run(customers: Path) -> None:
    code, out, _ = run(
        [
            "--population",
            str(customers),
            "--max-k",
            "2",
            "--markdown",
            "--deploy-date",
            "2026-12-02",
        ]
    )
    assert code == 0
    assert "### Models each region can run (new deployments)" in out
    assert (
        "| eastus | yes | yes | US | none | gpt-5.4-mini data-zone | gpt-5.4-mini global |" in out
    )
    assert "| southeastasia | yes | yes | none | none | none | gpt-5.4-mini global |" in out


def test_models_retired_by_the_deploy_date_are_not_offered(customers: Path) -> None:
    code, out, _ = run(
        ["--population", str(customers), "--max-k", "1", "--json", "--deploy-date", "2026-05-01"]
    )
    regions = {m["region"]: m for m in json.loads(out)["models"]["regions"]}
    assert code == 0
    assert "gpt-4.1-mini regional" in regions["westeurope"]["llm"]["region"]
    assert "gpt-4o-mini provisioned" in regions["southeastasia"]["llm"]["region"]
    code, out, _ = run(
        ["--population", str(customers), "--max-k", "1", "--json", "--deploy-date", "2026-12-02"]
    )
    regions = {m["region"]: m for m in json.loads(out)["models"]["regions"]}
    assert regions["westeurope"]["llm"]["region"] == []
