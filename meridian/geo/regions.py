"""The Azure public regions Meridian knows, loaded from the copy shipped in meridian/geo/data.

This is the only reader of meridian/geo/data/azure_regions.csv. The file is kept exactly as published;
the few facts it gets wrong are corrected here, in `ACCESS_CORRECTIONS`, so a refresh of the
file never silently drops them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
REGIONS_CSV = DATA_DIR / "azure_regions.csv"

# Regions whose access is restricted although the published export leaves `special_access`
# empty, with the reason. Source: "Azure region access request process", reserved access
# regions (learn.microsoft.com/troubleshoot/azure/general/region-access-request-process).
ACCESS_CORRECTIONS: dict[str, str] = {
    "jioindiacentral": "Jio India regions are open only to Reliance Jio customers",
    "jioindiawest": "Jio India regions are open only to Reliance Jio customers",
}
# Microsoft's early-update (canary) and staging regions: listed by ARM, not for production.
_NON_PRODUCTION_GEOGRAPHIES = ("Canary", "Stage")


@dataclass(frozen=True)
class AzureRegion:
    """One Azure region as ARM names it, with the coordinates Microsoft publishes for it."""

    name: str
    display_name: str
    latitude: float
    longitude: float
    geography: str
    geography_group: str
    paired_region: str | None
    physical_location: str
    # Microsoft's own grouping: "Recommended" (broadest service set) or "Other".
    category: str
    # True when a subscription must request access before deploying here.
    special_access: bool
    # Why access is restricted, when Meridian corrected the published flag; else None.
    access_note: str | None
    availability_zones: int | None
    coord_note: str

    @property
    def is_production(self) -> bool:
        """False for Microsoft's canary and staging regions, which never serve users."""
        return not self.geography.startswith(_NON_PRODUCTION_GEOGRAPHIES)

    @property
    def generally_available(self) -> bool:
        """A production region any subscription may deploy to without an access request."""
        return self.is_production and not self.special_access


def _region(row: dict[str, str]) -> AzureRegion:
    name = row["name"]
    correction = ACCESS_CORRECTIONS.get(name)
    return AzureRegion(
        name=name,
        display_name=row["display_name"],
        latitude=float(row["latitude"]),
        longitude=float(row["longitude"]),
        geography=row["geography"],
        geography_group=row["geography_group"],
        paired_region=row["paired_region"] or None,
        physical_location=row["physical_location"],
        category=row["region_category"],
        special_access=row["special_access"].strip().upper() == "TRUE" or correction is not None,
        access_note=correction,
        availability_zones=int(row["az_count"]) if row["az_count"] else None,
        coord_note=row["coord_note"],
    )


@cache
def azure_regions() -> dict[str, AzureRegion]:
    """Every public Azure region by ARM name (e.g. ``westeurope``), in file order."""
    with REGIONS_CSV.open(newline="", encoding="utf-8") as f:
        regions = {row["name"]: _region(row) for row in csv.DictReader(f)}
    stale = sorted(set(ACCESS_CORRECTIONS) - set(regions))
    if stale:
        # A refresh that renamed or dropped a region must not leave a correction unapplied.
        raise ValueError(
            f"geo.regions.ACCESS_CORRECTIONS names {', '.join(stale)}, "
            f"which {REGIONS_CSV.name} (column 'name') does not list"
        )
    return regions
