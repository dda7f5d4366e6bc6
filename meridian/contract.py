"""The contract between infra and the running services, written once.

infra renders these names into each container's environment; the agent, dispatch and the scripts read
them back. Changing a name here changes both sides together.
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import AfterValidator

# Ports inside the containers: the agent worker's health server, and the dispatch token endpoint.
AGENT_HEALTH_PORT: Final = 8081
DISPATCH_PORT: Final = 8080
# How the one image starts each service: the agent worker (its CLI takes `start`) and dispatch.
AGENT_COMMAND: Final = ("python", "-m", "agent")
DISPATCH_COMMAND: Final = ("python", "-m", "meridian.dispatch")

# The participant attribute the agent sets on joining, and the request hint dispatch accepts.
REGION_ATTRIBUTE: Final = "meridian.region"
# LiveKit's server sets this attribute on every agent participant: the agent name it was
# dispatched as.
AGENT_NAME_ATTRIBUTE: Final = "lk.agent.name"
# The attribute that carries the agent's Container Apps revision (Env.CONTAINER_APP_REVISION), so
# the smoke gate can tell the new revision's workers from the old one's (`latestRevision`).
REVISION_ATTRIBUTE: Final = "meridian.revision"
# Where dispatch takes LiveKit's signed webhooks (the project's webhook URL is the global entry
# URL plus this path), and the key of the dispatch metadata a failover agent is sent with.
WEBHOOK_PATH: Final = "/livekit/webhook"
FAILOVER_METADATA: Final = "meridian.failover"
# The agent's participant attribute with the conversation so far (its last turns, as JSON), so that
# a failover agent can carry on from it. Dispatch copies it into the failover dispatch's metadata,
# since the lost agent may have left the room by then; CARRIED_MESSAGES and CARRIED_CHARS keep it
# well inside LiveKit's 64 KiB of attributes per participant.
CONVERSATION_ATTRIBUTE: Final = "meridian.conversation"
CARRIED_MESSAGES: Final = 8
CARRIED_CHARS: Final = 500
# The RPC method every agent answers while its session lives. A failover agent calls it on the
# agent it replaces before it speaks: an answer means the call still has its agent (dispatch
# judged the region lost from a probe, and the probe was wrong), so the newcomer leaves quietly.
ALIVE_RPC: Final = "meridian.alive"
# The header that carries dispatch's optional shared secret.
DISPATCH_KEY_HEADER: Final = "X-Meridian-Dispatch-Key"
# Front Door stamps every request it forwards with its profile's ID, and the address of the TCP
# connection it came from. (Not X-Azure-ClientIP: Front Door may take that one from the caller's
# own X-Forwarded-For, so a caller can choose it.)
FRONT_DOOR_ID_HEADER: Final = "X-Azure-FDID"
FRONT_DOOR_SOCKET_IP_HEADER: Final = "X-Azure-SocketIP"


def region_route_prefix(region: str) -> str:
    """The path under the global entry URL that reaches one region's dispatch service only, e.g.
    ``/regions/eu-west``; peers probe ``<global URL>/regions/<region>/healthz``."""
    return f"/regions/{region}"


# Region keys are DNS labels: they end up in resource, app and agent names.
REGION_KEY_MAX_LENGTH: Final = 20
_REGION_KEY = re.compile(r"[a-z](?:[a-z0-9-]*[a-z0-9])?")
REGION_KEY_RULE: Final = (
    f"1-{REGION_KEY_MAX_LENGTH} lowercase letters, digits and single hyphens,"
    " starting with a letter and ending with a letter or digit"
)
AGENT_NAME_MAX_LENGTH: Final = 40


def is_region_key(key: str) -> bool:
    """Whether `key` is a valid region key (see REGION_KEY_RULE)."""
    return (
        len(key) <= REGION_KEY_MAX_LENGTH
        and _REGION_KEY.fullmatch(key) is not None
        and "--" not in key
    )


def _region_key(value: str) -> str:
    if not is_region_key(value):
        raise ValueError(f"expected a region key: {REGION_KEY_RULE}")
    return value


# A pydantic field type that holds only valid region keys.
RegionKey = Annotated[str, AfterValidator(_region_key)]


def is_agent_base_name(name: str) -> bool:
    """Whether `name` is a valid base agent name: the same DNS-label rule, up to 40 characters."""
    return (
        len(name) <= AGENT_NAME_MAX_LENGTH
        and _REGION_KEY.fullmatch(name) is not None
        and ("--" not in name)
    )


def tagged_agent_name(base_name: str, region: str, prefix: str = "") -> str:
    """The name a region's workers register under with LiveKit: ``support-agent-eu-west``, or in
    the environment (stack prefix) ``staging``, ``support-agent-staging-eu-west``, so that two
    environments on one LiveKit project never take each other's calls."""
    return f"{base_name}-{prefix}-{region}" if prefix else f"{base_name}-{region}"


class Env:
    """Every environment variable name infra sets and the services read."""

    # LiveKit
    LIVEKIT_URL: Final = "LIVEKIT_URL"
    LIVEKIT_API_KEY: Final = "LIVEKIT_API_KEY"
    LIVEKIT_API_SECRET: Final = "LIVEKIT_API_SECRET"
    LIVEKIT_AGENT_NAME: Final = "LIVEKIT_AGENT_NAME"  # the tagged name
    # Both services
    REGION: Final = "MERIDIAN_REGION"
    # Agent
    LOCATION: Final = "MERIDIAN_LOCATION"
    DRAIN_SECONDS: Final = "MERIDIAN_DRAIN_SECONDS"
    LOAD_THRESHOLD: Final = "MERIDIAN_LOAD_THRESHOLD"
    IDLE_PROCESSES: Final = "MERIDIAN_IDLE_PROCESSES"
    # The worker's health and status server (default AGENT_HEALTH_PORT, which infra probes; set
    # it only to run several workers on one machine, as `make local` and the tests do).
    HEALTH_PORT: Final = "MERIDIAN_HEALTH_PORT"
    SYSTEM_PROMPT: Final = "MERIDIAN_SYSTEM_PROMPT"
    FAQ_PATH: Final = "MERIDIAN_FAQ_PATH"
    FAQ_THRESHOLD: Final = "MERIDIAN_FAQ_THRESHOLD"
    # Set by Azure Container Apps itself in every container (not rendered by infra): the name of
    # the revision the replica belongs to, e.g. support-agent-eu-west--0000003.
    CONTAINER_APP_REVISION: Final = "CONTAINER_APP_REVISION"
    AUDIO_CACHE_MB: Final = "MERIDIAN_AUDIO_CACHE_MB"
    LLM_API_VERSION: Final = "MERIDIAN_LLM_API_VERSION"
    # The region identity (azure-identity reads it), and the Azure AI Services account that
    # `azure-ai` stages call keylessly, plus the account and deployment they fall back to.
    AZURE_CLIENT_ID: Final = "AZURE_CLIENT_ID"
    AI_ENDPOINT: Final = "MERIDIAN_AI_ENDPOINT"
    AI_RESOURCE_ID: Final = "MERIDIAN_AI_RESOURCE_ID"
    AI_FALLBACK_ENDPOINT: Final = "MERIDIAN_AI_FALLBACK_ENDPOINT"
    AI_FALLBACK_RESOURCE_ID: Final = "MERIDIAN_AI_FALLBACK_RESOURCE_ID"
    AI_FALLBACK_LOCATION: Final = "MERIDIAN_AI_FALLBACK_LOCATION"
    LLM_FALLBACK_MODEL: Final = "MERIDIAN_LLM_FALLBACK_MODEL"
    # Dispatch
    AGENT_BASE_NAME: Final = "MERIDIAN_AGENT_NAME"  # the base name, without the region
    # The environment's stack prefix (`staging` for staging-us-east): part of every tagged name.
    STACK_PREFIX: Final = "MERIDIAN_STACK_PREFIX"
    REGIONS: Final = "MERIDIAN_REGIONS"
    # Where the global layer publishes the whole region table (a blob), and the client ID of the
    # region's managed identity that reads it (azure-identity's own variable name).
    REGIONS_URL: Final = "MERIDIAN_REGIONS_URL"
    AZURE_CLIENT_ID: Final = "AZURE_CLIENT_ID"
    DISPATCH_PREFIX: Final = "MERIDIAN_DISPATCH_"
    DISPATCH_SHARED_SECRET: Final = "MERIDIAN_DISPATCH_SHARED_SECRET"
    # The Front Door profile ID token requests must carry (FRONT_DOOR_ID_HEADER); unset: no check.
    FRONT_DOOR_ID: Final = "MERIDIAN_FRONT_DOOR_ID"

    @staticmethod
    def model_stage(stage: str, setting: str) -> str:
        """A model stage's variable, e.g. ``model_stage("stt", "provider")`` → MERIDIAN_STT_PROVIDER."""
        return f"MERIDIAN_{stage.upper()}_{setting.upper()}"

    @staticmethod
    def dispatch(setting: str) -> str:
        """A dispatch policy variable, e.g. ``dispatch("rate_burst")`` → MERIDIAN_DISPATCH_RATE_BURST."""
        return f"{Env.DISPATCH_PREFIX}{setting.upper()}"


MODEL_STAGES: Final = ("stt", "llm", "tts")
MODEL_STAGE_SETTINGS: Final = ("provider", "model", "endpoint", "language", "voice")
# "azure-ai": the Azure AI Services account Meridian provisions in the region, called with the
# region identity (no key).
AZURE_AI_PROVIDER: Final = "azure-ai"
STT_PROVIDERS: Final = ("livekit", "azure", "azure-ai")
LLM_PROVIDERS: Final = ("livekit", "azure-openai", "openai", "azure-ai")
TTS_PROVIDERS: Final = ("livekit", "azure", "azure-ai")

# The credential each model provider needs. LiveKit Inference authenticates with the LiveKit key
# pair, so "livekit" stages need nothing extra.
PROVIDER_SECRETS: Final[dict[str, str]] = {
    "azure": "AZURE_SPEECH_KEY",
    "azure-openai": "AZURE_OPENAI_API_KEY",
    "openai": "OPENAI_API_KEY",
}
LIVEKIT_SECRETS: Final = (Env.LIVEKIT_API_KEY, Env.LIVEKIT_API_SECRET)
# Join tokens are HS256 JWTs signed with the API secret: RFC 7518 (3.2) wants a key of at least 256
# bits, PyJWT warns below 32 bytes, and livekit-server logs "secret is too short, should be at least
# 32 characters". Generated LiveKit secrets are longer base62 strings. Dispatch and the smoke test
# refuse a shorter one.
MIN_API_SECRET_LENGTH: Final = 32

# The agent's per-reply log event and its timing fields (seconds), in pipeline order; the last is
# the agent's estimate of the silence its caller heard (e2e plus the media path through LiveKit).
TURN_EVENT: Final = "turn"
SESSION_END_EVENT: Final = "session_end"
TURN_TIMING_FIELDS: Final = (
    "eou_delay",
    "transcription_delay",
    "llm_ttft",
    "tts_ttfb",
    "e2e_latency",
    "heard_estimate",
)
TURN_FLAG_FIELDS: Final = ("cache_hit", "interrupted")
# How the turn gate ended a turn (null in a `turn` event: not ended by the gate, e.g. text input).
TURN_GATE_VERDICTS: Final = ("finished", "unfinished", "no_text_model")
# The `turn` event's gate fields: verdict, its score (0..1), chosen wait (s), caller resumed.
TURN_GATE_FIELDS: Final = ("gate_verdict", "gate_score", "endpointing_delay", "resumed")
# Which provider, deployment and Azure location served each stage of a turn (null: not known,
# e.g. LiveKit Inference, or no call, e.g. a cached answer), next to the agent's own `location`.
TURN_SERVED_FIELDS: Final = tuple(
    f"{stage}_{what}" for stage in MODEL_STAGES for what in ("provider", "deployment", "location")
)
