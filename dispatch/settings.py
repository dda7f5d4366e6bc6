"""Parse the dispatch service's environment, once, into typed and validated settings."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from envconfig import Secret, SettingsError
from geo.regions import azure_regions

# LiveKit caps a join token's lifetime only by what the issuer asks for; ours never exceeds
# 15 minutes so a leaked token is short-lived (clients fetch a new one per session anyway).
MAX_TOKEN_TTL_SECONDS = 900
STANDARD_FIELDS = (
    "room_name",
    "participant_identity",
    "participant_name",
    "participant_metadata",
    "participant_attributes",
    "room_config",
)
# Track sources a LiveKit token can allow (livekit.TrackSource names as VideoGrants spells them).
TRACK_SOURCES = ("camera", "microphone", "screen_share", "screen_share_audio")

_REGION_KEY = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_AGENT_NAME = re.compile(r"^[A-Za-z0-9]+([._-][A-Za-z0-9]+)*$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]+$")


@dataclass(frozen=True)
class RegionEntry:
    """One deployed region as infra renders it into MERIDIAN_REGIONS."""

    region: str
    location: str
    livekit_url: str
    dispatch_url: str | None = None


@dataclass(frozen=True)
class DispatchSettings:
    """Everything the dispatch service reads from its environment."""

    region: str
    agent_name: str
    regions: tuple[RegionEntry, ...]
    api_key: Secret
    api_secret: Secret
    host: str = "0.0.0.0"
    port: int = 8080
    worker_url: str = "http://127.0.0.1:8081"
    token_ttl_seconds: int = 600
    can_publish: bool = True
    can_subscribe: bool = True
    can_publish_data: bool = True
    publish_sources: tuple[str, ...] = ("microphone",)
    client_fields: frozenset[str] = frozenset(STANDARD_FIELDS)
    allow_region_override: bool = False
    country_header: str | None = None
    cors_origins: frozenset[str] = frozenset()
    rate_per_minute: float = 30.0
    rate_burst: int = 10
    trusted_proxy_hops: int = 1
    shared_secret: Secret | None = None
    secret_header: str = "X-Meridian-Dispatch-Key"
    max_body_bytes: int = 16384
    max_identity_length: int = 128
    max_room_name_length: int = 128
    probe_interval_seconds: float = 5.0
    probe_timeout_seconds: float = 2.0
    down_after_failures: int = 3
    up_after_successes: int = 2

    def entry(self, region: str) -> RegionEntry:
        """The table entry for a region key (KeyError if it is not deployed)."""
        for entry in self.regions:
            if entry.region == region:
                return entry
        raise KeyError(region)

    def tagged_agent_name(self, region: str) -> str:
        """The name a region's workers register under, e.g. ``support-agent-eu-west``."""
        return f"{self.agent_name}-{region}"


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(name, "is required but not set")
    return value


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(name, f"must be an integer in {low}..{high}, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(name, f"must be an integer in {low}..{high}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(name, f"must be a number in ({low}, {high}], got {raw!r}") from None
    if not (math.isfinite(value) and low < value <= high):
        raise SettingsError(name, f"must be a number in ({low}, {high}], got {raw}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"true", "1", "yes"}:
        return True
    if raw in {"false", "0", "no"}:
        return False
    raise SettingsError(name, f"must be true or false, got {raw!r}")


def _csv(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    if name not in env:
        return default
    return tuple(item.strip() for item in env[name].split(",") if item.strip())


def _http_url(name: str, value: str, schemes: tuple[str, ...]) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.netloc:
        raise SettingsError(name, f"must be a {' or '.join(schemes)} URL, got {value!r}")
    return value.rstrip("/")


def parse_regions(raw: str, serving_region: str) -> tuple[RegionEntry, ...]:
    """Parse the MERIDIAN_REGIONS JSON region table rendered by infra."""
    name = "MERIDIAN_REGIONS"
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError(name, f"is not valid JSON ({exc.msg} at char {exc.pos})") from None
    if not isinstance(data, list) or not data:
        raise SettingsError(name, "must be a non-empty JSON array of region objects")
    known = azure_regions()
    entries: list[RegionEntry] = []
    for index, item in enumerate(data):
        where = f"{name}[{index}]"
        if not isinstance(item, dict):
            raise SettingsError(where, "must be an object")
        unknown = set(item) - {"region", "location", "livekit_url", "dispatch_url"}
        if unknown:
            raise SettingsError(where, f"has unknown keys {sorted(unknown)}")
        region, location = item.get("region"), item.get("location")
        if not isinstance(region, str) or not _REGION_KEY.match(region):
            raise SettingsError(f"{where}.region", f"must be a key like 'eu-west', got {region!r}")
        if not isinstance(location, str) or location not in known:
            raise SettingsError(
                f"{where}.location", f"must be an Azure ARM location, got {location!r}"
            )
        livekit_url = item.get("livekit_url")
        if not isinstance(livekit_url, str):
            raise SettingsError(f"{where}.livekit_url", "must be a wss:// URL")
        dispatch_url = item.get("dispatch_url")
        if dispatch_url is not None and not isinstance(dispatch_url, str):
            raise SettingsError(f"{where}.dispatch_url", "must be an https:// URL or null")
        entries.append(
            RegionEntry(
                region=region,
                location=location,
                livekit_url=_http_url(f"{where}.livekit_url", livekit_url, ("wss", "ws")),
                dispatch_url=(
                    _http_url(f"{where}.dispatch_url", dispatch_url, ("https", "http"))
                    if dispatch_url
                    else None
                ),
            )
        )
    keys = [e.region for e in entries]
    if len(set(keys)) != len(keys):
        raise SettingsError(name, f"lists a region twice: {sorted(keys)}")
    if serving_region not in keys:
        raise SettingsError(name, f"does not contain the serving region {serving_region!r}")
    return tuple(entries)


def load_settings(env: Mapping[str, str]) -> DispatchSettings:
    """Build validated settings from an environment mapping (normally ``os.environ``)."""
    region = _required(env, "MERIDIAN_REGION")
    if not _REGION_KEY.match(region):
        raise SettingsError("MERIDIAN_REGION", f"must be a key like 'eu-west', got {region!r}")
    agent_name = _required(env, "MERIDIAN_AGENT_NAME")
    if not _AGENT_NAME.match(agent_name):
        raise SettingsError(
            "MERIDIAN_AGENT_NAME", f"must be letters, digits and . _ - only, got {agent_name!r}"
        )
    regions = parse_regions(_required(env, "MERIDIAN_REGIONS"), region)

    sources = _csv(env, "MERIDIAN_DISPATCH_PUBLISH_SOURCES", ("microphone",))
    bad_sources = sorted(set(sources) - set(TRACK_SOURCES))
    if bad_sources:
        raise SettingsError(
            "MERIDIAN_DISPATCH_PUBLISH_SOURCES",
            f"has unknown sources {bad_sources}; allowed: {', '.join(TRACK_SOURCES)}",
        )
    client_fields = _csv(env, "MERIDIAN_DISPATCH_CLIENT_FIELDS", STANDARD_FIELDS)
    bad_fields = sorted(set(client_fields) - set(STANDARD_FIELDS))
    if bad_fields:
        raise SettingsError(
            "MERIDIAN_DISPATCH_CLIENT_FIELDS",
            f"has unknown fields {bad_fields}; allowed: {', '.join(STANDARD_FIELDS)}",
        )
    origins = _csv(env, "MERIDIAN_DISPATCH_CORS_ORIGINS", ())
    for origin in origins:
        if origin != "*":
            _http_url("MERIDIAN_DISPATCH_CORS_ORIGINS", origin, ("https", "http"))
    country_header = env.get("MERIDIAN_DISPATCH_COUNTRY_HEADER", "").strip() or None
    secret_header = env.get("MERIDIAN_DISPATCH_SECRET_HEADER", "").strip()
    for header_var, header in (
        ("MERIDIAN_DISPATCH_COUNTRY_HEADER", country_header),
        ("MERIDIAN_DISPATCH_SECRET_HEADER", secret_header),
    ):
        if header and not _HEADER_NAME.match(header):
            raise SettingsError(header_var, f"must be an HTTP header name, got {header!r}")
    shared_secret = env.get("MERIDIAN_DISPATCH_SHARED_SECRET", "")
    if shared_secret and len(shared_secret) < 16:
        raise SettingsError("MERIDIAN_DISPATCH_SHARED_SECRET", "must be at least 16 characters")

    return DispatchSettings(
        region=region,
        agent_name=agent_name,
        regions=regions,
        api_key=Secret(_required(env, "LIVEKIT_API_KEY")),
        api_secret=Secret(_required(env, "LIVEKIT_API_SECRET")),
        host=env.get("MERIDIAN_DISPATCH_HOST", "").strip() or "0.0.0.0",
        port=_int(env, "MERIDIAN_DISPATCH_PORT", 8080, 1, 65535),
        worker_url=_http_url(
            "MERIDIAN_DISPATCH_WORKER_URL",
            env.get("MERIDIAN_DISPATCH_WORKER_URL", "").strip() or "http://127.0.0.1:8081",
            ("http", "https"),
        ),
        token_ttl_seconds=_int(
            env, "MERIDIAN_DISPATCH_TOKEN_TTL_SECONDS", 600, 60, MAX_TOKEN_TTL_SECONDS
        ),
        can_publish=_bool(env, "MERIDIAN_DISPATCH_CAN_PUBLISH", True),
        can_subscribe=_bool(env, "MERIDIAN_DISPATCH_CAN_SUBSCRIBE", True),
        can_publish_data=_bool(env, "MERIDIAN_DISPATCH_CAN_PUBLISH_DATA", True),
        publish_sources=sources,
        client_fields=frozenset(client_fields),
        allow_region_override=_bool(env, "MERIDIAN_DISPATCH_ALLOW_REGION_OVERRIDE", False),
        country_header=country_header,
        cors_origins=frozenset(origins),
        rate_per_minute=_float(env, "MERIDIAN_DISPATCH_RATE_PER_MINUTE", 30.0, 0.0, 1e9),
        rate_burst=_int(env, "MERIDIAN_DISPATCH_RATE_BURST", 10, 1, 1_000_000),
        trusted_proxy_hops=_int(env, "MERIDIAN_DISPATCH_TRUSTED_PROXY_HOPS", 1, 0, 10),
        shared_secret=Secret(shared_secret) if shared_secret else None,
        secret_header=secret_header or "X-Meridian-Dispatch-Key",
        max_body_bytes=_int(env, "MERIDIAN_DISPATCH_MAX_BODY_BYTES", 16384, 256, 1_048_576),
        max_identity_length=_int(env, "MERIDIAN_DISPATCH_MAX_IDENTITY_LENGTH", 128, 1, 1024),
        max_room_name_length=_int(env, "MERIDIAN_DISPATCH_MAX_ROOM_NAME_LENGTH", 128, 1, 1024),
        probe_interval_seconds=_float(
            env, "MERIDIAN_DISPATCH_PROBE_INTERVAL_SECONDS", 5.0, 0, 3600
        ),
        probe_timeout_seconds=_float(env, "MERIDIAN_DISPATCH_PROBE_TIMEOUT_SECONDS", 2.0, 0, 60),
        down_after_failures=_int(env, "MERIDIAN_DISPATCH_DOWN_AFTER_FAILURES", 3, 1, 100),
        up_after_successes=_int(env, "MERIDIAN_DISPATCH_UP_AFTER_SUCCESSES", 2, 1, 100),
    )
