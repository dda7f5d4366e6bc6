"""The Azure public regions Meridian knows, loaded from the copy shipped in geo/data."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
REGIONS_CSV = DATA_DIR / "azure_regions.csv"


@dataclass(frozen=True)
class AzureRegion:
    """One Azure region as ARM names it, with the coordinates Microsoft publishes for it."""

    name: str
    display_name: str
    latitude: float
    longitude: float
    geography: str
    geography_group: str
    coord_note: str


@cache
def azure_regions() -> dict[str, AzureRegion]:
    """Every public Azure region by ARM name (e.g. ``westeurope``), in file order."""
    with REGIONS_CSV.open(newline="", encoding="utf-8") as f:
        return {
            row["name"]: AzureRegion(
                name=row["name"],
                display_name=row["display_name"],
                latitude=float(row["latitude"]),
                longitude=float(row["longitude"]),
                geography=row["geography"],
                geography_group=row["geography_group"],
                coord_note=row["coord_note"],
            )
            for row in csv.DictReader(f)
        }
