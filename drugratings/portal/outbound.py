"""Webhook requests that cannot be aimed at our own network (server-side request forgery).

A webhook URL is checked when it is saved and again before every delivery, because the name's
DNS answer can change in between. Every address the name resolves to must be public; the
request then connects to that checked address itself (with the name kept for the Host header
and TLS), so a DNS answer that changes between check and connect cannot win. Redirects are
not followed, and what goes wrong on the way is never echoed to the customer in detail: a
connection error message would tell them which internal ports are open.

Written on the standard library: the PyPI SSRF guards (advocate and similar) are unmaintained
and wrap `requests`, which the product does not otherwise use.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from urllib.parse import urlsplit

from django.conf import settings

from drugratings.errors import InvalidInput

log = logging.getLogger(__name__)

IPAddress = IPv4Address | IPv6Address
MAX_URL_LENGTH = 200  # Webhook.url's column
FAILED = "delivery failed"
_NAT64 = ip_network("64:ff9b::/96")


class UnsafeTarget(Exception):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL: the Host header and the TLS server name
    port: int
    path: str  # path and query
    address: str  # the checked address the request connects to


def _embedded(address: IPAddress) -> list[IPAddress]:
    """IPv4 addresses carried inside an IPv6 one (mapped, 6to4, Teredo) reach that IPv4 host."""
    if not isinstance(address, IPv6Address):
        return []
    inner = [address.ipv4_mapped, address.sixtofour]
    if address in _NAT64:  # a NAT64 gateway connects to the IPv4 address in the last 32 bits
        inner.append(IPv4Address(int(address) & 0xFFFFFFFF))
    if address.teredo:
        inner.extend(address.teredo)
    return [a for a in inner if a is not None]


def _allowed_by_operator(address: IPAddress) -> bool:
    return any(address in network for network in settings.PORTAL_WEBHOOK_ALLOWED_NETWORKS)


def is_public(address: IPAddress) -> bool:
    """True if a webhook may connect to `address` (checked with every address it embeds)."""
    if _allowed_by_operator(address):
        return True
    for candidate in [address, *_embedded(address)]:
        if (
            candidate.is_loopback
            or candidate.is_private
            or candidate.is_link_local
            or candidate.is_multicast
            or candidate.is_reserved
            or candidate.is_unspecified
            or not candidate.is_global
        ):
            return False
    return True


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to for a TCP connection (tests replace this)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _parse(url: str) -> tuple[str, str, int, str]:
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput("url", f"Webhook URLs are at most {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput("url", "This is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (settings.PORTAL_WEBHOOK_ALLOW_HTTP and scheme == "http"):
        raise InvalidInput("url", "Webhook URLs must use https.")
    if not parts.hostname:
        raise InvalidInput("url", "The URL needs a host name.")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("url", "Put no user name or password in the URL; we sign each request.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80), path


def check(url: str) -> Target:
    """The URL's target, with a public address to connect to.

    Raises InvalidInput for a malformed URL and UnsafeTarget when the host is, or resolves to,
    an address that is not public (or does not resolve at all).
    """
    scheme, host, port, path = _parse(url)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        raise UnsafeTarget(host) from None
    parsed = []
    for raw in addresses:
        try:
            parsed.append(ip_address(raw.split("%", 1)[0]))
        except ValueError:
            raise UnsafeTarget(host) from None
    # All of them, not only the first: a name may answer a public and a private address.
    if not parsed or not all(is_public(a) for a in parsed):
        raise UnsafeTarget(host)
    return Target(scheme, host, port, path, str(parsed[0]))


def check_for_saving(url: str) -> str:
    """Validate a webhook URL a customer submits; the message says no more than 'not allowed'."""
    try:
        check(url)
    except UnsafeTarget:
        raise InvalidInput(
            "url",
            "This host is not allowed: it must resolve only to public internet addresses.",
        ) from None
    return url


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the host name, not the address we pinned.
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> str:
    """POST `body` to a webhook; returns a status for the customer: `HTTP <code>` on a 2xx,
    otherwise a short `delivery failed ...` without connection details."""
    try:
        target = check(url)
    except (UnsafeTarget, InvalidInput):
        log.warning("webhook %s refused: not a public address now", url)
        return f"{FAILED}: the host does not resolve to a public address"
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)  # a little of the body, so the connection closes cleanly
        status = response.status
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        log.warning("webhook %s failed: %s", url, exc)  # details for operators only
        return FAILED
    finally:
        connection.close()
    if 200 <= status < 300:
        return f"HTTP {status}"
    if 300 <= status < 400:
        return f"{FAILED}: HTTP {status} (redirects are not followed)"
    return f"{FAILED}: HTTP {status}"
