"""The local LiveKit server's config: the checked-in file, with the ports and webhooks asked for."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from meridian.contract import MIN_API_SECRET_LENGTH
from meridian.local.server import Ports, ServerError, local_config, server_binary


def test_the_checked_in_config_serves_loopback_only_with_a_long_enough_secret() -> None:
    config = local_config()
    rendered = config.render()
    assert rendered["bind_addresses"] == ["127.0.0.1"]
    assert rendered["rtc"]["node_ip"] == "127.0.0.1"
    assert rendered["rtc"]["use_external_ip"] is False
    assert len(config.api_secret) >= MIN_API_SECRET_LENGTH
    assert config.url == "ws://127.0.0.1:7880"


def test_a_port_range_is_rendered_as_the_ice_range() -> None:
    rtc = local_config().with_ports(Ports(9000, 9001, 50000, 50010)).render()["rtc"]
    assert (rtc["port_range_start"], rtc["port_range_end"], rtc["tcp_port"]) == (50000, 50010, 9001)


def test_one_udp_port_is_rendered_as_the_servers_udp_mux() -> None:
    rtc = local_config().with_ports(Ports(9000, 9001, 50005, 50005)).render()["rtc"]
    assert rtc["udp_port"] == 50005
    assert "port_range_start" not in rtc


def test_webhooks_are_signed_with_the_servers_own_key() -> None:
    config = dataclasses.replace(local_config(), webhook_urls=("http://127.0.0.1:8080/hook",))
    assert config.render()["webhook"] == {
        "api_key": config.api_key,
        "urls": ["http://127.0.0.1:8080/hook"],
    }


def test_a_missing_server_binary_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(ServerError, match=r"make test.*Go 1\.26\+"):
        server_binary({"LIVEKIT_SERVER_BIN": str(tmp_path / "nothing")})
