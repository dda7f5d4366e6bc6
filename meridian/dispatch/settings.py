"""Parse the dispatch service's environment, once, into typed and validated settings.

Three parts, each read with pydantic-settings under the names in `meridian.contract.Env`:
the service's own variables (`DispatchEnvironment`), the policy (`meridian.policy.DispatchPolicy`,
one `MERIDIAN_DISPATCH_<FIELD>` variable per field, JSON for lists and `probes`, exactly as infra's
`policy_env` renders it), and the region table (`MERIDIAN_REGIONS`, a `RegionTable`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import SettingsConfigDict

from meridian.contract import (
    AGENT_HEALTH_PORT,
    DISPATCH_PORT,
    MIN_API_SECRET_LENGTH,
    REGION_KEY_RULE,
    Env,
    is_agent_base_name,
    is_region_key,
    tagged_agent_name,
)
from meridian.env_settings import EnvSettings, SettingsError, describe_error, read_env
from meridian.geo.regions import azure_regions
from meridian.policy import STANDARD_FIELDS, DispatchPolicy
from meridian.region_table import RegionEntry, RegionTable

# Where the service listens inside the container: every interface.
HOST = "0.0.0.0"
# The service's own worker status server in a local run; infra sets the region's worker URL.
DEFAULT_WORKER_URL = f"http://127.0.0.1:{AGENT_HEALTH_PORT}"
MIN_SHARED_SECRET_LENGTH = 16
# How often dispatch reads the region table the global layer publishes: a region added to the
# manifest is routed to (and failed over to) by every other region within about this long.
DEFAULT_REGIONS_REFRESH_SECONDS = 60.0
# Front Door profile IDs are GUIDs; anything else in MERIDIAN_FRONT_DOOR_ID is a rendering mistake.
_FRONT_DOOR_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


class DispatchEnvironment(EnvSettings):
    """The dispatch service's own variables (the policy and the region table are read apart)."""

    region: str = Field(
        validation_alias=Env.REGION, description="the serving region key, e.g. 'eu-west'"
    )
    agent_name: str = Field(
        validation_alias=Env.AGENT_BASE_NAME,
        description="the base agent name, e.g. 'support-agent'",
    )
    stack_prefix: str = Field(
        "",
        validation_alias=Env.STACK_PREFIX,
        description="the environment's stack prefix, e.g. 'staging' (empty: none)",
    )
    regions: str = Field(validation_alias=Env.REGIONS, description="the region table JSON")
    api_key: Annotated[SecretStr, Field(min_length=1)] = Field(
        validation_alias=Env.LIVEKIT_API_KEY, description="the LiveKit API key"
    )
    api_secret: Annotated[SecretStr, Field(min_length=MIN_API_SECRET_LENGTH)] = Field(
        validation_alias=Env.LIVEKIT_API_SECRET,
        description=f"the LiveKit API secret, at least {MIN_API_SECRET_LENGTH} characters",
    )
    shared_secret: Annotated[SecretStr, Field(min_length=MIN_SHARED_SECRET_LENGTH)] | None = Field(
        None,
        validation_alias=Env.DISPATCH_SHARED_SECRET,
        description=f"at least {MIN_SHARED_SECRET_LENGTH} characters",
    )
    worker_url: str = Field(
        DEFAULT_WORKER_URL,
        validation_alias=Env.dispatch("worker_url"),
        description="an http:// or https:// URL of this region's agent worker status server",
    )
    port: Annotated[int, Field(ge=1, le=65535)] = Field(
        DISPATCH_PORT, validation_alias=Env.dispatch("port"), description="a port in 1..65535"
    )
    front_door_id: str | None = Field(
        None,
        validation_alias=Env.FRONT_DOOR_ID,
        description="the global Front Door profile's ID (its X-Azure-FDID header value)",
    )
    regions_url: str | None = Field(
        None,
        validation_alias=Env.REGIONS_URL,
        description="an https:// URL of the region table the global layer publishes",
    )
    azure_client_id: str | None = Field(
        None,
        validation_alias=Env.AZURE_CLIENT_ID,
        description="the client ID of the region's managed identity",
    )
    regions_refresh_seconds: Annotated[float, Field(ge=5, le=3600)] = Field(
        DEFAULT_REGIONS_REFRESH_SECONDS,
        validation_alias=Env.dispatch("regions_refresh_seconds"),
        description="seconds between reads of the published region table, 5 to 3600",
    )

    @field_validator("regions_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https://[^\s/@]+/\S+", value):
            raise ValueError("expected an https:// URL of the published region table")
        return value

    @field_validator("region")
    @classmethod
    def _region_key(cls, value: str) -> str:
        if not is_region_key(value):
            raise ValueError(f"expected a region key: {REGION_KEY_RULE}")
        return value

    @field_validator("agent_name")
    @classmethod
    def _base_name(cls, value: str) -> str:
        if not is_agent_base_name(value):
            raise ValueError(
                "expected a base agent name such as 'support-agent': up to 40 lowercase letters,"
                " digits and single hyphens"
            )
        return value

    @field_validator("stack_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if value and not is_agent_base_name(value):
            raise ValueError(
                "expected a stack prefix such as 'staging': lowercase letters, digits and single"
                " hyphens"
            )
        return value

    @field_validator("worker_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        scheme, sep, rest = value.partition("://")
        if not sep or scheme not in ("http", "https") or not rest.strip("/"):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("front_door_id")
    @classmethod
    def _front_door_id(cls, value: str | None) -> str | None:
        if value is not None and not _FRONT_DOOR_ID.fullmatch(value):
            raise ValueError(
                "expected a Front Door profile ID such as 0c4f1a2b-...: up to 64 letters, digits"
                " and hyphens"
            )
        return value


class PolicyEnvironment(DispatchPolicy, EnvSettings):
    """The dispatch policy read back from the variables `meridian.policy.policy_env` renders.

    Its defaults are DispatchPolicy's: callers may not choose room or identity unless configured.
    """

    # case-insensitive: the variables are upper case, the field names lower case
    model_config = SettingsConfigDict(
        env_prefix=Env.DISPATCH_PREFIX, case_sensitive=False, strict=False, extra="ignore"
    )

    def policy(self) -> DispatchPolicy:
        """The plain, frozen policy."""
        return DispatchPolicy.model_validate(self.model_dump(), strict=False)


@dataclass(frozen=True)
class DispatchSettings:
    """Everything the dispatch service reads from its environment.

    `agent_name` is the base name; each region's workers register as `tagged_agent_name(region)`,
    which carries the environment's `stack_prefix`.
    """

    region: str
    agent_name: str
    regions: tuple[RegionEntry, ...]
    api_key: SecretStr
    api_secret: SecretStr
    policy: DispatchPolicy = field(default_factory=DispatchPolicy)
    shared_secret: SecretStr | None = None
    worker_url: str = DEFAULT_WORKER_URL
    port: int = DISPATCH_PORT
    # When set, only requests carrying this X-Azure-FDID are answered (health probes excepted).
    front_door_id: str | None = None
    stack_prefix: str = ""
    # The published region table (None: the environment's table is all there is).
    regions_url: str | None = None
    azure_client_id: str | None = None
    regions_refresh_seconds: float = DEFAULT_REGIONS_REFRESH_SECONDS

    def entry(self, region: str) -> RegionEntry:
        """The table entry for a region key (KeyError if it is not deployed)."""
        for entry in self.regions:
            if entry.region == region:
                return entry
        raise KeyError(region)

    def tagged_agent_name(self, region: str) -> str:
        """The name a region's workers register under, e.g. ``support-agent-eu-west``, or
        ``support-agent-staging-eu-west`` in the environment ``staging``."""
        return tagged_agent_name(self.agent_name, region, self.stack_prefix)

    def secrets(self) -> list[str]:
        """Every credential value, so log redaction can scrub them wherever they appear."""
        found = [self.api_key, self.api_secret, self.shared_secret]
        return [secret.get_secret_value() for secret in found if secret is not None]


def parse_regions(raw: str, serving_region: str) -> tuple[RegionEntry, ...]:
    """Parse the MERIDIAN_REGIONS JSON region table rendered by infra."""
    name = Env.REGIONS
    try:
        entries = RegionTable.validate_json(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]
        )
        raise SettingsError(name + where, describe_error(error, None)) from None
    if not entries:
        raise SettingsError(name, "is an empty array; expected one object per deployed region")
    known = azure_regions()
    for index, entry in enumerate(entries):
        if entry.location not in known:
            raise SettingsError(
                f"{name}[{index}].location",
                f"is {entry.location!r}; expected an Azure ARM location",
            )
    keys = [e.region for e in entries]
    if len(set(keys)) != len(keys):
        raise SettingsError(name, f"lists a region twice: {sorted(keys)}")
    if serving_region not in keys:
        raise SettingsError(name, f"does not contain the serving region {serving_region!r}")
    return entries


def load_settings(environ: Mapping[str, str] | None = None) -> DispatchSettings:
    """Build validated settings from the environment (default ``os.environ``); raises
    SettingsError naming the first bad variable."""
    env = read_env(DispatchEnvironment, environ)
    policy = read_env(PolicyEnvironment, environ).policy()
    if policy.require_shared_secret and env.shared_secret is None:
        raise SettingsError(
            Env.DISPATCH_SHARED_SECRET,
            f"is not set; {Env.dispatch('require_shared_secret')} is true",
        )
    return DispatchSettings(
        region=env.region,
        agent_name=env.agent_name,
        regions=parse_regions(env.regions, env.region),
        api_key=env.api_key,
        api_secret=env.api_secret,
        policy=policy,
        shared_secret=env.shared_secret,
        worker_url=env.worker_url,
        port=env.port,
        front_door_id=env.front_door_id,
        stack_prefix=env.stack_prefix,
        regions_url=env.regions_url,
        azure_client_id=env.azure_client_id,
        regions_refresh_seconds=env.regions_refresh_seconds,
    )


__all__ = [
    "STANDARD_FIELDS",
    "DispatchEnvironment",
    "DispatchSettings",
    "PolicyEnvironment",
    "RegionEntry",
    "SettingsError",
    "load_settings",
    "parse_regions",
]
