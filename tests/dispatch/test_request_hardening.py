"""Malformed requests (issue 11): every one gets a JSON 4xx naming the problem, never a 500."""

from __future__ import annotations

import json

import pytest

from tests.dispatch.support import ALL_CLIENT_FIELDS, http_request, raw_http

SECRET = "a-shared-secret-of-some-length"


async def post_raw(client, body: bytes, headers: dict[str, bytes] | None = None):
    status, response_headers, raw = await raw_http(
        client,
        http_request("/token", body, {"Content-Type": b"application/json", **(headers or {})}),
    )
    return status, response_headers, json.loads(raw)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        pytest.param(
            b'{"participant_metadata": "\\ud800"}',
            "participant_metadata",
            "lone surrogate",
            id="surrogate-metadata",
        ),
        pytest.param(
            b'{"participant_attributes": {"tier": "gold\\udfff"}}',
            "participant_attributes.tier",
            "lone surrogate",
            id="surrogate-attribute-value",
        ),
        pytest.param(
            b'{"participant_attributes": {"\\ud800": "x"}}',
            "participant_attributes",
            "lone surrogate",
            id="surrogate-attribute-key",
        ),
        pytest.param(
            b'{"participant_name": "\\udc00bob"}',
            "participant_name",
            "lone surrogate",
            id="surrogate-name",
        ),
        pytest.param(
            b'{"latitude": 1' + b"0" * 4400 + b', "longitude": 0}',
            "latitude",
            "between -90 and 90",
            id="int-4400-digits",
        ),
        pytest.param(
            b'{"participant_name": 1' + b"0" * 4400 + b"}",
            "participant_name",
            "must be a string",
            id="int-4400-digits-name",
        ),
        pytest.param(b"[" * 8000, "body", "nested more than", id="nesting-8000"),
        pytest.param(
            b'{"participant_metadata": ' + b"[" * 8000 + b"]" * 8000 + b"}",
            "body",
            "nested more than",
            id="nesting-in-field",
        ),
        pytest.param(b'{"latitude": NaN, "longitude": 0}', "body", "NaN", id="nan"),
        pytest.param(b"\xff{}", "body", "not UTF-8", id="not-utf8"),
    ],
)
async def test_malformed_bodies_get_a_400_naming_the_problem(
    serve, make_settings, body, field, message
):
    client = await serve(make_settings(MERIDIAN_DISPATCH_CLIENT_FIELDS=ALL_CLIENT_FIELDS))
    status, _, payload = await post_raw(client, body)
    assert (status, payload["field"]) == (400, field)
    assert message in payload["error"]


@pytest.mark.parametrize("field", ["participant_identity", "participant_name", "room_name"])
@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("\u202eevil", "U+202E"),
        ("bob\x85", "U+0085"),
        ("a\u2066b", "U+2066"),
        ("a\u200fb", "U+200F"),
        ("a\u2028b", "U+2028"),
        ("a\x7fb", "U+007F"),
    ],
)
async def test_identities_with_bidi_or_control_characters_are_refused(
    serve, make_settings, field, value, code
):
    client = await serve(make_settings(MERIDIAN_DISPATCH_CLIENT_FIELDS=ALL_CLIENT_FIELDS))
    resp = await client.post("/token", json={field: value})
    payload = await resp.json()
    assert (resp.status, payload["field"]) == (400, field)
    assert "bidirectional" in payload["error"] and code in payload["error"]


async def test_ordinary_unicode_names_are_still_accepted(serve, make_settings):
    client = await serve(make_settings(MERIDIAN_DISPATCH_CLIENT_FIELDS=ALL_CLIENT_FIELDS))
    # a ZWJ emoji sequence, an accented and a right-to-left script name
    for name in ("Zoë 👩\u200d💻", "José", "مريم"):
        resp = await client.post("/token", json={"participant_name": name})
        assert resp.status == 201, name


@pytest.mark.parametrize(
    "latitude", ["1_0", " 10", "10 ", "inf", "nan", "1e", "\u0661\u0660", "0x10", "+-1", "1" * 40]
)
async def test_coordinate_strings_parse_strictly(serve, settings, latitude):
    client = await serve(settings)
    attrs = {"meridian.latitude": latitude, "meridian.longitude": "0"}
    resp = await client.post("/token", json={"participant_attributes": attrs})
    payload = await resp.json()
    assert (resp.status, payload["field"]) == (400, "participant_attributes.meridian.latitude")
    assert "must be a number" in payload["error"]


@pytest.mark.parametrize("latitude", ["10", "-33.86", "35.", ".5", "1e1", "-0"])
async def test_ordinary_coordinate_strings_still_route(serve, settings, latitude):
    client = await serve(settings)
    attrs = {"meridian.latitude": latitude, "meridian.longitude": "0"}
    resp = await client.post("/token", json={"participant_attributes": attrs})
    assert resp.status == 201
