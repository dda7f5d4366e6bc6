"""Turn regions.yaml into a Manifest: read it, validate each section, apply defaults, check the
rules that span fields, and report every problem at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from infra.manifest.availability import ModelChecks
from infra.manifest.errors import Errors, ManifestError
from infra.manifest.model import Manifest, Region
from infra.manifest.names import GLOBAL_KEY, ResourceNames, container_app_name_problems
from infra.manifest.schema import (
    AgentSettings,
    DispatchSection,
    GlobalSettings,
    ManifestFile,
    RegionSettings,
    RolloutSettings,
)
from infra.manifest.source import LineIndex, SourceError, load_yaml, read_manifest_text
from meridian.contract import REGION_KEY_RULE, is_region_key

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MANIFEST = ROOT / "regions.yaml"
_S = TypeVar("_S", AgentSettings, DispatchSection, GlobalSettings, RolloutSettings)


def deploy_date() -> date:
    """The day a deploy runs (UTC): Azure refuses a new deployment of a deprecated or retired
    model by the calendar of the deploy, not by the date of Meridian's availability table."""
    return datetime.now(UTC).date()


def load_manifest(path: Path | str = DEFAULT_MANIFEST, *, on: date | None = None) -> Manifest:
    """Load and validate a manifest; raise ManifestError listing every problem at once. Models are
    checked against their lifecycle as of `on` (default: today, the deploy date)."""
    path = Path(path)
    try:
        text = read_manifest_text(path, _display_name(path))
    except SourceError as exc:
        raise ManifestError([str(exc)]) from None
    return parse_manifest(text, path, on=on)


def parse_manifest(text: str, path: Path, *, on: date | None = None) -> Manifest:
    """Validate manifest text; `path` names the file in every message; `on` as in load_manifest."""
    name = _display_name(path)
    try:
        raw, lines = load_yaml(text, name)
    except SourceError as exc:
        raise ManifestError([str(exc)]) from None
    if not isinstance(raw, dict):
        raise ManifestError(
            [
                f"{name}: the manifest must be a mapping with agent, livekit_url, defaults and regions"
            ]
        )
    return _Parser(name, lines, on or deploy_date()).parse(raw, path)


def _display_name(path: Path) -> str:
    return path.name if path.is_absolute() else str(path)


class _Parser:
    def __init__(self, name: str, lines: LineIndex, day: date) -> None:
        self.errors = Errors(name, lines)
        self.warnings = Errors(name, lines)
        self.models = ModelChecks(self.errors, self.warnings, day)

    def parse(self, raw: dict[str, Any], path: Path) -> Manifest:
        errors = self.errors
        try:
            top = ManifestFile.model_validate(raw)
        except ValidationError as exc:
            errors.add_pydantic(exc, ManifestFile)
            errors.raise_if_any()
            raise AssertionError("unreachable") from None

        agent = self._section(AgentSettings, top.agent, "agent")
        dispatch = self._section(DispatchSection, top.dispatch, "dispatch")
        global_ = self._section(GlobalSettings, top.global_, "global")
        rollout = self._section(RolloutSettings, top.rollout, "rollout")
        for key in top.regions:
            if not is_region_key(key):
                errors.add(
                    ("regions", key), key, f"region keys must be DNS-safe: {REGION_KEY_RULE}"
                )
            elif key == GLOBAL_KEY:
                errors.add(
                    ("regions", key),
                    key,
                    "'global' names the global stack (registry, vault, Front Door); pick another key",
                )
        if rollout and rollout.canary is not None and rollout.canary not in top.regions:
            errors.add(
                ("rollout", "canary"),
                rollout.canary,
                f"the canary must be a region of this manifest; allowed: {', '.join(top.regions)}",
            )
        if not top.regions:
            errors.add(("regions",), {}, "at least one region is required")
        if "location" in top.defaults:
            errors.add(
                ("defaults", "location"), top.defaults["location"], "location is set per region"
            )

        parsed: dict[str, tuple[RegionSettings, ResourceNames]] = {}
        seen_locations: dict[str, str] = {}
        for key, overrides in top.regions.items():
            overrides = overrides or {}
            settings = self._region_settings(key, top, overrides)
            if settings is None or agent is None or not is_region_key(key) or key == GLOBAL_KEY:
                continue
            names = ResourceNames.derive(agent.name, key)
            self._check_names(key, names)
            if settings.location in seen_locations:
                errors.add(
                    ("regions", key, "location"),
                    settings.location,
                    f"location is already used by region {seen_locations[settings.location]!r};"
                    " each region deploys to its own Azure location",
                )
            seen_locations.setdefault(settings.location, key)
            self.models.region(key, settings, _owner(key, overrides))
            parsed[key] = (settings, names)
        plans = self.models.resolve()
        regions = {
            key: Region(**dict(settings), key=key, names=names, ai=plans.get(key))
            for key, (settings, names) in parsed.items()
        }

        errors.raise_if_any()
        assert agent and dispatch and global_ and rollout
        return Manifest(
            path=path,
            agent=agent,
            livekit_url=str(top.livekit_url),
            global_=global_,
            dispatch=dispatch,
            rollout=rollout,
            regions=regions,
            warnings=tuple(self.warnings.messages),
        )

    def _section(self, model: type[_S], data: dict[str, Any], name: str) -> _S | None:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            self.errors.add_pydantic(exc, model, prefix=(name,))
            return None

    def _region_settings(
        self, key: str, top: ManifestFile, overrides: dict[str, Any]
    ) -> RegionSettings | None:
        merged = _deep_merge({"livekit_url": top.livekit_url, **top.defaults}, overrides)
        owner = _owner(key, overrides)

        try:
            settings = RegionSettings.model_validate(merged)
        except ValidationError as exc:
            self.errors.add_pydantic(exc, RegionSettings, owner_of=owner)
            return None
        # Replicas must be added before workers start refusing jobs, or users wait on a full worker.
        if settings.scale.cpu_percent >= settings.worker.load_threshold * 100:
            path = ("scale", "cpu_percent")
            self.errors.add(
                (*owner(path), *path),
                settings.scale.cpu_percent,
                f"must be below worker.load_threshold ({settings.worker.load_threshold:g},"
                f" i.e. {settings.worker.load_threshold * 100:g}%) so replicas are added before"
                " workers refuse jobs",
            )
        return settings

    def _check_names(self, key: str, names: ResourceNames) -> None:
        for problem in container_app_name_problems(names):
            self.errors.add(
                ("regions", key), key, f"{problem}; shorten agent.name or the region key"
            )


def _owner(key: str, overrides: dict[str, Any]) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
    """Where a region's setting was written: the region when it set it, else the defaults."""

    def owner(loc: tuple[str, ...]) -> tuple[str, ...]:
        if _has_path(overrides, loc) or loc == ("location",):
            return ("regions", key)
        return () if loc == ("livekit_url",) else ("defaults",)

    return owner


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _has_path(data: Any, loc: tuple[str, ...]) -> bool:
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False
    return True
