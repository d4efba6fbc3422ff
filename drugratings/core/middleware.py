"""Lets a web request read the replica (core/dbrouter.py), with a sticky window after writes."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from drugratings.core.dbrouter import request_reads

# A signed timestamp: the server enforces the window (a client cannot stretch it), and a forged
# cookie could only send its own reads to the primary.
STICKY_COOKIE = "dr_primary"
_SALT = "drugratings.core.replica-sticky"


def within_sticky_window(request: HttpRequest) -> bool:
    return (
        request.get_signed_cookie(
            STICKY_COOKIE,
            default=None,
            salt=_SALT,
            max_age=settings.DATABASE_REPLICA_STICKY_SECONDS,
        )
        is not None
    )


class ReplicaReadsMiddleware:
    """Marks each request as one that may read the replica, unless its client wrote within the
    last DATABASE_REPLICA_STICKY_SECONDS; a request that writes sets (or renews) that window, so
    the next page after a write is not read from a replica that has not caught up yet."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_reads(replica=not within_sticky_window(request)) as reads:
            response = self.get_response(request)
        if reads.wrote:
            response.set_signed_cookie(
                STICKY_COOKIE,
                "1",
                salt=_SALT,
                max_age=settings.DATABASE_REPLICA_STICKY_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
