"""Generated requests over the whole served OpenAPI document: no server errors, and every
response matches the documented schema (status codes, content types, bodies).

A short run (a few hundred cases) is part of `make test`; `make fuzz` runs 20,000+ cases.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from drugratings.accounts.actions import issue_token
from drugratings.wsgi import application

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
# Server errors and every conformance check of responses against the document. Not
# `positive_data_acceptance`: schema-valid input is still refused by rules the schema cannot
# state (an unknown id is a 404, a wrong password a 401, a drug not used for an indication 422).
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
CALLS: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def _count_calls():
    """Print how many generated requests ran (`make fuzz` checks the total)."""
    yield
    print(f"\nschemathesis: {len(CALLS)} generated requests over {len(set(CALLS))} operations")
    minimum = int(os.environ.get("FUZZ_MIN_CALLS", "0"))
    assert len(CALLS) >= minimum, f"only {len(CALLS)} generated requests, wanted {minimum}"


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """schemathesis calls the WSGI application directly, so Django's request signals run
    `close_old_connections` after each request, which closes the test's database connection
    (harmless on in-memory SQLite, fatal on PostgreSQL). Django's own test client disconnects
    it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def callers(personas, small_catalog, monkeypatch) -> dict[str, dict[str, str]]:
    """Headers of the three kinds of caller: anonymous, a physician's token, a pharma API key."""
    from drugratings.api import portal as portal_api
    from drugratings.portal.actions import create_api_key

    # The release stream stays open for minutes; here it ends after its first poll, so every
    # generated request to it still gets a complete (checked) answer.
    stream = portal_api.release_events
    monkeypatch.setattr(
        portal_api, "release_events", lambda after, seconds=0.0: stream(after, seconds)
    )

    _, token = issue_token(personas.verified)
    _, key = create_api_key(personas.pharma, "fuzz", 30, ["reports:read", "releases:read"])
    return {
        "anonymous": {},
        "physician": {"Authorization": f"Bearer {token}"},
        "pharma-key": {"Authorization": f"Bearer {key}"},
    }


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_never_errs_and_matches_its_schema(case, callers):
    for headers in callers.values():
        case.call_and_validate(headers=headers, checks=CHECKS)
        CALLS.append(f"{case.operation.method.upper()} {case.operation.path}")
