"""Azure Container Apps limits and Consumption prices, and the global layer's list prices, from the data
files shipped with the package (`meridian/data/`; each entry names its source, see SOURCES.md)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def aca_limits() -> dict[str, Any]:
    """The parsed Container Apps limits file; read once per process."""
    return _data("aca_limits.json")


@cache
def global_prices() -> dict[str, Any]:
    """The parsed list prices of the registry, Front Door, Key Vault and fallback storage."""
    return _data("global_prices.json")


def _data(name: str) -> dict[str, Any]:
    return json.loads(resources.files("meridian").joinpath("data", name).read_text("utf-8"))
