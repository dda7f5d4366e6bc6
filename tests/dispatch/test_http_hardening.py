"""The HTTP layer against malformed and hostile requests (issue 11, issue 12): header bytes,
the Front Door check, the per-region health path, the rate-limit key, slow and aborted clients."""

from __future__ import annotations

import json

import pytest

from meridian.dispatch.ratelimit import RateLimiter, entry_cost
from tests.dispatch.support import http_request, raw_http

SECRET = "a-shared-secret-of-some-length"


async def post_raw(client, body: bytes, headers: dict[str, bytes] | None = None):
    status, response_headers, raw = await raw_http(
        client,
        http_request("/token", body, {"Content-Type": b"application/json", **(headers or {})}),
    )
    return status, response_headers, json.loads(raw)


async def test_a_shared_secret_header_with_byte_ff_is_a_401_not_a_500(serve, make_settings):
    client = await serve(make_settings(MERIDIAN_DISPATCH_SHARED_SECRET=SECRET))
    status, _, payload = await post_raw(client, b"{}", {"X-Meridian-Dispatch-Key": b"\xff\xfe"})
    assert (status, payload) == (
        401,
        {"error": "missing or wrong shared secret", "field": "X-Meridian-Dispatch-Key"},
    )
    status, _, _ = await post_raw(client, b"{}", {"X-Meridian-Dispatch-Key": SECRET.encode()})
    assert status == 201


async def test_a_non_ascii_country_header_is_not_uppercased_into_a_country(serve, make_settings):
    # "ß".upper() == "SS" (South Sudan); the header must be two ASCII letters to count
    client = await serve(make_settings(MERIDIAN_DISPATCH_COUNTRY_HEADER="CF-IPCountry"))
    status, _, payload = await post_raw(client, b"{}", {"CF-IPCountry": "ß".encode()})
    assert (status, payload["reason"]) == (201, "no client location: serving region")
    status, _, payload = await post_raw(client, b"{}", {"CF-IPCountry": b"\xff\xfe"})
    assert (status, payload["reason"]) == (201, "no client location: serving region")


async def test_405_names_the_allowed_methods(serve, settings):
    client = await serve(settings)
    resp = await client.get("/token")
    payload = await resp.json()
    assert resp.status == 405
    assert set(resp.headers["Allow"].replace(" ", "").split(",")) == {"POST", "OPTIONS"}
    assert payload["field"] == "method"
    assert payload["error"].startswith("GET is not allowed here; allowed: ")
    resp = await client.post("/healthz")
    assert resp.status == 405
    assert "GET" in resp.headers["Allow"]


FDID = "6f1c3a52-0d4e-4b7a-9a43-5a8e2b1f7c10"
FD = {"X-Azure-FDID": FDID}


@pytest.fixture
def front_door(make_settings):
    return make_settings(MERIDIAN_FRONT_DOOR_ID=FDID)


async def test_front_door_check_refuses_token_requests_without_the_profile_id(serve, front_door):
    client = await serve(front_door)
    for headers in ({}, {"X-Azure-FDID": "someone-elses-front-door"}, {"X-Azure-FDID": ""}):
        resp = await client.post("/token", data=b"{}", headers=headers)
        payload = await resp.json()
        assert resp.status == 403
        assert payload == {
            "error": "requests must come through the Meridian Front Door entry URL",
            "field": "X-Azure-FDID",
        }
        assert FDID not in await resp.text()
    resp = await client.post("/", data=b"{}")
    assert resp.status == 403
    assert (await client.post("/token", data=b"{}", headers=FD)).status == 201
    assert (await client.post("/", data=b"{}", headers=FD)).status == 201


async def test_front_door_check_covers_preflight_and_odd_header_bytes(serve, make_settings):
    origin = "https://app.example.com"
    settings = make_settings(
        MERIDIAN_FRONT_DOOR_ID=FDID, MERIDIAN_DISPATCH_CORS_ORIGINS=json.dumps([origin])
    )
    client = await serve(settings)
    preflight = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    assert (await client.options("/token", headers=preflight)).status == 403
    assert (await client.options("/token", headers={**preflight, **FD})).status == 204
    status, _, payload = await post_raw(client, b"{}", {"X-Azure-FDID": b"\xff" + FDID.encode()})
    assert (status, payload["field"]) == (403, "X-Azure-FDID")
    # two header lines: not what Front Door sends, so not trusted either
    request = http_request("/token", b"{}", {"X-Azure-FDID": FDID.encode()})
    request = request.replace(b"\r\n\r\n", b"\r\nX-Azure-FDID: " + FDID.encode() + b"\r\n\r\n", 1)
    assert (await raw_http(client, request))[0] == 403


@pytest.mark.parametrize("path", ["/healthz", "/regions/eu-west/healthz"])
async def test_health_stays_open_behind_the_front_door_check(serve, front_door, path):
    client = await serve(front_door)
    resp = await client.get(path)
    body = await resp.json()
    assert (resp.status, body["region"], body["status"]) == (200, "eu-west", "ok")
    assert (await client.head(path)).status == 200


async def test_without_a_front_door_id_there_is_no_check(serve, settings):
    client = await serve(settings)
    assert (await client.post("/token", data=b"{}")).status == 201


async def test_the_per_region_health_path_answers_like_healthz(serve, settings):
    client = await serve(settings)
    plain = await (await client.get("/healthz")).json()
    routed = await (await client.get("/regions/eu-west/healthz")).json()
    assert plain == routed
    # another region's path reaching this service is a Front Door misroute: not healthy
    assert (await client.get("/regions/us-east/healthz")).status == 404


@pytest.mark.parametrize("path", ["/regions/eu-west/", "/regions/eu-west/token"])
async def test_the_per_region_route_serves_tokens_for_this_region_through_front_door(
    serve, front_door, path
):
    # The smoke test reaches exactly one region as <global URL>/regions/<region>/.
    client = await serve(front_door)
    resp = await client.post(path, data=b"{}", headers=FD)
    body = await resp.json()
    assert (resp.status, body["region"]) == (201, "eu-west")
    assert (await client.post(path, data=b"{}")).status == 403
    assert (await client.post("/regions/us-east/token", data=b"{}", headers=FD)).status == 404


async def test_each_regions_view_can_be_read_through_its_route(serve, front_door):
    client = await serve(front_door)
    resp = await client.get("/regions/eu-west/regions", headers=FD)
    assert (resp.status, (await resp.json())["serving_region"]) == (200, "eu-west")
    assert (await client.get("/regions/eu-west/regions")).status == 403


# --- the rate-limit key -------------------------------------------------------------------


def limiter():
    return RateLimiter(per_minute=60, burst=1, clock=lambda: 0.0)


async def statuses(client, header_sets, extra=None):
    out = []
    for headers in header_sets:
        resp = await client.post("/token", data=b"{}", headers={**(extra or {}), **headers})
        out.append(resp.status)
    return out


ROTATING_XFF = [{"X-Forwarded-For": f"198.51.100.{i}"} for i in range(1, 5)]


async def test_no_proxy_configured_forwarded_headers_are_ignored(serve, settings):
    client = await serve(settings, limiter=limiter())
    assert await statuses(client, ROTATING_XFF) == [201, 429, 429, 429]


async def test_one_trusted_hop_takes_the_last_entry_across_all_lines(serve, make_settings):
    client = await serve(make_settings(MERIDIAN_DISPATCH_TRUSTED_PROXY_HOPS="1"), limiter=limiter())

    # the attacker's own header line comes first; the proxy appends its line last
    def two_lines(spoof: str) -> bytes:
        request = http_request("/token", b"{}", {"X-Forwarded-For": spoof.encode()})
        return request.replace(b"\r\n\r\n", b"\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n", 1)

    got = [(await raw_http(client, two_lines(f"10.0.0.{i}")))[0] for i in range(3)]
    assert got == [201, 429, 429]


async def test_two_trusted_hops_take_the_second_entry_from_the_right(serve, make_settings):
    client = await serve(make_settings(MERIDIAN_DISPATCH_TRUSTED_PROXY_HOPS="2"), limiter=limiter())
    spoofed = [{"X-Forwarded-For": f"10.9.9.{i}, 203.0.113.8, 10.0.0.1"} for i in range(3)]
    assert await statuses(client, spoofed) == [201, 429, 429]
    # too short a chain: the socket peer is the key, whatever the one entry says
    short = [{"X-Forwarded-For": "192.0.2.1"}, {"X-Forwarded-For": "192.0.2.2"}]
    assert await statuses(client, short) == [201, 429]


async def test_forwarded_values_that_are_not_addresses_fall_back_to_the_peer(serve, make_settings):
    rate = limiter()
    client = await serve(make_settings(MERIDIAN_DISPATCH_TRUSTED_PROXY_HOPS="1"), limiter=rate)
    junk = [{"X-Forwarded-For": f"client-{i}-" + "x" * 8000} for i in range(50)]
    assert await statuses(client, junk) == [201] + [429] * 49
    assert rate.tracked_clients == 1


async def test_behind_front_door_the_key_is_x_azure_socketip(serve, front_door):
    client = await serve(front_door, limiter=limiter())
    first = {"X-Azure-SocketIP": "203.0.113.10"}
    second = {"X-Azure-SocketIP": "2001:db8::10"}
    assert await statuses(client, [first, second, first], FD) == [201, 201, 429]
    # a missing or malformed X-Azure-SocketIP falls back to the socket peer, not a free key
    assert await statuses(client, [{}, {"X-Azure-SocketIP": "nope"}], FD) == [201, 429]


async def test_behind_front_door_a_new_forwarded_or_client_ip_per_request_gets_no_new_bucket(
    serve, front_door
):
    # Front Door may fill X-Azure-ClientIP from the caller's own X-Forwarded-For: a caller that
    # rotates them still comes from one socket address
    client = await serve(front_door, limiter=limiter())
    socket_ip = {"X-Azure-SocketIP": "203.0.113.10"}
    rotated = [
        {**socket_ip, "X-Forwarded-For": f"198.51.100.{i}", "X-Azure-ClientIP": f"198.51.100.{i}"}
        for i in range(4)
    ]
    assert await statuses(client, rotated, FD) == [201, 429, 429, 429]


def test_the_limiter_bounds_its_memory_in_bytes():
    rate = RateLimiter(per_minute=60, burst=1, max_bytes=1024 * 1024)
    for i in range(3000):
        rate.acquire(f"{i}-" + "k" * 8192)
    assert rate.tracked_bytes <= 1024 * 1024
    assert rate.tracked_clients == (1024 * 1024) // entry_cost("0000-" + "k" * 8192)


# --- slow and aborted clients -------------------------------------------------------------


async def test_a_body_that_trickles_in_is_cut_off_with_a_408(serve, settings, monkeypatch):
    import meridian.dispatch.app

    monkeypatch.setattr(meridian.dispatch.app, "BODY_READ_TIMEOUT_SECONDS", 0.3)
    client = await serve(settings)
    request = http_request("/token", b"{}").replace(b"Content-Length: 2", b"Content-Length: 200")
    status, _, body = await raw_http(client, request, timeout=3.0)
    payload = json.loads(body)
    assert (status, payload["field"]) == (408, "body")
    assert payload["error"] == "was not received within 0.3 seconds"
