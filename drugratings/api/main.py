"""The v1 API object: authentication, routers and one error format for every failure.

Errors are `{"detail": "...", "errors": [{"field": ..., "message": ...}]}` with a 4xx status.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from drugratings.accounts.access import AccessDenied
from drugratings.api import accounts, catalog, portal, ratings
from drugratings.errors import Conflict, InvalidInput, Throttled

# Every operation can answer these with the error shape below; the document says so, so clients
# (and the schema fuzzer, `make fuzz`) can rely on the documented responses.
ERROR_STATUSES = {
    400: "Malformed request (e.g. a body that cannot be parsed)",
    401: "Not signed in",
    403: "Signed in, but not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflicts with the current state",
    413: "Request too large",
    415: "Unsupported content type",
    422: "Invalid input; `errors` names each field",
    429: "Too many requests; retry later",
}
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["detail", "errors"],
    "properties": {
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": ["string", "null"]},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


class DrugRatingsAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in ERROR_STATUSES.items():
                    responses.setdefault(status, {"description": description, "content": error})
        return schema


api = DrugRatingsAPI(
    title="Drug Ratings API",
    version="1",
    description=(
        "Peer ratings of prescription drugs by verified physicians, with rater-adjusted scores. "
        "Errors are `{detail, errors: [{field, message}]}` with a 4xx status."
    ),
    urls_namespace="api-v1",
)


def error_response(
    request: HttpRequest, status: int, detail: str, errors: list[dict[str, Any]] | None = None
) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


def _field_of(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "payload", "form")]
    return ".".join(parts) if parts else "body"


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = []
    for error in exc.errors:
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        errors.append({"field": _field_of(error.get("loc", ())), "message": message})
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return error_response(request, 422, f"Invalid input: {fields}", errors)


@api.exception_handler(InvalidInput)
def on_invalid_input(request: HttpRequest, exc: InvalidInput) -> HttpResponse:
    response = error_response(
        request,
        exc.status,
        f"Invalid input: {exc.field}",
        [{"field": exc.field, "message": exc.message}],
    )
    if isinstance(exc, Throttled):
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(AccessDenied)
def on_access_denied(request: HttpRequest, exc: AccessDenied) -> HttpResponse:
    return error_response(request, exc.status, str(exc))


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request, 401, "Sign in first: send 'Authorization: Bearer <token>' or use a session."
    )


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(request, exc.status_code, str(exc))


@api.exception_handler(Conflict)
def on_conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    return error_response(request, 409, str(exc))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, str(exc) or "Not found.")


def _register_routers() -> None:
    api.add_router("", accounts.router)
    api.add_router("", catalog.router)
    api.add_router("", ratings.router)
    api.add_router("", portal.router)


_register_routers()
