"""Azure Container Apps limits and Consumption prices, from the data file shipped with the package
(`meridian/data/aca_limits.json`; each entry names its source in `meridian/data/SOURCES.md`)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def aca_limits() -> dict[str, Any]:
    """The parsed limits file; read once per process."""
    text = resources.files("meridian").joinpath("data", "aca_limits.json").read_text("utf-8")
    return json.loads(text)
