"""Tokens: verified with livekit-api's TokenVerifier, exactly the grants the deployment allows."""

from __future__ import annotations

import time

import jwt
import pytest
from livekit import api

from meridian.dispatch.settings import SettingsError
from meridian.dispatch.tokens import mint_join_token
from tests.dispatch.support import API_KEY, API_SECRET


def verify(token: str) -> api.access_token.Claims:
    return api.TokenVerifier(API_KEY, API_SECRET).verify(token)


def mint(settings, **kwargs) -> str:
    args = {"room": "room-1", "identity": "alice", "tagged_agent_name": "support-agent-eu-west"}
    args.update(kwargs)
    return mint_join_token(settings, **args)


def test_token_joins_exactly_one_room(settings):
    claims = verify(mint(settings))
    assert (claims.video.room_join, claims.video.room) == (True, "room-1")


def test_token_has_no_admin_or_listing_grants(settings):
    video = verify(mint(settings)).video
    assert not any([video.room_admin, video.room_create, video.room_list, video.room_record])
    assert not video.ingress_admin and not video.agent


def test_token_publishes_only_the_microphone_by_default(settings):
    video = verify(mint(settings)).video
    assert (video.can_publish, video.can_subscribe, video.can_publish_sources) == (
        True,
        True,
        ["microphone"],
    )


def test_publish_and_subscribe_follow_the_deployment(make_settings):
    settings = make_settings(
        MERIDIAN_DISPATCH_CAN_PUBLISH="false", MERIDIAN_DISPATCH_CAN_PUBLISH_DATA="false"
    )
    video = verify(mint(settings)).video
    assert (video.can_publish, video.can_publish_data, video.can_subscribe) == (False, False, True)


def test_token_ttl_is_the_configured_one_and_at_most_15_minutes(make_settings):
    settings = make_settings(MERIDIAN_DISPATCH_TOKEN_TTL_SECONDS="900")
    payload = jwt.decode(mint(settings), API_SECRET, algorithms=["HS256"], issuer=API_KEY)
    assert payload["exp"] - payload["nbf"] == 900
    assert payload["exp"] <= time.time() + 900 + 1


def test_token_carries_identity_name_metadata_and_attributes(settings):
    claims = verify(
        mint(settings, name="Alice", metadata='{"plan":"pro"}', attributes={"tier": "gold"})
    )
    assert (claims.identity, claims.name, claims.metadata, claims.attributes) == (
        "alice",
        "Alice",
        '{"plan":"pro"}',
        {"tier": "gold"},
    )


def test_token_dispatches_the_region_tagged_agent(settings):
    claims = verify(mint(settings, agent_metadata='{"lang":"en"}'))
    agents = list(claims.room_config.agents)
    assert [(a.agent_name, a.metadata) for a in agents] == [
        ("support-agent-eu-west", '{"lang":"en"}')
    ]


async def test_a_prefixed_environment_dispatches_its_own_agent_name(serve, make_settings):
    client = await serve(make_settings(MERIDIAN_STACK_PREFIX="staging"))
    response = await client.post("/token", json={})
    body = await response.json()
    assert response.status == 201
    assert body["agent_name"] == "support-agent-staging-eu-west"
    claims = api.TokenVerifier(API_KEY, API_SECRET).verify(body["participant_token"])
    assert [a.agent_name for a in claims.room_config.agents] == ["support-agent-staging-eu-west"]


def test_a_stack_prefix_that_is_not_a_name_is_refused(make_settings):
    with pytest.raises(SettingsError, match="MERIDIAN_STACK_PREFIX"):
        make_settings(MERIDIAN_STACK_PREFIX="Staging!")
