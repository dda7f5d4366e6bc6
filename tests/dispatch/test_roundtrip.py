"""Round trip: a client that sends requests exactly like LiveKit's endpoint TokenSource."""

from __future__ import annotations

import json

import aiohttp
from google.protobuf.json_format import MessageToDict
from livekit import api
from livekit.protocol.agent_dispatch import RoomAgentDispatch
from livekit.protocol.room import RoomConfiguration

from tests.dispatch.support import ALL_CLIENT_FIELDS, API_KEY, API_SECRET


async def token_source_fetch(url: str, **options: str) -> dict[str, str]:
    """Mirror client-sdk-js TokenSourceEndpoint: POST a TokenSourceRequest with proto field
    names, agent options folded into room_config, and read only the standard response fields."""
    request: dict[str, object] = {
        key: options[key]
        for key in ("room_name", "participant_name", "participant_identity", "participant_metadata")
        if key in options
    }
    if "agent_name" in options:
        config = RoomConfiguration(agents=[RoomAgentDispatch(agent_name=options["agent_name"])])
        request["room_config"] = MessageToDict(config, preserving_proto_field_name=True)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            url, data=json.dumps(request), headers={"Content-Type": "application/json"}
        ) as resp,
    ):
        assert resp.ok, await resp.text()
        body = await resp.json()
    return {"server_url": body["server_url"], "participant_token": body["participant_token"]}


async def test_token_source_style_client_gets_connectable_credentials(serve, make_settings):
    client = await serve(make_settings(MERIDIAN_DISPATCH_CLIENT_FIELDS=ALL_CLIENT_FIELDS))
    credentials = await token_source_fetch(
        str(client.make_url("/token")),
        room_name="support-room",
        participant_identity="web-user-1",
        participant_name="Web User",
        agent_name="support-agent",
    )
    claims = api.TokenVerifier(API_KEY, API_SECRET).verify(credentials["participant_token"])
    assert credentials["server_url"] == "wss://eu.example.livekit.cloud"
    assert (claims.identity, claims.name, claims.video.room) == (
        "web-user-1",
        "Web User",
        "support-room",
    )
    assert [a.agent_name for a in claims.room_config.agents] == ["support-agent-eu-west"]
