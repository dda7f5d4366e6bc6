"""Property-based fuzzing of the token endpoint (issue 11): whatever JSON, text, bytes or header
values arrive, the answer is a JSON 4xx (or a 201 for a valid request), never a 500, a traceback
or a hang. The parser is fuzzed directly; the HTTP layer in-process over loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meridian.dispatch.app import create_app
from meridian.dispatch.request import RequestError, TokenRequest, parse_token_request
from meridian.dispatch.settings import DispatchSettings, load_settings
from meridian.policy import STANDARD_FIELDS
from tests.dispatch.support import ALL_CLIENT_FIELDS, base_env, board_for, http_request, raw_http

FIELDS = (*STANDARD_FIELDS, "region", "latitude", "longitude", "meridian.latitude")
# Every code point, surrogates included (json.dumps writes them as \ud800-style escapes).
ANY_CHAR = st.characters(codec=None, categories=None)
TEXT = st.text(ANY_CHAR, max_size=40)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**40, max_value=10**60)
    | st.floats(allow_nan=True, allow_infinity=True)
    | TEXT
    | st.sampled_from(["48.85", "1_0", "-0", "support-agent", "eu-west", "\u202e", "\x85"])
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(TEXT | st.sampled_from(FIELDS), children, max_size=4)
    ),
    max_leaves=12,
)
REQUESTS = st.dictionaries(st.sampled_from(FIELDS) | TEXT, JSON_VALUES, max_size=6)


def _encode(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=True, allow_nan=True).encode()


BODIES = (
    st.binary(max_size=512)
    | REQUESTS.map(_encode)
    | JSON_VALUES.map(_encode)
    | st.integers(min_value=1, max_value=3000).map(lambda n: b"[" * n)
    | st.text(ANY_CHAR, max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))
)


def _settings(**overrides: str) -> DispatchSettings:
    return load_settings(
        base_env(
            MERIDIAN_DISPATCH_CLIENT_FIELDS=ALL_CLIENT_FIELDS,
            MERIDIAN_DISPATCH_ALLOW_REGION_OVERRIDE="true",
            MERIDIAN_DISPATCH_RATE_PER_MINUTE="1000000",
            MERIDIAN_DISPATCH_RATE_BURST="1000000",
            **overrides,
        )
    )


PARSER_SETTINGS = _settings()


@settings(max_examples=300, deadline=None)
@given(BODIES)
def test_the_parser_only_accepts_or_raises_a_4xx_request_error(body):
    try:
        parsed = parse_token_request(body, PARSER_SETTINGS)
    except RequestError as exc:
        assert 400 <= exc.status < 500
        assert exc.field and exc.message
    else:
        assert isinstance(parsed, TokenRequest)


def _run_server(settings_: DispatchSettings, check: Callable[[TestClient], None]) -> None:
    """Run `check` against one in-process server, on a loop of its own (Hypothesis is sync)."""
    loop = asyncio.new_event_loop()
    client = TestClient(
        TestServer(create_app(settings_, board=board_for(settings_), probe=False)), loop=loop
    )
    loop.run_until_complete(client.start_server())
    try:
        check(lambda request: loop.run_until_complete(raw_http(client, request, timeout=5.0)))
    finally:
        loop.run_until_complete(client.close())
        loop.close()


def _assert_json_answer(status: int, body: bytes) -> None:
    assert status == 201 or 400 <= status < 500, (status, body)
    payload = json.loads(body)
    assert isinstance(payload, dict)
    if status != 201:
        assert payload["error"]


# Header field values as HTTP allows them: visible ASCII, spaces, tabs and obs-text bytes. (Control
# bytes break HTTP framing itself; aiohttp's parser answers those 400 before the service runs.)
HEADER_BYTES = st.binary(max_size=80).map(
    lambda raw: bytes(b for b in raw if b in (9, 32) or 33 <= b <= 126 or b >= 128).strip()
)
ORIGIN = "https://app.example.com"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_http_answers_any_body_and_headers_with_json(data):
    settings_ = _settings(
        MERIDIAN_DISPATCH_COUNTRY_HEADER="CF-IPCountry",
        MERIDIAN_DISPATCH_CORS_ORIGINS=json.dumps([ORIGIN]),
        MERIDIAN_DISPATCH_TRUSTED_PROXY_HOPS="2",
    )

    def check(send) -> None:
        for _ in range(3):
            headers = {
                "CF-IPCountry": data.draw(HEADER_BYTES | st.sampled_from([b"BR", "ß".encode()])),
                "X-Forwarded-For": data.draw(HEADER_BYTES),
                "Origin": data.draw(st.sampled_from([ORIGIN.encode(), b"", b""]) | HEADER_BYTES),
                "Content-Type": data.draw(HEADER_BYTES),
            }
            headers = {k: v for k, v in headers.items() if v}
            path = data.draw(st.sampled_from(["/token", "/"]))
            _assert_json_answer(*send(http_request(path, data.draw(BODIES), headers))[::2])

    _run_server(settings_, check)


FDID = "6f1c3a52-0d4e-4b7a-9a43-5a8e2b1f7c10"
SECRET = "a-shared-secret-for-backend-callers"


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_http_front_door_and_secret_checks_answer_any_header_with_json(data):
    settings_ = _settings(MERIDIAN_FRONT_DOOR_ID=FDID, MERIDIAN_DISPATCH_SHARED_SECRET=SECRET)

    def check(send) -> None:
        for _ in range(3):
            headers = {
                "X-Azure-FDID": data.draw(st.just(FDID.encode()) | HEADER_BYTES),
                "X-Azure-SocketIP": data.draw(
                    st.sampled_from([b"203.0.113.5", b"2001:db8::1"]) | HEADER_BYTES
                ),
                "X-Meridian-Dispatch-Key": data.draw(st.just(SECRET.encode()) | HEADER_BYTES),
            }
            headers = {k: v for k, v in headers.items() if v}
            method = data.draw(st.sampled_from(["POST", "OPTIONS", "GET", "PUT"]))
            request = http_request("/token", data.draw(BODIES), headers, method=method)
            status, _, body = send(request)
            if method == "OPTIONS" and status == 204:
                continue
            if status == 405:
                assert json.loads(body)["field"] == "method"
                continue
            _assert_json_answer(status, body)

    _run_server(settings_, check)
