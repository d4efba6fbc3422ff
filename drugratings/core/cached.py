"""Documents built once and served as stored bytes, with a strong ETag and `304 Not Modified`.

A caller names a document by the parts its content depends on (for a drug: the drug, its
ratings version from `ratings.versions`, the current fit, the kind of viewer, the language).
The key is the version: nothing is ever invalidated in place, a write that changes the figures
bumps a part of the key, so no process (nor a second web server sharing the cache) can serve
bytes built before the write once the write has returned. The ETag is the key's digest, so a
`304` is answered without building or even fetching the document.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Final, TypeVar

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject, new_method_proxy
from django.utils.http import parse_etags

SECONDS: Final = 24 * 3600  # keys change on every write; this only bounds unused entries
T = TypeVar("T")


def digest(parts: Iterable[object]) -> str:
    """A stable, short name for a document's key parts (also its ETag)."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def etag_matches(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or etag in tags


def stored(
    name: str, parts: Iterable[object], build: Callable[[], T], *, seconds: int = SECONDS
) -> T:
    """The value under (name, parts), built and stored on a miss (any picklable value but
    None). `seconds` bounds how long a value whose key cannot see every change may live."""
    key = f"doc:{name}:{digest(parts)}"
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, seconds)
    return value


def stored_bytes(name: str, parts: Iterable[object], build: Callable[[], bytes]) -> bytes:
    """The bytes under (name, parts), built and stored on a miss."""
    return stored(name, parts, build)


def document_response(
    request: HttpRequest,
    name: str,
    parts: Iterable[object],
    build: Callable[[], bytes],
    *,
    content_type: str,
    vary: Iterable[str] = ("Authorization", "Cookie"),
) -> HttpResponse:
    """Serve the document named by `parts`: `304` when the client holds it, else stored bytes.

    Only for documents whose bytes depend on nothing but `parts` (no CSRF token, no per-user
    text unless the user is one of the parts). Errors raised by `build` propagate and are
    never stored.
    """
    parts = list(parts)
    etag = f'"{digest([name, *parts])}"'
    if etag_matches(request, etag):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(stored_bytes(name, parts, build), content_type=content_type)
    response["ETag"] = etag
    # Revalidate every time: the figures may change with any rating, and the check is cheap.
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, list(vary))
    return response


class _Deferred(SimpleLazyObject):
    # Numbers too: template filters such as `pluralize` call float() on their value.
    __int__ = new_method_proxy(int)
    __float__ = new_method_proxy(float)


def deferred(build: Callable[[], object]) -> object:
    """A value built only when a template first uses it, so a cached fragment skips the work."""
    return _Deferred(build)


def fragment_key(*parts: object) -> str:
    """One vary-on value for `{% cache %}` from the parts a page fragment depends on."""
    return digest(parts)
