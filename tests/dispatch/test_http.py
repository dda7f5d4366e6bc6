"""HTTP on loopback: the endpoint contract, every bad-input case, CORS, rate limit, shared secret."""

from __future__ import annotations

import json

import pytest
from livekit import api

from meridian.dispatch.health import ProbeResult
from meridian.dispatch.ratelimit import RateLimiter
from meridian.dispatch.request import MAX_BODY_BYTES
from tests.dispatch.support import ALL_CLIENT_FIELDS, API_KEY, API_SECRET, board_for

BROWSER = "https://app.example.com"


async def post(client, body=None, *, raw: bytes | None = None, headers=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    return await client.post(
        "/token", data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )


async def test_empty_body_gets_201_with_standard_and_dispatch_fields(serve, settings):
    client = await serve(settings)
    resp = await post(client)
    body = await resp.json()
    assert resp.status == 201
    assert set(body) == {
        "server_url",
        "participant_token",
        "region",
        "agent_name",
        "room_name",
        "reason",
    }
    assert (body["region"], body["agent_name"], body["server_url"]) == (
        "eu-west",
        "support-agent-eu-west",
        "wss://eu.example.livekit.cloud",
    )


async def test_generated_room_and_identity_are_in_the_token(serve, settings):
    client = await serve(settings)
    body = await (await post(client)).json()
    claims = api.TokenVerifier(API_KEY, API_SECRET).verify(body["participant_token"])
    assert claims.video.room == body["room_name"]
    assert claims.identity.startswith("user-")


async def test_root_path_is_the_same_endpoint(serve, settings):
    client = await serve(settings)
    resp = await client.post("/", data=b"{}")
    assert resp.status == 201


async def test_coordinates_in_attributes_route_and_are_not_copied_into_the_token(serve, settings):
    client = await serve(settings)
    attrs = {"meridian.latitude": "35.68", "meridian.longitude": "139.65", "tier": "gold"}
    body = await (await post(client, {"participant_attributes": attrs})).json()
    claims = api.TokenVerifier(API_KEY, API_SECRET).verify(body["participant_token"])
    assert body["region"] == "ap-southeast"
    assert claims.attributes == {"tier": "gold"}


async def test_country_header_routes_when_configured(serve, make_settings):
    client = await serve(make_settings(MERIDIAN_DISPATCH_COUNTRY_HEADER="CF-IPCountry"))
    body = await (await post(client, {}, headers={"CF-IPCountry": "br"})).json()
    assert (body["region"], body["reason"].split(":")[0]) == ("us-east", "country BR")


async def test_placeholder_country_codes_fall_back_to_the_serving_region(serve, make_settings):
    client = await serve(make_settings(MERIDIAN_DISPATCH_COUNTRY_HEADER="CF-IPCountry"))
    body = await (await post(client, {}, headers={"CF-IPCountry": "XX"})).json()
    assert body["region"] == "eu-west"


async def test_explicit_region_is_honoured_when_allowed(serve, make_settings):
    client = await serve(make_settings(MERIDIAN_DISPATCH_ALLOW_REGION_OVERRIDE="true"))
    body = await (await post(client, {"region": "us-east"})).json()
    assert (body["region"], body["reason"]) == ("us-east", "explicit region requested")


async def test_base_agent_in_room_config_becomes_the_tagged_agent(serve, settings):
    client = await serve(settings)
    room_config = {"agents": [{"agent_name": "support-agent", "metadata": "m"}]}
    body = await (await post(client, {"room_config": room_config})).json()
    claims = api.TokenVerifier(API_KEY, API_SECRET).verify(body["participant_token"])
    assert [(a.agent_name, a.metadata) for a in claims.room_config.agents] == [
        ("support-agent-eu-west", "m")
    ]


BAD_INPUTS = [
    pytest.param(b"{not json", 400, "body", id="malformed-json"),
    pytest.param(b"[1, 2]", 400, "body", id="not-an-object"),
    pytest.param(
        b'{"latitude": 1' + b"0" * 400 + b', "longitude": 0}', 400, "latitude", id="huge-integer"
    ),
    pytest.param(
        {"room_config": {"Agents": [{"agentName": "x"}]}},
        403,
        "room_config.Agents",
        id="agents-case",
    ),
    pytest.param({"room_name": 5}, 400, "room_name", id="room-name-wrong-type"),
    pytest.param({"room_name": ""}, 400, "room_name", id="room-name-empty"),
    pytest.param({"room_name": "r" * 129}, 400, "room_name", id="room-name-too-long"),
    pytest.param({"room_name": "a\nb"}, 400, "room_name", id="room-name-control-char"),
    pytest.param({"participant_identity": " bob"}, 400, "participant_identity", id="identity-ws"),
    pytest.param(
        {"participant_identity": "x" * 129}, 400, "participant_identity", id="identity-too-long"
    ),
    pytest.param({"participant_name": ["a"]}, 400, "participant_name", id="name-wrong-type"),
    pytest.param(
        {"participant_attributes": {"a": 1}}, 400, "participant_attributes.a", id="attr-not-str"
    ),
    pytest.param({"participant_attributes": []}, 400, "participant_attributes", id="attrs-list"),
    pytest.param({"latitude": 91, "longitude": 0}, 400, "latitude", id="latitude-range"),
    pytest.param({"latitude": 10}, 400, "longitude", id="longitude-missing"),
    pytest.param({"latitude": "north", "longitude": 0}, 400, "latitude", id="latitude-type"),
    pytest.param({"latitude": True, "longitude": 0}, 400, "latitude", id="latitude-bool"),
    pytest.param(
        {"participant_attributes": {"meridian.longitude": "200", "meridian.latitude": "0"}},
        400,
        "participant_attributes.meridian.longitude",
        id="hint-longitude-range",
    ),
    pytest.param({"colour": "red"}, 400, "colour", id="unknown-field"),
    pytest.param({"region": "us-east"}, 403, "region", id="region-not-allowed"),
    pytest.param(
        {"participant_attributes": {"meridian.region": "us-east"}},
        403,
        "participant_attributes.meridian.region",
        id="region-attribute-not-allowed",
    ),
    pytest.param({"room_config": {"egress": {}}}, 403, "room_config.egress", id="egress"),
    pytest.param({"room_config": {"maxParticipants": 3}}, 403, "room_config.maxParticipants"),
    pytest.param(
        {"room_config": {"agents": [{"agent_name": "other-agent"}]}},
        403,
        "room_config.agents[0].agent_name",
        id="other-agent",
    ),
    pytest.param({"room_config": "x"}, 400, "room_config", id="room-config-type"),
]


@pytest.mark.parametrize(("body", "status", "field"), BAD_INPUTS)
async def test_bad_input_gets_a_4xx_naming_the_field(serve, make_settings, body, status, field):
    client = await serve(make_settings(MERIDIAN_DISPATCH_CLIENT_FIELDS=ALL_CLIENT_FIELDS))
    resp = await post(client, raw=body) if isinstance(body, bytes) else await post(client, body)
    payload = await resp.json()
    assert (resp.status, payload["field"]) == (status, field)
    assert payload["error"]


async def test_unknown_region_is_rejected_with_the_deployed_list(serve, make_settings):
    client = await serve(make_settings(MERIDIAN_DISPATCH_ALLOW_REGION_OVERRIDE="true"))
    resp = await post(client, {"region": "mars"})
    payload = await resp.json()
    assert (resp.status, payload["field"]) == (400, "region")
    assert "us-east, eu-west, ap-southeast" in payload["error"]


async def test_field_the_deployment_forbids_gets_403(serve, make_settings):
    client = await serve(make_settings(MERIDIAN_DISPATCH_CLIENT_FIELDS='["participant_name"]'))
    resp = await post(client, {"participant_metadata": "mine"})
    assert (resp.status, (await resp.json())["field"]) == (403, "participant_metadata")


@pytest.mark.parametrize("field", ["room_name", "participant_identity"])
async def test_room_and_identity_are_refused_unless_configured(serve, settings, field):
    # the safe default: a public endpoint must not let callers join a known room or take over
    # an identity
    client = await serve(settings)
    resp = await post(client, {field: "mine"})
    assert (resp.status, (await resp.json())["field"]) == (403, field)


async def test_oversized_body_gets_413(serve, settings):
    client = await serve(settings)
    resp = await post(client, {"participant_metadata": "x" * (MAX_BODY_BYTES + 1)})
    assert (resp.status, (await resp.json())["field"]) == (413, "body")


async def test_wrong_method_gets_a_json_405(serve, settings):
    client = await serve(settings)
    resp = await client.get("/token")
    assert resp.status == 405
    assert (await resp.json())["error"]


async def test_all_regions_down_gets_503_with_a_json_error(serve, settings):
    board = board_for(settings)
    for region in board.regions():
        for _ in range(settings.policy.probes.down_after_failures):
            board.record(region, ProbeResult(False, "down"), 0.0)
    client = await serve(settings, board=board)
    resp = await post(client)
    payload = await resp.json()
    assert resp.status == 503
    assert payload["error"].startswith("no healthy region")
    assert set(payload["regions"].values()) == {"down"}


async def test_cors_preflight_from_an_allowed_origin(serve, make_settings):
    client = await serve(make_settings(MERIDIAN_DISPATCH_CORS_ORIGINS=json.dumps([BROWSER])))
    resp = await client.options(
        "/token", headers={"Origin": BROWSER, "Access-Control-Request-Method": "POST"}
    )
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == BROWSER
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]


async def test_cors_allowed_origin_can_read_the_response(serve, make_settings):
    client = await serve(make_settings(MERIDIAN_DISPATCH_CORS_ORIGINS=json.dumps([BROWSER])))
    resp = await post(client, {}, headers={"Origin": BROWSER})
    assert (resp.status, resp.headers["Access-Control-Allow-Origin"]) == (201, BROWSER)


async def test_cors_origin_outside_the_allowlist_is_refused(serve, make_settings):
    client = await serve(make_settings(MERIDIAN_DISPATCH_CORS_ORIGINS=json.dumps([BROWSER])))
    resp = await post(client, {}, headers={"Origin": "https://evil.example"})
    assert (resp.status, (await resp.json())["field"]) == (403, "Origin")
    assert "Access-Control-Allow-Origin" not in resp.headers


async def test_rate_limit_answers_429_with_retry_after(serve, settings):
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=2, clock=lambda: now[0])
    client = await serve(settings, limiter=limiter)
    statuses = [(await post(client)).status for _ in range(3)]
    resp = await post(client)
    assert statuses == [201, 201, 429]
    assert resp.headers["Retry-After"] == "1"


async def test_rate_limit_is_per_client_address(serve, make_settings):
    limiter = RateLimiter(per_minute=60, burst=1, clock=lambda: 0.0)
    client = await serve(make_settings(MERIDIAN_DISPATCH_TRUSTED_PROXY_HOPS="1"), limiter=limiter)
    first = await post(client, headers={"X-Forwarded-For": "203.0.113.1"})
    second = await post(client, headers={"X-Forwarded-For": "203.0.113.2"})
    again = await post(client, headers={"X-Forwarded-For": "203.0.113.1"})
    assert (first.status, second.status, again.status) == (201, 201, 429)


async def test_spoofed_forwarded_for_prefix_does_not_evade_the_limit(serve, make_settings):
    limiter = RateLimiter(per_minute=60, burst=1, clock=lambda: 0.0)
    client = await serve(make_settings(MERIDIAN_DISPATCH_TRUSTED_PROXY_HOPS="1"), limiter=limiter)
    first = await post(client, headers={"X-Forwarded-For": "1.1.1.1, 203.0.113.9"})
    second = await post(client, headers={"X-Forwarded-For": "2.2.2.2, 203.0.113.9"})
    assert (first.status, second.status) == (201, 429)


async def test_rate_limit_refills_over_time():
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=1, clock=lambda: now[0])
    first = limiter.acquire("c")
    second = limiter.acquire("c")
    now[0] = 1.0
    assert (first, second, limiter.acquire("c")) == (0.0, 1.0, 0.0)


SECRET = "a-shared-secret-of-some-length"


async def test_shared_secret_is_required_when_configured(serve, make_settings):
    client = await serve(make_settings(MERIDIAN_DISPATCH_SHARED_SECRET=SECRET))
    missing = await post(client)
    wrong = await post(client, headers={"X-Meridian-Dispatch-Key": "nope"})
    right = await post(client, headers={"X-Meridian-Dispatch-Key": SECRET})
    assert (missing.status, wrong.status, right.status) == (401, 401, 201)
    assert (await missing.json())["field"] == "X-Meridian-Dispatch-Key"


async def test_healthz_reports_the_local_worker(serve, settings):
    board = board_for(settings)
    board.record(
        "eu-west", ProbeResult(True, "worker reachable", {"worker_load": 0.5}), 1_700_000_000
    )
    client = await serve(settings, board=board)
    body = await (await client.get("/healthz")).json()
    assert body["worker"]["state"] == "up"
    assert body["worker"]["worker_load"] == 0.5
    assert body["worker"]["last_check"] == "2023-11-14T22:13:20+00:00"


async def test_healthz_stays_200_but_degraded_when_the_worker_is_down(serve, settings):
    board = board_for(settings)
    for _ in range(settings.policy.probes.down_after_failures):
        board.record("eu-west", ProbeResult(False, "worker /worker answered HTTP 503"), 1.0)
    client = await serve(settings, board=board)
    resp = await client.get("/healthz")
    body = await resp.json()
    assert (resp.status, body["status"], body["worker"]["state"]) == (200, "degraded", "down")


async def test_regions_lists_state_last_check_and_reason(serve, settings):
    client = await serve(settings)
    body = await (await client.get("/regions")).json()
    assert [(r["region"], r["state"]) for r in body["regions"]] == [
        ("us-east", "up"),
        ("eu-west", "up"),
        ("ap-southeast", "up"),
    ]
    assert body["regions"][0]["reason"] == "not probed: no dispatch_url"
