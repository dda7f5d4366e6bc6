"""The image recipe, checked statically (building it needs a Docker engine)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from meridian.contract import AGENT_HEALTH_PORT
from tests.agent.support import REPO

DOCKERFILE = (REPO / "agent" / "Dockerfile").read_text()
INSTRUCTIONS = [
    line.strip()
    for line in re.sub(r"\\\n\s*", " ", DOCKERFILE).splitlines()
    if line.strip() and not line.lstrip().startswith("#")
]


def _stages() -> list[list[str]]:
    stages: list[list[str]] = []
    for line in INSTRUCTIONS:
        if line.startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def test_the_image_is_multi_stage_on_python_slim() -> None:
    froms = [line for line in INSTRUCTIONS if line.startswith("FROM ")]
    assert len(froms) >= 2
    assert all("-slim" in line for line in froms)


def test_dependencies_come_from_the_lock_file_without_dev_tools() -> None:
    [sync] = [line for line in INSTRUCTIONS if "uv sync" in line]
    assert "--locked" in sync and "--no-dev" in sync


def test_models_are_loaded_at_build_time() -> None:
    build = _stages()[0]
    assert any(re.search(r"python -m agent download-files", line) for line in build)


def test_the_runtime_stage_runs_as_a_non_root_user() -> None:
    runtime = _stages()[-1]
    [user] = [line for line in runtime if line.startswith("USER ")]
    assert user.split()[1].split(":")[0] not in ("root", "0")


def test_the_health_port_is_exposed_and_start_is_the_command() -> None:
    runtime = _stages()[-1]
    assert f"EXPOSE {AGENT_HEALTH_PORT}" in runtime
    assert runtime[-1] == 'CMD ["python", "-m", "agent", "start"]'


@pytest.mark.parametrize("path", [".venv", ".git", "tests", "infra"])
def test_the_build_context_leaves_out_local_state(path: str) -> None:
    rules = (REPO / ".dockerignore").read_text().splitlines()
    assert "*" in rules and f"!{path}/" not in rules and f"!{path}" not in rules


def test_the_build_context_keeps_what_the_image_copies() -> None:
    rules = set((REPO / ".dockerignore").read_text().splitlines())
    copied = re.findall(r"^COPY (?!--from)(\S+)", DOCKERFILE, flags=re.MULTILINE)
    for source in copied:
        assert f"!{source}/" in rules or f"!{source}" in rules


def _module_file(module: str) -> Path | None:
    base = REPO.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _first_party_imports(source: Path) -> set[str]:
    """The first-party modules one file imports, e.g. ``meridian.dispatch.app``."""
    found: set[str] = set()
    text = source.read_text()
    for match in re.finditer(r"^\s*(?:from|import) ([a-z_][a-z_.]*)", text, re.M):
        parts = match[1].split(".")
        # `from meridian.geo import latency` names a module or a name: keep the longest that is a file.
        for end in range(len(parts), 0, -1):
            if _module_file(".".join(parts[:end])):
                found.add(".".join(parts[:end]))
                break
    return found


def _reachable_packages(roots: set[str]) -> set[str]:
    """The top-level packages of every module the root packages reach through imports."""
    seen: set[Path] = set()
    todo = [file for root in roots for file in (REPO.joinpath(*root.split("."))).rglob("*.py")]
    while todo:
        source = todo.pop()
        if source in seen:
            continue
        seen.add(source)
        for module in _first_party_imports(source):
            file = _module_file(module)
            if file is not None:
                todo.append(file)
                # a package's __init__ runs on import of any of its modules
                todo.extend(
                    parent / "__init__.py"
                    for parent in file.parents
                    if (parent / "__init__.py").exists()
                )
    return {source.relative_to(REPO).parts[0] for source in seen}


def test_every_package_the_services_import_is_in_the_image() -> None:
    needed = _reachable_packages({"agent", "meridian.dispatch"})
    copied = {
        line.split()[1]
        for line in INSTRUCTIONS
        if line.startswith("COPY ") and "--from" not in line
    }
    allowed = {
        line.strip("!/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    assert needed <= copied, needed - copied
    assert needed <= allowed, needed - allowed
