"""Which URL schemes an endpoint may use: TLS everywhere, and plain ws:// or http:// only on a
loopback address, so the same code runs against a local LiveKit server and never sends a token in
the clear across a network."""

from __future__ import annotations

import ipaddress
from typing import Final
from urllib.parse import urlsplit

# Each secure scheme and the plain one that loopback may use instead.
PLAIN_TWIN: Final = {"wss": "ws", "https": "http"}
LOOPBACK_NAMES: Final = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (a name that merely resolves there is not)."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def transport_problem(url: str, secure: tuple[str, ...]) -> str | None:
    """None when `url` uses one of the `secure` schemes, or its plain twin on a loopback host;
    otherwise what is allowed, as a phrase to follow "must be"."""
    allowed = " or ".join(f"{s}://" for s in secure)
    plain = [PLAIN_TWIN[s] for s in secure if s in PLAIN_TWIN]
    local = " or ".join(f"{s}://" for s in plain)
    article = "an" if secure[0].startswith("h") else "a"  # "an https://", "a wss://"
    expected = f"{article} {allowed} URL" + (
        f" ({local} only on a loopback address)" if plain else ""
    )
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return expected
    if not host or any(c.isspace() for c in url):
        return expected
    if parts.scheme in secure:
        return None
    if parts.scheme in plain:
        return None if is_loopback(host) else f"{expected}; {host} is not loopback"
    return expected
