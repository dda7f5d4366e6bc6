"""What installing Meridian puts on a user's import path, and the commands it offers."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from hatchling.builders.wheel import WheelBuilder

REPO = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
SCRIPTS = sorted(path.name for path in (REPO / "scripts").glob("*.py"))


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    out = tmp_path_factory.mktemp("wheel")
    wheel = next(WheelBuilder(str(REPO)).build(directory=str(out), versions=["standard"]))
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def test_the_wheel_has_three_top_level_import_packages(wheel_names: list[str]) -> None:
    top = {name.split("/")[0] for name in wheel_names if ".dist-info/" not in name}
    assert top == {"meridian", "agent", "infra"}


def test_the_wheel_carries_no_benchmark_or_test_files(wheel_names: list[str]) -> None:
    assert not [n for n in wheel_names if re.search(r"(^|/)(benchmarks|tests)/", n)]


def test_the_wheel_ships_the_data_the_services_read(wheel_names: list[str]) -> None:
    needed = {
        "meridian/geo/data/azure_regions.csv",
        "meridian/geo/data/azure_rtt.csv",
        "meridian/smoke/data/question.wav",
        "agent/faq.yaml",
    }
    assert needed <= set(wheel_names)


@pytest.mark.parametrize("name", sorted(PROJECT["scripts"]))
def test_every_entry_point_names_a_function(name: str) -> None:
    module, _, attribute = PROJECT["scripts"][name].partition(":")
    assert module.startswith(("meridian.", "infra."))
    assert callable(getattr(importlib.import_module(module), attribute))


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_answers_help(script: str) -> None:
    result = subprocess.run(
        [sys.executable, f"scripts/{script}", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.lstrip().startswith("usage:")


def test_only_the_pulumi_entry_shim_touches_sys_path() -> None:
    touching = [
        path.relative_to(REPO).as_posix()
        for folder in ("agent", "infra", "meridian", "scripts", "benchmarks")
        for path in (REPO / folder).rglob("*.py")
        if "sys.path" in path.read_text()
    ]
    assert touching == ["infra/__main__.py"]


def test_no_shipped_or_benchmark_module_imports_tests() -> None:
    importing = [
        path.relative_to(REPO).as_posix()
        for folder in ("agent", "infra", "meridian", "scripts", "benchmarks")
        for path in (REPO / folder).rglob("*.py")
        if re.search(r"^\s*(from|import) tests\b", path.read_text(), re.M)
    ]
    assert importing == []
