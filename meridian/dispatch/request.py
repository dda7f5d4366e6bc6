"""Parse and validate a token-endpoint request body into a typed TokenRequest.

Every rejection is a RequestError naming the offending field, so the HTTP layer can answer a 4xx
with one clear JSON error and never a 500.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field

from meridian.contract import REGION_ATTRIBUTE
from meridian.dispatch import jsonsafe
from meridian.dispatch.settings import DispatchSettings
from meridian.geo.latency import Location
from meridian.policy import STANDARD_FIELDS

# LiveKit's documented limits: participant metadata and attributes are each capped at 64 KiB
# (docs.livekit.io, "Participant attributes and metadata"); agent dispatch metadata likewise.
MAX_METADATA_BYTES = 64 * 1024
MAX_ATTRIBUTES_BYTES = 64 * 1024
MAX_PARTICIPANT_NAME_LENGTH = 256
# LiveKit's server caps these by default (limit.max_participant_identity_length /
# max_room_name_length); names must also be non-empty, without control characters or surrounding
# spaces.
MAX_IDENTITY_LENGTH = 128
MAX_ROOM_NAME_LENGTH = 128
# A token request is a few small fields; larger bodies answer 413.
MAX_BODY_BYTES = 16 * 1024
# Routing hints a stock TokenSource client can send: it only forwards the standard fields, so
# hints ride in participant_attributes under this prefix and are stripped from the token.
HINT_PREFIX = "meridian."
HINT_REGION = REGION_ATTRIBUTE
HINT_LATITUDE = "meridian.latitude"
HINT_LONGITUDE = "meridian.longitude"
EXTRA_FIELDS = ("region", "latitude", "longitude")
MAX_FIELD_NAME_ECHO = 64

# Bidirectional formatting characters: an identity or name holding U+202E renders reversed (and
# can pose as another user's); they, and every control character (C0, DEL and C1 such as U+0085),
# are refused in names and identities.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = frozenset("\u2028\u2029")
# Coordinates as strings: a plain decimal, as JavaScript's Number#toString writes them; float()
# alone would also take "1_0", " 1", "inf" and "nan".
_DECIMAL = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
MAX_COORDINATE_LENGTH = 32
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


class RequestError(Exception):
    """A client mistake: HTTP status, the field at fault, and a message safe to return."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.status = status
        self.field = field
        self.message = message


@dataclass(frozen=True)
class TokenRequest:
    """A validated request; None means the client left the field to the service."""

    room_name: str | None = None
    participant_identity: str | None = None
    participant_name: str | None = None
    participant_metadata: str | None = None
    participant_attributes: dict[str, str] = field(default_factory=dict)
    agent_metadata: str | None = None
    region: str | None = None
    location: Location | None = None


def _string(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise RequestError(400, name, "must be a string")
    return value


def _livekit_name(value: object, name: str, max_length: int) -> str:
    text = _string(value, name)
    if not text:
        raise RequestError(400, name, "must not be empty")
    if len(text) > max_length:
        raise RequestError(400, name, f"must be at most {max_length} characters")
    for char in text:
        if unicodedata.category(char) == "Cc" or char in _BIDI or char in _LINE_BREAKS:
            raise RequestError(
                400,
                name,
                f"must not contain control or bidirectional formatting characters"
                f" (found U+{ord(char):04X})",
            )
    if text != text.strip():
        raise RequestError(400, name, "must not start or end with whitespace")
    return text


def _bounded_text(value: object, name: str, max_bytes: int) -> str:
    text = _string(value, name)
    if len(text.encode("utf-8")) > max_bytes:
        raise RequestError(413, name, f"must be at most {max_bytes} bytes")
    return text


def _attributes(value: object) -> dict[str, str]:
    name = "participant_attributes"
    if not isinstance(value, dict):
        raise RequestError(400, name, "must be an object of string values")
    total = 0
    for key, item in value.items():
        if not key:
            raise RequestError(400, name, "keys must not be empty")
        if not isinstance(item, str):
            raise RequestError(400, f"{name}.{key}", "must be a string")
        total += len(key.encode("utf-8")) + len(item.encode("utf-8"))
    if total > MAX_ATTRIBUTES_BYTES:
        raise RequestError(413, name, f"must total at most {MAX_ATTRIBUTES_BYTES} bytes")
    return dict(value)


def _coordinate(value: object, name: str) -> float:
    if isinstance(value, str):
        if len(value) > MAX_COORDINATE_LENGTH or not _DECIMAL.fullmatch(value):
            raise RequestError(400, name, "must be a number such as 48.85 (digits, '.', '-')")
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RequestError(400, name, "must be a number")
    try:
        return float(value)
    except OverflowError:
        raise RequestError(400, name, "must be a number in range") from None


def _location(latitude: object, longitude: object, lat_name: str, lon_name: str) -> Location:
    if latitude is None or longitude is None:
        missing = lon_name if latitude is not None else lat_name
        raise RequestError(400, missing, f"is required together with {lat_name}/{lon_name}")
    lat = _coordinate(latitude, lat_name)
    lon = _coordinate(longitude, lon_name)
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise RequestError(400, lat_name, "must be between -90 and 90")
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise RequestError(400, lon_name, "must be between -180 and 180")
    return Location(lat, lon)


def _agent_metadata(room_config: object, agent_name: str) -> str | None:
    """Accept only an agent dispatch for the base agent; everything else is the deployment's."""
    name = "room_config"
    if not isinstance(room_config, dict):
        raise RequestError(400, name, "must be an object")
    for key in room_config:
        if key != "agents":
            raise RequestError(403, f"{name}.{key}", "is not configurable by clients")
    agents = room_config.get("agents")
    if agents is None:
        return None
    if not isinstance(agents, list):
        raise RequestError(400, f"{name}.agents", "must be an array")
    if len(agents) > 1:
        raise RequestError(403, f"{name}.agents", "may name at most one agent")
    if not agents:
        return None
    dispatch = agents[0]
    where = f"{name}.agents[0]"
    if not isinstance(dispatch, dict):
        raise RequestError(400, where, "must be an object")
    metadata: str | None = None
    for key, value in dispatch.items():
        snake = _CAMEL.sub("_", key).lower()
        if snake == "agent_name":
            requested = _string(value, f"{where}.agent_name")
            if requested not in ("", agent_name):
                raise RequestError(403, f"{where}.agent_name", f"must be {agent_name!r}")
        elif snake == "metadata":
            metadata = _bounded_text(value, f"{where}.metadata", MAX_METADATA_BYTES)
        else:
            raise RequestError(403, f"{where}.{key}", "is not configurable by clients")
    return metadata


def parse_token_request(body: bytes, settings: DispatchSettings) -> TokenRequest:
    """Validate a raw request body against LiveKit's rules and the deployment's policy."""
    if not body.strip():
        data: dict[str, object] = {}
    else:
        try:
            parsed = jsonsafe.loads(body)
        except jsonsafe.JsonError as exc:
            raise RequestError(400, exc.field, exc.message) from None
        if not isinstance(parsed, dict):
            raise RequestError(400, "body", "must be a JSON object")
        data = {k: v for k, v in parsed.items() if v is not None}

    for key in data:
        if key not in STANDARD_FIELDS and key not in EXTRA_FIELDS:
            if not key:
                raise RequestError(400, "body", "has a field with an empty name")
            # the name is echoed back, so only so much of it
            raise RequestError(400, key[:MAX_FIELD_NAME_ECHO], "is not a token request field")
        if key in STANDARD_FIELDS and key not in settings.policy.client_fields:
            raise RequestError(403, key, "is not configurable by clients in this deployment")

    attributes = (
        _attributes(data["participant_attributes"]) if "participant_attributes" in data else {}
    )
    hints = {k: attributes.pop(k) for k in list(attributes) if k.startswith(HINT_PREFIX)}
    unknown_hints = set(hints) - {HINT_REGION, HINT_LATITUDE, HINT_LONGITUDE}
    if unknown_hints:
        bad = sorted(unknown_hints)[0]
        raise RequestError(400, f"participant_attributes.{bad}", "is not a known routing hint")

    region: str | None = None
    region_field = "region" if "region" in data else f"participant_attributes.{HINT_REGION}"
    raw_region = data.get("region", hints.get(HINT_REGION))
    if raw_region is not None:
        if not settings.policy.allow_region_override:
            raise RequestError(403, region_field, "choosing a region is not allowed here")
        region = _string(raw_region, region_field)
        known = [e.region for e in settings.regions]
        if region not in known:
            raise RequestError(400, region_field, f"unknown region; deployed: {', '.join(known)}")

    location: Location | None = None
    if "latitude" in data or "longitude" in data:
        location = _location(data.get("latitude"), data.get("longitude"), "latitude", "longitude")
    elif HINT_LATITUDE in hints or HINT_LONGITUDE in hints:
        location = _location(
            hints.get(HINT_LATITUDE),
            hints.get(HINT_LONGITUDE),
            f"participant_attributes.{HINT_LATITUDE}",
            f"participant_attributes.{HINT_LONGITUDE}",
        )

    return TokenRequest(
        room_name=(
            _livekit_name(data["room_name"], "room_name", MAX_ROOM_NAME_LENGTH)
            if "room_name" in data
            else None
        ),
        participant_identity=(
            _livekit_name(data["participant_identity"], "participant_identity", MAX_IDENTITY_LENGTH)
            if "participant_identity" in data
            else None
        ),
        participant_name=(
            _livekit_name(data["participant_name"], "participant_name", MAX_PARTICIPANT_NAME_LENGTH)
            if "participant_name" in data
            else None
        ),
        participant_metadata=(
            _bounded_text(data["participant_metadata"], "participant_metadata", MAX_METADATA_BYTES)
            if "participant_metadata" in data
            else None
        ),
        participant_attributes=attributes,
        agent_metadata=(
            _agent_metadata(data["room_config"], settings.agent_name)
            if "room_config" in data
            else None
        ),
        region=region,
        location=location,
    )
