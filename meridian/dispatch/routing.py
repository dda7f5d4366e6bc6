"""Pick the region that serves a user: explicit choice, else nearest healthy by expected RTT."""

from __future__ import annotations

from dataclasses import dataclass

from meridian.dispatch.health import HealthBoard
from meridian.dispatch.settings import DispatchSettings
from meridian.geo.latency import Location, rank_regions, site_location


@dataclass(frozen=True)
class ClientHints:
    """What the request tells us about where the user is or wants to be."""

    region: str | None = None
    location: Location | None = None
    country: str | None = None
    country_location: Location | None = None


@dataclass(frozen=True)
class Decision:
    """The chosen region and a short, human-readable reason."""

    region: str
    reason: str


class NoHealthyRegion(Exception):
    """Every candidate region is down; str() is safe to show to the client."""


def _nearest_healthy(
    settings: DispatchSettings, board: HealthBoard, user: Location, basis: str
) -> Decision:
    by_location: dict[str, list[str]] = {}
    for entry in settings.regions:
        by_location.setdefault(entry.location, []).append(entry.region)
    ranked = rank_regions(user, by_location)
    skipped: list[str] = []
    for location, rtt in ranked:
        for region in sorted(by_location[location]):
            if board.is_up(region):
                suffix = f"; skipped down {', '.join(skipped)}" if skipped else ""
                return Decision(region, f"{basis}: lowest expected RTT {rtt:.0f} ms{suffix}")
            skipped.append(region)
    raise NoHealthyRegion("no healthy region: every deployed region is down")


def choose_region(settings: DispatchSettings, board: HealthBoard, hints: ClientHints) -> Decision:
    """Decide which deployed region serves this user.

    Order: an explicit region (already validated as allowed and known), then coordinates, then
    the country's population centre, then the serving region's own position.
    """
    if hints.region is not None:
        if not board.is_up(hints.region):
            # An explicit choice may be a residency requirement, so it never fails over silently.
            raise NoHealthyRegion(f"requested region {hints.region!r} is down")
        return Decision(hints.region, "explicit region requested")
    if hints.location is not None:
        return _nearest_healthy(settings, board, hints.location, "client coordinates")
    if hints.country_location is not None:
        return _nearest_healthy(settings, board, hints.country_location, f"country {hints.country}")
    serving = settings.entry(settings.region)
    if board.is_up(serving.region):
        return Decision(serving.region, "no client location: serving region")
    return _nearest_healthy(
        settings, board, site_location(serving.location), "no client location, serving region down"
    )
