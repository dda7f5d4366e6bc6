"""Which models each candidate region can run, from the shipped availability table
(meridian.ai_models): Speech, HD voices, the data zone, and the chat models a new deployment can
use there, by how far their processing may travel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from meridian.ai_models import Residency, ai_catalog, allowed_by

# The reach of each column: processing in the region, in its data zone, anywhere.
REACHES: tuple[Residency, ...] = ("region", "data-zone", "any")


@dataclass(frozen=True)
class RegionModels:
    """One region's model availability; `in_table` False when the table does not cover it."""

    region: str
    in_table: bool
    speech: bool
    hd_voices: bool
    data_zone: str | None
    # reach -> ["gpt-5.4-mini data-zone", ...]: what a new deployment can use on `day`
    llm: dict[str, list[str]]


def model_availability(regions: Sequence[str], day: date) -> list[RegionModels]:
    """Availability for each region, in the order given (duplicates dropped)."""
    catalog = ai_catalog()
    found = []
    for region in dict.fromkeys(regions):
        pairs = catalog.deployable(region, "any", day)
        by_reach: dict[str, list[str]] = {reach: [] for reach in REACHES}
        for model, kind in pairs:
            reach = next(r for r in REACHES if allowed_by(r, kind))
            by_reach[reach].append(f"{model} {kind}")
        found.append(
            RegionModels(
                region=region,
                in_table=catalog.knows(region),
                speech=region in catalog.speech_locations,
                hd_voices=region in catalog.hd_voice_locations,
                data_zone=catalog.data_zone(region),
                llm=by_reach,
            )
        )
    return found


def table_note(day: date) -> str:
    """Where the availability comes from, for the report's footer."""
    catalog = ai_catalog()
    return (
        f"models: meridian/data/azure_ai_models.csv (Microsoft's model matrix of"
        f" {catalog.availability_revision}), chat models still deployable on {day}"
        f" (retirement schedule of {catalog.lifecycle_revision})"
    )
