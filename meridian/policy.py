"""The token endpoint's policy: the `dispatch:` section of regions.yaml and the dispatch service's
settings are this one model, so their defaults are declared once, here.

infra renders a policy into environment variables with `policy_env`; the dispatch service reads them
back with pydantic-settings under the same names (`Env.dispatch(<field>)`).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

from meridian.contract import Env

# LiveKit's standard token-endpoint request fields.
STANDARD_FIELDS: Final = (
    "room_name",
    "participant_identity",
    "participant_name",
    "participant_metadata",
    "participant_attributes",
    "room_config",
)
# Track sources a LiveKit token can allow (livekit.TrackSource names as VideoGrants spells them).
TRACK_SOURCES: Final = ("camera", "microphone", "screen_share", "screen_share_audio")
# Join tokens never live longer than 15 minutes, so a leaked one is short-lived (clients fetch a
# new one per session anyway).
MAX_TOKEN_TTL_SECONDS: Final = 900
_HEADER_NAME = re.compile(r"[A-Za-z0-9-]+")


# YAML and JSON give lists; a frozen policy keeps tuples.
_Names = Annotated[tuple[str, ...], Field(strict=False)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class ProbePolicy(_Frozen):
    """How dispatch checks regions: a region is down after K failures, up after M successes."""

    # every second: a region's own dispatch fails its calls over once its worker is down, so
    # this sets how long a caller waits for another region's agent (docs/dispatch.md)
    interval_seconds: Annotated[float, Field(ge=1, le=300)] = 1.0
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 2.0
    down_after_failures: Annotated[int, Field(ge=1, le=100)] = 3
    up_after_successes: Annotated[int, Field(ge=1, le=100)] = 2


class DispatchPolicy(_Frozen):
    """What an anonymous caller may ask of the token endpoint, and how it guards itself."""

    # Room and identity are left out by default: a public endpoint that lets callers pick them
    # lets anyone join a known room or take over an identity.
    client_fields: _Names = (
        "participant_name",
        "participant_metadata",
        "participant_attributes",
        "room_config",
    )
    cors_origins: _Names = ()
    token_ttl_seconds: Annotated[int, Field(ge=60, le=MAX_TOKEN_TTL_SECONDS)] = 600
    allow_region_override: bool = False
    country_header: str | None = None
    can_publish: bool = True
    can_subscribe: bool = True
    can_publish_data: bool = True
    publish_sources: _Names = ("microphone",)
    rate_per_minute: Annotated[int, Field(ge=1, le=1_000_000)] = 30
    rate_burst: Annotated[int, Field(ge=1, le=1_000_000)] = 10
    # The secret itself (16+ characters) is the Key Vault secret meridian-dispatch-shared-secret.
    require_shared_secret: bool = False
    # How many proxies in front of the service append to X-Forwarded-For (the client address is
    # the Nth entry from the right). 0 trusts no forwarded header: the socket peer is the client.
    # Behind the global Front Door its X-Azure-SocketIP is used instead, whatever this says.
    trusted_proxy_hops: Annotated[int, Field(ge=0, le=5)] = 0
    probes: ProbePolicy = ProbePolicy()

    @field_validator("client_fields")
    @classmethod
    def _fields(cls, fields: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [f for f in fields if f not in STANDARD_FIELDS]
        if unknown:
            raise ValueError(
                f"{unknown} are not token request fields; allowed: {', '.join(STANDARD_FIELDS)}"
            )
        return fields

    @field_validator("publish_sources")
    @classmethod
    def _sources(cls, sources: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [s for s in sources if s not in TRACK_SOURCES]
        if unknown:
            raise ValueError(
                f"{unknown} are not track sources; allowed: {', '.join(TRACK_SOURCES)}"
            )
        return sources

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            if not re.fullmatch(r"https?://[^\s/]+", origin):
                raise ValueError(
                    f"{origin!r} is not an origin such as https://app.example.com (no path)"
                )
        return origins

    @field_validator("country_header")
    @classmethod
    def _header(cls, value: str | None) -> str | None:
        if value is not None and not _HEADER_NAME.fullmatch(value):
            raise ValueError("country_header must be an HTTP header name such as CF-IPCountry")
        return value


def policy_env(policy: DispatchPolicy) -> dict[str, str]:
    """The policy as the dispatch container's environment: one variable per field, JSON for
    lists and nested objects, so pydantic-settings reads back exactly this policy."""
    env: dict[str, str] = {}
    for name, value in policy.model_dump(mode="json").items():
        if value is None:
            continue
        env[Env.dispatch(name)] = value if isinstance(value, str) else json.dumps(value)
    return env
