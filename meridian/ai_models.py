"""Where Azure AI models can run: the dated availability table, the retirement schedule and the
Speech facts shipped in `meridian/data/` (azure_ai_models.csv, azure_ai.json; sources in
SOURCES.md). The manifest's checks and the region planner read them here, and only here."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Literal, get_args

DeploymentType = Literal["regional", "data-zone", "global", "provisioned"]
Residency = Literal["region", "data-zone", "any"]
DEPLOYMENT_TYPES: tuple[DeploymentType, ...] = get_args(DeploymentType)
RESIDENCIES: tuple[Residency, ...] = get_args(Residency)

# The table's column for each deployment type, and the SKU Azure names it by.
_COLUMNS: dict[DeploymentType, str] = {
    "regional": "regional_standard",
    "data-zone": "data_zone_standard",
    "global": "global_standard",
    "provisioned": "provisioned",
}
AZURE_SKUS: dict[DeploymentType, str] = {
    "regional": "Standard",
    "data-zone": "DataZoneStandard",
    "global": "GlobalStandard",
    "provisioned": "ProvisionedManaged",
}
# Where each deployment type may process a call: in the region, in its data zone, anywhere.
_REACH: dict[DeploymentType, Residency] = {
    "regional": "region",
    "provisioned": "region",
    "data-zone": "data-zone",
    "global": "any",
}
_STRICTNESS: dict[Residency, int] = {"region": 0, "data-zone": 1, "any": 2}


def allowed_by(residency: Residency, deployment: DeploymentType) -> bool:
    """Whether a deployment type keeps processing where the residency policy requires."""
    return _STRICTNESS[_REACH[deployment]] <= _STRICTNESS[residency]


@dataclass(frozen=True)
class ModelInfo:
    """One model's lifecycle: its version, kind, and the dates Azure stops new deployments and
    stops serving it (None: not announced)."""

    name: str
    version: str | None
    kind: Literal["chat", "realtime"]
    deprecated: date | None
    retires: date | None
    ptu_minimum: int | None
    ptu_increment: int | None

    def refused_on(self, day: date) -> str | None:
        """Why Azure refuses a new deployment of this model on `day`, or None."""
        if self.retires is not None and day >= self.retires:
            return f"retired on {self.retires.isoformat()}: every call to it fails"
        if self.deprecated is not None and day >= self.deprecated:
            retires = f", retires {self.retires.isoformat()}" if self.retires else ""
            return f"deprecated since {self.deprecated.isoformat()}{retires}: no new deployments"
        return None


@dataclass(frozen=True)
class AiCatalog:
    """The shipped availability table and lifecycle facts, queried by location and model."""

    availability_revision: date
    lifecycle_revision: date
    offered: dict[tuple[str, str], frozenset[DeploymentType]]
    models: dict[str, ModelInfo]
    speech_locations: frozenset[str]
    hd_voice_locations: frozenset[str]
    speech_concurrent_recognitions: int
    data_zones: dict[str, frozenset[str]]

    @property
    def locations(self) -> list[str]:
        """Every location the table covers, in the table's order."""
        return list(dict.fromkeys(location for location, _ in self.offered))

    def types(self, location: str, model: str) -> frozenset[DeploymentType]:
        """The deployment types `model` is offered as in `location` (empty: not offered)."""
        return self.offered.get((location, model), frozenset())

    def knows(self, location: str) -> bool:
        """Whether the table covers this location at all."""
        return any(loc == location for loc, _ in self.offered)

    def data_zone(self, location: str) -> str | None:
        """The data zone a location belongs to ('us', 'eu'), or None."""
        return next(
            (zone for zone, members in self.data_zones.items() if location in members), None
        )

    def keeps_residency(self, residency: Residency, home: str, other: str) -> bool:
        """Whether processing in `other` keeps a `home` region's residency policy."""
        if residency == "any" or other == home:
            return True
        zone = self.data_zone(home)
        return residency == "data-zone" and zone is not None and zone == self.data_zone(other)

    def deployable(
        self, location: str, residency: Residency, day: date, models: Iterable[str] | None = None
    ) -> list[tuple[str, DeploymentType]]:
        """(model, type) pairs a new chat deployment can use in `location` under `residency`."""
        found = []
        for name in models if models is not None else self.models:
            info = self.models.get(name)
            if info is None or info.kind != "chat" or info.refused_on(day):
                continue
            found += [
                (name, t)
                for t in DEPLOYMENT_TYPES
                if t in self.types(location, name) and allowed_by(residency, t)
            ]
        return found


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


@cache
def ai_catalog() -> AiCatalog:
    """The catalog from the files shipped in meridian/data; read once per process."""
    data = resources.files("meridian").joinpath("data")
    facts = json.loads(data.joinpath("azure_ai.json").read_text("utf-8"))
    offered: dict[tuple[str, str], frozenset[DeploymentType]] = {}
    rows = csv.DictReader(io.StringIO(data.joinpath("azure_ai_models.csv").read_text("utf-8")))
    for row in rows:
        offered[(row["region"], row["model"])] = frozenset(
            t for t, column in _COLUMNS.items() if row[column].strip() == "yes"
        )
    models = {
        name: ModelInfo(
            name=name,
            version=m["version"],
            kind=m["kind"],
            deprecated=_day(m["deprecated"]),
            retires=_day(m["retires"]),
            ptu_minimum=m["ptu_minimum"],
            ptu_increment=m["ptu_increment"],
        )
        for name, m in facts["models"].items()
    }
    return AiCatalog(
        availability_revision=date.fromisoformat(facts["availability_revision"]),
        lifecycle_revision=date.fromisoformat(facts["lifecycle_revision"]),
        offered=offered,
        models=models,
        speech_locations=frozenset(facts["speech_locations"]),
        hd_voice_locations=frozenset(facts["speech_hd_voice_locations"]),
        speech_concurrent_recognitions=int(facts["speech_concurrent_recognitions"]),
        data_zones={zone: frozenset(m) for zone, m in facts["data_zones"].items()},
    )


def is_hd_voice(voice: str) -> bool:
    """Azure's HD neural voices are named like en-US-Ava:DragonHDLatestNeural."""
    return ":" in voice and "HD" in voice.split(":", 1)[1]
