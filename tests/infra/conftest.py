"""Fixtures for infra tests: a valid manifest to mutate, and a way to write it to disk."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.manifests import THREE_REGIONS


@pytest.fixture
def manifest_data() -> dict[str, Any]:
    """The fixture manifest as plain data, safe to mutate."""
    return copy.deepcopy(yaml.safe_load(THREE_REGIONS.read_text()))


@pytest.fixture
def write_manifest(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    def write(data: dict[str, Any]) -> Path:
        path = tmp_path / "regions.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return write
