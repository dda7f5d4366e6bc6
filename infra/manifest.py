"""The only parser of regions.yaml: typed, frozen objects with defaults applied, or every error at once."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from dispatch.settings import STANDARD_FIELDS
from geo.regions import azure_regions
from meridian.aca_limits import aca_limits

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MANIFEST = ROOT / "regions.yaml"
ACA_LIMITS = aca_limits()

# Container Apps on a workload-profiles environment (Consumption profile): memory is always 2 x CPU.
ALLOWED_CPU_MEMORY: tuple[tuple[float, float], ...] = tuple(
    (float(cpu), float(mem.removesuffix("Gi")))
    for key in (
        "consumption_only_env_v1",
        "consumption_profile_in_workload_profiles_env_v2_adds",
    )
    for cpu, mem in ACA_LIMITS["consumption_cpu_memory_combinations"][key]
)
MAX_REPLICAS = int(ACA_LIMITS["max_replicas"]["cli_arm"])
MAX_GRACE_SECONDS = 3600
# Seconds between the end of the agent's drain and SIGKILL, so the worker can exit cleanly.
GRACE_MARGIN_SECONDS = 30

DNS_LABEL = re.compile(r"^[a-z](?:[a-z0-9-]*[a-z0-9])?$")
CONTAINER_APP_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
ACR_ID = re.compile(
    r"^/subscriptions/(?P<subscription>[0-9a-fA-F-]{36})/resourceGroups/[^/]+"
    r"/providers/Microsoft\.ContainerRegistry/registries/(?P<name>[a-zA-Z0-9]{5,50})$"
)
IMAGE_REF = re.compile(
    r"^(?P<repo>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
SECRET_LIKE = re.compile(r"(secret|password|api_?key|token|credential)", re.IGNORECASE)

STT_PROVIDERS = ("livekit", "azure")
LLM_PROVIDERS = ("livekit", "azure-openai", "openai")
TTS_PROVIDERS = ("livekit", "azure")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Resources(_Model):
    """CPU cores and memory (GiB) of one agent replica; Container Apps allows only fixed pairs."""

    cpu: float
    memory: str

    @field_validator("memory")
    @classmethod
    def _memory_format(cls, value: str) -> str:
        if not re.fullmatch(r"\d+(\.\d+)?Gi", value):
            raise ValueError("memory is a size in GiB such as '4Gi' or '0.5Gi'")
        return value

    @property
    def memory_gib(self) -> float:
        return float(self.memory.removesuffix("Gi"))

    @model_validator(mode="after")
    def _allowed_pair(self) -> Resources:
        if (self.cpu, self.memory_gib) not in ALLOWED_CPU_MEMORY:
            pairs = ", ".join(f"{c:g}/{m:g}Gi" for c, m in ALLOWED_CPU_MEMORY)
            raise ValueError(
                f"cpu {self.cpu:g} with memory {self.memory} is not a Container Apps size;"
                f" allowed cpu/memory pairs: {pairs}"
            )
        return self


class Replicas(_Model):
    """How many replicas Container Apps may run; min >= 1 keeps a warm worker registered."""

    min: Annotated[int, Field(ge=0, le=MAX_REPLICAS)]
    max: Annotated[int, Field(ge=1, le=MAX_REPLICAS)]

    @model_validator(mode="after")
    def _ordered(self) -> Replicas:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self


class Scale(_Model):
    """The CPU scale rule: add a replica when average CPU passes this percentage."""

    cpu_percent: Annotated[int, Field(ge=1, le=100)]


class Worker(_Model):
    """The livekit-agents worker's own capacity settings."""

    load_threshold: Annotated[float, Field(gt=0, le=1)]
    idle_processes: Annotated[int, Field(ge=0, le=64)]


class Probe(_Model):
    """An HTTP probe on the worker's health server; ranges are Container Apps' own."""

    initial_delay_seconds: Annotated[int, Field(ge=1, le=60)]
    period_seconds: Annotated[int, Field(ge=1, le=240)]
    timeout_seconds: Annotated[int, Field(ge=1, le=240)]
    failure_threshold: Annotated[int, Field(ge=1, le=10)]


class Probes(_Model):
    startup: Probe
    liveness: Probe


class ModelSpec(_Model):
    """One model stage: which provider, which model, and optionally where and how it speaks."""

    provider: str
    model: Annotated[str, Field(min_length=1)]
    endpoint: str | None = None
    language: str | None = None
    voice: str | None = None

    @field_validator("endpoint")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("endpoint must be an https:// URL")
        return value


def _provider_check(spec: ModelSpec, allowed: tuple[str, ...]) -> ModelSpec:
    if spec.provider not in allowed:
        raise ValueError(f"provider {spec.provider!r} is not one of: {', '.join(allowed)}")
    return spec


class Models(_Model):
    """The STT, LLM and TTS a region's agent calls; each region can point at its own endpoints."""

    stt: ModelSpec
    llm: ModelSpec
    tts: ModelSpec

    @field_validator("stt")
    @classmethod
    def _stt(cls, spec: ModelSpec) -> ModelSpec:
        return _provider_check(spec, STT_PROVIDERS)

    @field_validator("llm")
    @classmethod
    def _llm(cls, spec: ModelSpec) -> ModelSpec:
        spec = _provider_check(spec, LLM_PROVIDERS)
        if spec.provider == "azure-openai" and spec.endpoint is None:
            raise ValueError(
                "provider 'azure-openai' needs an endpoint (https://<name>.openai.azure.com)"
            )
        return spec

    @field_validator("tts")
    @classmethod
    def _tts(cls, spec: ModelSpec) -> ModelSpec:
        return _provider_check(spec, TTS_PROVIDERS)


class RegionSettings(_Model):
    """Everything that may differ per region: the defaults merged with the region's overrides."""

    location: str
    livekit_url: str
    resources: Resources
    replicas: Replicas
    scale: Scale
    worker: Worker
    drain_seconds: Annotated[int, Field(ge=1, le=MAX_GRACE_SECONDS - GRACE_MARGIN_SECONDS)]
    probes: Probes
    latency_budget_ms: Annotated[int, Field(ge=100, le=10_000)]
    models: Models
    system_prompt: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    # Where other regions' dispatch services reach this one (a custom domain, or the stack's
    # dispatchUrl output after its first deploy); without it, peers route here without probing.
    dispatch_url: str | None = None

    @field_validator("dispatch_url")
    @classmethod
    def _dispatch_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https://[^\s/]+/?", value):
            raise ValueError(
                "dispatch_url must be an https:// origin such as https://dispatch.eu.example.com"
            )
        return value.rstrip("/") if value else value

    @field_validator("location")
    @classmethod
    def _known_location(cls, value: str) -> str:
        known = azure_regions()
        if value not in known:
            close = difflib.get_close_matches(value, known, n=3)
            hint = f"; did you mean {' or '.join(close)}?" if close else ""
            raise ValueError(
                f"{value!r} is not an Azure region{hint} (see geo/data/azure_regions.csv)"
            )
        return value

    @field_validator("livekit_url")
    @classmethod
    def _livekit_url(cls, value: str) -> str:
        if not re.fullmatch(r"wss?://[^\s/]+(/\S*)?", value):
            raise ValueError("livekit_url must be a wss:// URL such as wss://x.livekit.cloud")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: dict[str, str]) -> dict[str, str]:
        for key, value in tags.items():
            if SECRET_LIKE.search(key):
                raise ValueError(
                    f"tag {key!r} looks like a secret; tags are plain text on every resource"
                )
            if not key or len(key) > 512 or re.search(r"[<>%&\\?/]", key):
                raise ValueError(f"tag name {key!r} must be 1-512 characters without <>%&\\?/")
            if len(value) > 256:
                raise ValueError(f"tag {key!r} value is longer than 256 characters")
        return tags

    @property
    def grace_seconds(self) -> int:
        """Container termination grace period: the drain window plus a margin to exit."""
        return self.drain_seconds + GRACE_MARGIN_SECONDS


class AgentSettings(_Model):
    """The one agent: its base name, its image, and optionally the ACR the image comes from."""

    name: str
    image: str
    registry: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not DNS_LABEL.fullmatch(value) or "--" in value or len(value) > 40:
            raise ValueError(
                "agent name must be 1-40 lowercase letters, digits and single hyphens,"
                " starting with a letter and ending with a letter or digit"
            )
        return value

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        match = IMAGE_REF.fullmatch(value)
        if not match:
            raise ValueError(
                "image must be a reference such as registry/repo:tag or registry/repo@sha256:<64 hex>"
            )
        if not match["tag"] and not match["digest"]:
            raise ValueError(
                "image must pin a tag or a digest, so every region runs the same build"
            )
        return value

    @field_validator("registry")
    @classmethod
    def _registry(cls, value: str | None) -> str | None:
        if value is not None and not ACR_ID.fullmatch(value):
            raise ValueError(
                "registry must be an Azure Container Registry resource ID: /subscriptions/<id>"
                "/resourceGroups/<rg>/providers/Microsoft.ContainerRegistry/registries/<name>"
            )
        return value

    @model_validator(mode="after")
    def _image_from_registry(self) -> AgentSettings:
        if self.registry is not None:
            server = self.registry_login_server
            if not self.image.startswith(f"{server}/"):
                raise ValueError(f"image must come from the configured registry {server}")
        return self

    @property
    def registry_login_server(self) -> str | None:
        match = ACR_ID.fullmatch(self.registry or "")
        return f"{match['name'].lower()}.azurecr.io" if match else None


class DispatchProbes(_Model):
    """How each dispatch service checks regions: a region is down after K failures, up after M successes."""

    interval_seconds: Annotated[float, Field(ge=1, le=300)] = 5.0
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 2.0
    down_after_failures: Annotated[int, Field(ge=1, le=100)] = 3
    up_after_successes: Annotated[int, Field(ge=1, le=100)] = 2


class DispatchSettings(_Model):
    """The token endpoint deployed next to the agent in every region."""

    # Fields an anonymous caller may set. Room and identity are left out by default: a public
    # endpoint that lets callers pick them lets anyone join a known room or take over an identity.
    client_fields: list[str] = Field(
        default_factory=lambda: [
            "participant_name",
            "participant_metadata",
            "participant_attributes",
            "room_config",
        ]
    )
    cors_origins: list[str] = Field(default_factory=list)
    token_ttl_seconds: Annotated[int, Field(ge=60, le=900)] = 600
    allow_region_override: bool = False
    country_header: str | None = None
    can_publish: bool = True
    can_subscribe: bool = True
    rate_per_minute: Annotated[int, Field(ge=1, le=1_000_000)] = 30
    rate_burst: Annotated[int, Field(ge=1, le=1_000_000)] = 10
    # The secret itself (16+ characters) comes from
    # `pulumi config set --secret meridianDispatchSharedSecret`.
    require_shared_secret: bool = False
    resources: Resources = Resources(cpu=0.5, memory="1Gi")
    replicas: Replicas = Replicas(min=1, max=3)
    probes: DispatchProbes = DispatchProbes()

    @field_validator("client_fields")
    @classmethod
    def _fields(cls, fields: list[str]) -> list[str]:
        unknown = [f for f in fields if f not in STANDARD_FIELDS]
        if unknown:
            raise ValueError(
                f"{unknown} are not token request fields; allowed: {', '.join(STANDARD_FIELDS)}"
            )
        return fields

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if not re.fullmatch(r"https?://[^\s/]+", origin):
                raise ValueError(
                    f"{origin!r} is not an origin such as https://app.example.com (no path)"
                )
        return origins

    @field_validator("country_header")
    @classmethod
    def _header(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9-]+", value):
            raise ValueError("country_header must be an HTTP header name such as CF-IPCountry")
        return value

    @field_validator("replicas")
    @classmethod
    def _always_on(cls, replicas: Replicas) -> Replicas:
        if replicas.min < 1:
            raise ValueError(
                "dispatch needs min replicas >= 1: clients call it before any agent runs"
            )
        return replicas


class ManifestFile(_Model):
    agent: dict[str, Any]
    livekit_url: str
    dispatch: dict[str, Any] = Field(default_factory=dict)
    defaults: dict[str, Any]
    regions: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class ResourceNames:
    """Every Azure name derived from the agent and region: the one place they are built."""

    resource_group: str
    workspace: str
    environment: str
    identity: str
    app: str
    dispatch_app: str
    agent_name: str

    @classmethod
    def derive(cls, agent: str, region: str) -> ResourceNames:
        tagged = f"{agent}-{region}"
        return cls(
            resource_group=f"rg-{tagged}",
            workspace=f"log-{tagged}",
            environment=f"cae-{tagged}",
            identity=f"id-{tagged}",
            app=tagged,
            dispatch_app=f"dispatch-{region}",
            agent_name=tagged,
        )

    def container_apps(self) -> dict[str, str]:
        """Container-app names, by role, that must satisfy Azure's container-app name rules."""
        return {"app": self.app, "dispatch": self.dispatch_app}


class Region(RegionSettings):
    """One deployable region: its key, its settings with defaults applied, and its derived names."""

    key: str
    names: ResourceNames

    @property
    def agent_name(self) -> str:
        return self.names.agent_name


@dataclass(frozen=True)
class Manifest:
    """The whole manifest: the agent, and every region in file order."""

    path: Path
    agent: AgentSettings
    dispatch: DispatchSettings
    regions: Mapping[str, Region]

    @property
    def agent_name(self) -> str:
        return self.agent.name

    def region_for_stack(self, stack: str, configured: str | None = None) -> Region:
        """The region a stack deploys: config `meridian:region` if set, else the stack name's suffix."""
        if configured:
            if configured in self.regions:
                return self.regions[configured]
            raise ManifestError(
                [
                    f"config meridian:region: {configured!r} is not a region in {self.path.name};"
                    f" allowed: {', '.join(self.regions)}"
                ]
            )
        matches = [k for k in self.regions if stack == k or stack.endswith(f"-{k}")]
        if not matches:
            raise ManifestError(
                [
                    f"stack {stack!r} matches no region in {self.path.name}: name the stack after a region"
                    f" (optionally with a prefix, e.g. prod-{next(iter(self.regions), 'us-east')}) or set"
                    f" config meridian:region; regions: {', '.join(self.regions)}"
                ]
            )
        return self.regions[max(matches, key=len)]


class ManifestError(Exception):
    """Every problem found in a manifest, each naming the file, the path, the value and what is allowed."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


def load_manifest(path: Path | str = DEFAULT_MANIFEST) -> Manifest:
    """Load and validate a manifest; raise ManifestError listing every problem at once."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestError([f"{path}: cannot read the manifest: {exc.strerror}"]) from None
    return parse_manifest(text, path)


def parse_manifest(text: str, path: Path) -> Manifest:
    """Validate manifest text; `path` names the file in every message."""
    name = path.name if path.is_absolute() else str(path)
    raw, lines = _load_yaml(text, name)
    errors = _Errors(name, lines)
    try:
        top = ManifestFile.model_validate(raw)
    except ValidationError as exc:
        errors.add_pydantic(exc, (), ManifestFile)
        _raise_if_any(errors)
        raise AssertionError("unreachable") from None

    agent: AgentSettings | None = None
    try:
        agent = AgentSettings.model_validate(top.agent)
    except ValidationError as exc:
        errors.add_pydantic(exc, ("agent",), AgentSettings)
    dispatch: DispatchSettings | None = None
    try:
        dispatch = DispatchSettings.model_validate(top.dispatch)
    except ValidationError as exc:
        errors.add_pydantic(exc, ("dispatch",), DispatchSettings)

    for key in top.regions:
        if not DNS_LABEL.fullmatch(key) or "--" in key or len(key) > 20:
            errors.add(
                ("regions", key),
                key,
                "region keys must be DNS-safe: 1-20 lowercase letters, digits and single hyphens,"
                " starting with a letter and ending with a letter or digit",
            )
    if not top.regions:
        errors.add(("regions",), {}, "at least one region is required")
    if "location" in top.defaults:
        errors.add(("defaults", "location"), top.defaults["location"], "location is set per region")

    regions: dict[str, Region] = {}
    seen_locations: dict[str, str] = {}
    for key, overrides in top.regions.items():
        merged = _deep_merge({"livekit_url": top.livekit_url, **top.defaults}, overrides or {})
        try:
            settings = RegionSettings.model_validate(merged)
        except ValidationError as exc:
            errors.add_region_errors(exc, key, overrides or {})
            continue
        # Replicas must be added before workers start refusing jobs, or users wait on a full worker.
        if settings.scale.cpu_percent >= settings.worker.load_threshold * 100:
            path = ("scale", "cpu_percent")
            owner = ("regions", key) if _has_path(overrides or {}, path) else ("defaults",)
            errors.add(
                (*owner, *path),
                settings.scale.cpu_percent,
                f"must be below worker.load_threshold ({settings.worker.load_threshold:g},"
                f" i.e. {settings.worker.load_threshold * 100:g}%) so replicas are added before"
                " workers refuse jobs",
            )
        if agent is None:
            continue
        names = ResourceNames.derive(agent.name, key)
        for role, app_name in names.container_apps().items():
            if not CONTAINER_APP_NAME.fullmatch(app_name) or "--" in app_name:
                errors.add(
                    ("regions", key),
                    key,
                    f"derived container-app name {app_name!r} ({role}) breaks Azure's rules: 2-32"
                    " lowercase letters, digits and hyphens, starting with a letter, ending with a"
                    " letter or digit, no '--'; shorten agent.name or the region key",
                )
        if settings.location in seen_locations:
            errors.add(
                ("regions", key, "location"),
                settings.location,
                f"location is already used by region {seen_locations[settings.location]!r};"
                " each region deploys to its own Azure location",
            )
        seen_locations.setdefault(settings.location, key)
        regions[key] = Region(**dict(settings), key=key, names=names)

    _raise_if_any(errors)
    assert agent is not None and dispatch is not None
    return Manifest(path=path, agent=agent, dispatch=dispatch, regions=regions)


def _raise_if_any(errors: _Errors) -> None:
    if errors.messages:
        raise ManifestError(errors.messages)


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, which plain YAML silently overwrites."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _load_yaml(text: str, name: str) -> tuple[Any, dict[tuple[str, ...], int]]:
    try:
        node = yaml.compose(text, Loader=_UniqueKeyLoader)
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}" if mark else name
        raise ManifestError([f"{where}: invalid YAML: {exc.problem or exc.context}"]) from None
    except yaml.YAMLError as exc:
        raise ManifestError([f"{name}: invalid YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise ManifestError(
            [
                f"{name}: the manifest must be a mapping with agent, livekit_url, defaults and regions"
            ]
        )
    lines: dict[tuple[str, ...], int] = {}
    _index_lines(node, (), lines)
    return data, lines


def _index_lines(
    node: yaml.Node | None, path: tuple[str, ...], lines: dict[tuple[str, ...], int]
) -> None:
    if node is None:
        return
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, str(key_node.value))
            _index_lines(value_node, child, lines)
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, (*path, str(i)), lines)


class _Errors:
    """Collects messages of the form `file:line: path: value: problem`."""

    def __init__(self, name: str, lines: dict[tuple[str, ...], int]) -> None:
        self.name = name
        self.lines = lines
        self.messages: list[str] = []

    def add(self, path: tuple[str, ...], value: Any, problem: str) -> None:
        line = self._line(path)
        where = f"{self.name}:{line}" if line else self.name
        dotted = ".".join(path) or "(top level)"
        shown = "" if value is _MISSING else f" (got {_show(value)})"
        message = f"{where}: {dotted}{shown}: {problem}"
        if message not in self.messages:
            self.messages.append(message)

    def _line(self, path: tuple[str, ...]) -> int | None:
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def add_pydantic(
        self, exc: ValidationError, prefix: tuple[str, ...], model: type[BaseModel]
    ) -> None:
        for err in exc.errors():
            loc = tuple(str(p) for p in err["loc"])
            self._add_one(err, (*prefix, *loc), model, loc)

    def add_region_errors(self, exc: ValidationError, key: str, overrides: dict[str, Any]) -> None:
        for err in exc.errors():
            loc = tuple(str(p) for p in err["loc"])
            # Blame the region when it set the offending value, otherwise the shared defaults.
            owner = (
                ("regions", key)
                if _has_path(overrides, loc) or loc == ("location",)
                else ("defaults",)
            )
            if loc == ("livekit_url",) and not _has_path(overrides, loc):
                owner = ()
            self._add_one(err, (*owner, *loc), RegionSettings, loc)

    def _add_one(
        self, err: Any, path: tuple[str, ...], model: type[BaseModel], loc: tuple[str, ...]
    ) -> None:
        kind = err["type"]
        if kind == "extra_forbidden":
            field = path[-1]
            allowed = _fields_at(model, loc[:-1])
            if SECRET_LIKE.search(field):
                problem = (
                    "secrets never go in regions.yaml; set them with"
                    " `pulumi config set --secret` (see README)"
                )
            else:
                close = difflib.get_close_matches(field, allowed, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                problem = f"unknown key; {hint}allowed: {', '.join(allowed)}"
            self.add(path, _MISSING, problem)
        elif kind == "missing":
            self.add(path, _MISSING, "required field is missing")
        else:
            message = err["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
            self.add(path, err.get("input", _MISSING), message)


_MISSING = object()


def _show(value: Any) -> str:
    if isinstance(value, dict | list):
        text = json.dumps(value, default=str)
        return text if len(text) <= 60 else text[:57] + "..."
    return repr(value)


def _has_path(data: Any, loc: tuple[str, ...]) -> bool:
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False
    return True


def _fields_at(model: type[BaseModel], loc: tuple[str, ...]) -> list[str]:
    """Field names of the model found by walking `loc` from `model` (for 'did you mean')."""
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = _model_in(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
