"""The client's network address, for per-address limits (sign-in throttling, sign-up rate).

By default that is the socket's peer (REMOTE_ADDR): `X-Forwarded-For` is written by whoever
sends the request, so trusting it blindly would let a client pick its own address. Only when
the peer is one of `TRUSTED_PROXIES` do we read the header, from the right: each trusted proxy
appends the address it received the request from, so the right-most hop that is not one of our
proxies is the client. Never the proxy's own address: that would put every client behind it
into one bucket, and one attacker could lock everyone out.
"""

from __future__ import annotations

import logging
from ipaddress import IPv4Address, IPv6Address, ip_address

from django.conf import settings
from django.http import HttpRequest

log = logging.getLogger(__name__)


def _parse(raw: str) -> IPv4Address | IPv6Address | None:
    text = raw.strip().strip('"')
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.split(":", 1)[0]
    try:
        address = ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPv4Address | IPv6Address) -> bool:
    return any(address in network for network in settings.TRUSTED_PROXIES)


def client_address(request: HttpRequest) -> str | None:
    """The client's address as text, or None when it cannot be known."""
    peer = _parse(request.META.get("REMOTE_ADDR") or "")
    if peer is None:
        return None
    if not settings.TRUSTED_PROXIES or not _trusted(peer):
        return str(peer)
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for raw in reversed(hops):
        hop = _parse(raw)
        if hop is None:
            # Our proxy appends a valid address; anything else means it is misconfigured.
            log.warning("unparseable X-Forwarded-For hop %r behind a trusted proxy", raw)
            return None
        if not _trusted(hop):
            return str(hop)
    return None  # only our own proxies: no client address to go by
