"""Which endpoint URLs Meridian accepts: TLS anywhere, plain ws:// and http:// on loopback only."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meridian.transport import is_loopback, transport_problem


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.8.9.10", "[::1]", "LOCALHOST"])
def test_loopback_hosts_are_recognised(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["10.0.0.1", "localhost.example.com", "example.com", "0.0.0.0"])
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


@pytest.mark.parametrize(
    "url", ["wss://x.livekit.cloud", "https://x.livekit.cloud/path", "ws://127.0.0.1:7880"]
)
def test_tls_anywhere_and_plain_on_loopback_are_accepted(url: str) -> None:
    assert transport_problem(url, ("wss", "https")) is None


def test_plain_websocket_to_a_remote_host_is_refused_and_says_why() -> None:
    problem = transport_problem("ws://x.livekit.cloud", ("wss",))
    assert (
        problem
        == "a wss:// URL (ws:// only on a loopback address); x.livekit.cloud is not loopback"
    )


@pytest.mark.parametrize("url", ["ftp://x", "x.example", "https://", "https://a b", "http://[::1"])
def test_other_schemes_and_malformed_urls_get_what_is_allowed(url: str) -> None:
    assert (
        transport_problem(url, ("https",)) == "an https:// URL (http:// only on a loopback address)"
    )


@given(st.text(max_size=80))
def test_any_text_gets_an_answer_and_never_raises(text: str) -> None:
    problem = transport_problem(text, ("wss", "https"))
    assert problem is None or problem.startswith("a wss:// or https:// URL")
