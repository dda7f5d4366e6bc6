"""Mint LiveKit join tokens that carry the region-tagged agent dispatch."""

from __future__ import annotations

import datetime

from livekit import api

from meridian.dispatch.settings import DispatchSettings


def mint_join_token(
    settings: DispatchSettings,
    *,
    room: str,
    identity: str,
    tagged_agent_name: str,
    name: str | None = None,
    metadata: str | None = None,
    attributes: dict[str, str] | None = None,
    agent_metadata: str | None = None,
) -> str:
    """A signed JWT to join exactly one room, with no admin grants and a bounded TTL, whose room
    configuration dispatches the region's agent (`tagged_agent_name`)."""
    policy = settings.policy
    grants = api.VideoGrants(
        room_join=True,
        room=room,
        can_publish=policy.can_publish,
        can_subscribe=policy.can_subscribe,
        can_publish_data=policy.can_publish_data,
        can_publish_sources=list(policy.publish_sources) if policy.can_publish else None,
    )
    dispatch = api.RoomAgentDispatch(agent_name=tagged_agent_name, metadata=agent_metadata or "")
    token = (
        api.AccessToken(settings.api_key.get_secret_value(), settings.api_secret.get_secret_value())
        .with_identity(identity)
        .with_grants(grants)
        .with_ttl(datetime.timedelta(seconds=policy.token_ttl_seconds))
        .with_room_config(api.RoomConfiguration(agents=[dispatch]))
    )
    if name:
        token = token.with_name(name)
    if metadata:
        token = token.with_metadata(metadata)
    if attributes:
        token = token.with_attributes(attributes)
    return token.to_jwt()
