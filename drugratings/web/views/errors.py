"""Error handlers: the API answers in its JSON error shape, pages with the site's templates.

Django calls these for errors raised outside a view's own handling (unknown URLs, malformed
multipart bodies, unhandled exceptions), so API clients never get an HTML page.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views import defaults

_API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(_API_PREFIX)


def _json(status: int, detail: str, field: str | None = None, message: str = "") -> JsonResponse:
    errors = [{"field": field, "message": message}] if field else []
    return JsonResponse({"detail": detail, "errors": errors}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        if isinstance(exception, MultiPartParserError):
            # e.g. multipart/form-data without a boundary: the body cannot be read at all.
            return _json(400, "Malformed multipart body.", "body", str(exception))
        return _json(400, "Bad request.", "body", "The request could not be read.")
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _json(403, "You do not have permission to do this.")
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _json(404, "Not found.")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _json(500, "Server error; it has been logged.")
    return defaults.server_error(request)
