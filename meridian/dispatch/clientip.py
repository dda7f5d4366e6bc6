"""Which address a request comes from, for rate limiting: only what the deployment vouches for.

Trusted, in order: Front Door's X-Azure-SocketIP when the Front Door check is on (a request without
the profile's X-Azure-FDID never gets this far); else, with `trusted_proxy_hops` N > 0, the Nth
X-Forwarded-For entry from the right (each trusted proxy appends one); else the socket peer.
Whatever is taken must parse as an IP address, or the socket peer is used instead.

X-Azure-SocketIP is the address of the TCP connection that reached Front Door. Microsoft documents
that X-Azure-ClientIP "might not be equal" to it "because the client IP can be arbitrarily
overwritten by a user" (it can come from the caller's own X-Forwarded-For), so keying on it would
give a caller a fresh bucket per request.
"""

from __future__ import annotations

import ipaddress

from multidict import CIMultiDictProxy

from meridian.contract import FRONT_DOOR_SOCKET_IP_HEADER

FORWARDED_FOR_HEADER = "X-Forwarded-For"
# The longest textual IPv6 address with an IPv4 tail is 45 characters; longer is not an address.
MAX_ADDRESS_LENGTH = 45


def parse_address(text: str) -> str | None:
    """The canonical form of an IP address (an IPv4 ``a.b.c.d:port`` or ``[v6]:port`` loses its
    port), or None if `text` is not one."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    if not text or len(text) > MAX_ADDRESS_LENGTH or not text.isascii():
        return None
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        return None


def client_address(
    headers: CIMultiDictProxy[str],
    peer: str | None,
    *,
    behind_front_door: bool,
    trusted_hops: int,
) -> str:
    """The rate-limit key of a request: a canonical IP address, or ``unknown`` without a peer."""
    fallback = (parse_address(peer) if peer else None) or "unknown"
    if behind_front_door:
        values = headers.getall(FRONT_DOOR_SOCKET_IP_HEADER, [])
        # Front Door sets exactly one; anything else was not written by it alone.
        return (parse_address(values[0]) if len(values) == 1 else None) or fallback
    if trusted_hops > 0:
        # Every header line counts: a proxy appending a second line must not let the first win.
        chain = [
            part
            for line in headers.getall(FORWARDED_FOR_HEADER, [])
            for part in (p.strip() for p in line.split(","))
            if part
        ]
        if len(chain) >= trusted_hops:
            return parse_address(chain[-trusted_hops]) or fallback
    return fallback
