"""MERIDIAN_REGIONS: the table of deployed regions that infra renders for every dispatch service."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter

from meridian.contract import RegionKey
from meridian.transport import transport_problem


def _transport(*secure: str) -> AfterValidator:
    def check(value: str | None) -> str | None:
        if value is not None and (problem := transport_problem(value, secure)) is not None:
            raise ValueError(f"must be {problem}")
        return value

    return AfterValidator(check)


class RegionEntry(BaseModel):
    """One region dispatch may send users to: its key, Azure location, LiveKit URL and, when known,
    the https origin where peers probe its dispatch service."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: RegionKey
    location: Annotated[str, Field(pattern=r"^[a-z0-9]+$", max_length=64)]
    livekit_url: Annotated[
        str, Field(pattern=r"^wss?://[^\s/@]+(/\S*)?$", max_length=2048), _transport("wss")
    ]
    # An origin, or an origin and path prefix: a region behind the global Front Door is reached
    # at <global URL>/regions/<key>.
    dispatch_url: Annotated[
        str | None,
        Field(pattern=r"^https?://[^\s/@]+(/[^\s@?#]*[^\s@?#/])?$", max_length=2048),
        _transport("https"),
    ] = None


RegionTable = TypeAdapter(tuple[RegionEntry, ...])


def render_region_table(entries: list[RegionEntry]) -> str:
    """The compact JSON that MERIDIAN_REGIONS holds."""
    return RegionTable.dump_json(tuple(entries), exclude_none=True).decode()
