"""Every URL and API operation, requested as every role, gets the status the table allows.

The table must cover every route: adding a route without deciding who may use it fails
`test_the_table_covers_every_route`. Responses to anyone but a verifier must never contain
another user's real name, NPI or email.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from drugratings.api.main import api
from drugratings.conftest import ApiClient, browser_session
from drugratings.portal.models import Release
from drugratings.portal.releases import build_release
from drugratings.ratings.models import Comment, Rating
from drugratings.testing.catalog import SmallCatalog, make_small_catalog
from drugratings.testing.personas import Personas, make_personas
from drugratings.trust.actions import open_case
from drugratings.trust.models import QuarantineCase

ROLES = ("anonymous", "unverified", "pending", "verified", "pharma", "moderator")
EVERYONE = {role: {200} for role in ROLES}


@dataclass
class World:
    catalog: SmallCatalog
    personas: Personas
    rating: Rating
    comment: Comment
    other_comment: Comment
    release: Release
    case: QuarantineCase


@dataclass(frozen=True)
class Case:
    route: str  # URL name for pages, "METHOD /api/v1/path" for the API
    url: Callable[[World], str]
    allowed: dict[str, set[int]]
    method: str = "get"
    data: Callable[[World], dict] = field(default=lambda w: {})


def roles(default: set[int], **overrides: set[int]) -> dict[str, set[int]]:
    table = dict.fromkeys(ROLES, default)
    table.update(overrides)
    return table


LOGIN = {302}
DENIED = {403}
SIGNED_IN_ONLY = roles({200}, anonymous={401})
VERIFIED_WRITE_WEB = roles(DENIED, anonymous=LOGIN, verified={302})
VERIFIED_ONLY_WEB = roles(DENIED, anonymous=LOGIN, verified={200})
PHYSICIAN_WEB = roles({200}, anonymous=LOGIN, pharma=DENIED, moderator=DENIED)
PHARMA_ONLY_WEB = roles(DENIED, anonymous=LOGIN, pharma={200})
PHARMA_ONLY_API = roles(DENIED, anonymous={401}, pharma={200})
# Live figures (trends, comments: they move with a rating) for verified physicians and staff.
LIVE_ONLY_API = roles(DENIED, anonymous={401}, verified={200}, moderator={200})


def rating_body(w: World) -> dict:
    return {"indication_id": w.catalog.hyperlipidemia.pk, "efficacy": 3, "comment": "Fine."}


WEB_CASES = [
    Case("healthz", lambda w: "/healthz", EVERYONE),
    Case("home", lambda w: "/", EVERYONE),
    Case("manifest", lambda w: "/manifest.webmanifest", EVERYONE),
    Case("service_worker", lambda w: "/sw.js", EVERYONE),
    Case("offline", lambda w: "/offline/", EVERYONE),
    Case(
        "set_language",
        lambda w: "/i18n/setlang/",
        roles({302}),
        "post",
        lambda w: {"language": "de", "next": "/"},
    ),
    Case("methodology", lambda w: "/methodology/", EVERYONE),
    Case("search", lambda w: "/search/?q=lipitor", EVERYONE),
    Case("suggest", lambda w: "/search/suggest?q=lip", EVERYONE),
    Case("indication_suggest", lambda w: "/search/indications?q=hyper", EVERYONE),
    Case("drug", lambda w: "/drugs/atorvastatin-calcium/", EVERYONE),
    Case("indications", lambda w: "/indications/", EVERYONE),
    Case("indication", lambda w: "/indications/hyperlipidemia/", EVERYONE),
    Case("classes", lambda w: "/classes/", EVERYONE),
    Case("drug_class", lambda w: "/classes/statin/", EVERYONE),
    Case(
        "compare",
        lambda w: "/compare/?drugs=atorvastatin-calcium&drugs=rosuvastatin-calcium",
        EVERYONE,
    ),
    Case("rate", lambda w: "/drugs/atorvastatin-calcium/rate/", VERIFIED_ONLY_WEB),
    Case(
        "rate",
        lambda w: "/drugs/atorvastatin-calcium/rate/",
        VERIFIED_WRITE_WEB,
        "post",
        lambda w: {"indication": w.catalog.hyperlipidemia.pk, "efficacy": "2"},
    ),
    Case(
        "withdraw",
        lambda w: "/drugs/atorvastatin-calcium/withdraw/",
        VERIFIED_WRITE_WEB,
        "post",
        lambda w: {"indication": w.catalog.hyperlipidemia.pk, "confirm": "yes"},
    ),
    Case(
        "helpful", lambda w: f"/comments/{w.other_comment.pk}/helpful/", VERIFIED_WRITE_WEB, "post"
    ),
    Case(
        "flag",
        lambda w: f"/comments/{w.other_comment.pk}/flag/",
        VERIFIED_WRITE_WEB,
        "post",
        lambda w: {"reason": "off_topic"},
    ),
    Case("my_ratings", lambda w: "/me/ratings/", VERIFIED_ONLY_WEB),
    Case("saved", lambda w: "/me/saved/", PHYSICIAN_WEB),
    Case(
        "toggle_saved",
        lambda w: "/drugs/atorvastatin-calcium/save/",
        roles({302}, anonymous=LOGIN, pharma=DENIED, moderator=DENIED),
        "post",
    ),
    Case("notifications", lambda w: "/me/notifications/", PHYSICIAN_WEB),
    Case(
        "reply",
        lambda w: f"/comments/{w.other_comment.pk}/reply/",
        VERIFIED_WRITE_WEB,
        "post",
        lambda w: {"body": "Agreed, same in my practice.", "next": "/"},
    ),
    Case("moderation", lambda w: "/moderation/", roles(DENIED, anonymous=LOGIN, moderator={200})),
    Case(
        "moderate_comment",
        lambda w: f"/moderation/comments/{w.comment.pk}/",
        roles(DENIED, anonymous=LOGIN, moderator={302}),
        "post",
        lambda w: {"action": "approve"},
    ),
    Case(
        "catalog_report",
        lambda w: "/drugs/atorvastatin-calcium/report-error/",
        roles(DENIED, anonymous=LOGIN, verified={200}, moderator={200}),
    ),
    Case(
        "catalog_report",
        lambda w: "/drugs/atorvastatin-calcium/report-error/",
        roles(DENIED, anonymous=LOGIN, verified={302}, moderator={302}),
        "post",
        lambda w: {"kind": "other", "message": "The maker shown is a repackager."},
    ),
    Case(
        "catalog_queue",
        lambda w: "/moderation/catalogue/",
        roles(DENIED, anonymous=LOGIN, moderator={200}),
    ),
    Case(
        "catalog_resolve",
        lambda w: "/moderation/catalogue/999999/",
        roles(DENIED, anonymous=LOGIN, moderator={302}),
        "post",
        lambda w: {"decision": "dismiss"},
    ),
    Case("login", lambda w: "/accounts/login/", EVERYONE),
    Case("logout", lambda w: "/accounts/logout/", roles({302}), "post"),
    Case("two_factor", lambda w: "/accounts/two-factor/", roles({200}, anonymous=LOGIN)),
    Case("signup", lambda w: "/accounts/signup/", EVERYONE),
    Case("confirm_email", lambda w: "/accounts/confirm/not-a-real-token/", roles({400})),
    Case(
        "licence",
        lambda w: "/accounts/licence/",
        roles(DENIED, anonymous=LOGIN, unverified={200}, pending={200}),
    ),
    Case("account", lambda w: "/accounts/", roles({200}, anonymous=LOGIN)),
    Case("admin", lambda w: "/admin/", roles(LOGIN, moderator={200})),
    Case(
        "interests",
        lambda w: "/me/interests/",
        roles({200}, anonymous=LOGIN, pharma=DENIED, moderator=DENIED),
    ),
    Case(
        "interests",
        lambda w: "/me/interests/",
        roles({302}, anonymous=LOGIN, pharma=DENIED, moderator=DENIED),
        "post",
        lambda w: {"company": "Pfizer", "kind": "speaker", "starts_on": "2024-01-01"},
    ),
    Case(
        "quarantine",
        lambda w: "/moderation/quarantine/",
        roles(DENIED, anonymous=LOGIN, moderator={200}),
    ),
    Case(
        "quarantine_decide",
        lambda w: f"/moderation/quarantine/{w.case.pk}/",
        roles(DENIED, anonymous=LOGIN, moderator={302}),
        "post",
        lambda w: {"decision": "cleared", "reason": "fine"},
    ),
    Case("portal", lambda w: "/portal/", PHARMA_ONLY_WEB),
    Case("portal_keys", lambda w: "/portal/keys/", PHARMA_ONLY_WEB),
    Case(
        "portal_keys",
        lambda w: "/portal/keys/",
        PHARMA_ONLY_WEB,
        "post",
        lambda w: {"name": "x", "days": "30", "scopes": ["reports:read"]},
    ),
    Case("portal_webhooks", lambda w: "/portal/webhooks/", PHARMA_ONLY_WEB),
    Case(
        "portal_report",
        lambda w: f"/portal/indications/{w.catalog.hyperlipidemia.pk}/",
        PHARMA_ONLY_WEB,
    ),
    Case(
        "portal_export",
        lambda w: f"/portal/classes/{w.catalog.statins.pk}/export.csv",
        PHARMA_ONLY_WEB,
    ),
    Case("portal_alerts", lambda w: "/portal/alerts/", PHARMA_ONLY_WEB),
    Case("portal_releases", lambda w: "/portal/releases/", PHARMA_ONLY_WEB),
    Case("portal_account", lambda w: "/portal/account/", PHARMA_ONLY_WEB),
    # Only the organisation's admin; the matrix's pharma persona is a plain analyst.
    Case("portal_organisation", lambda w: "/portal/organisation/", roles(DENIED, anonymous=LOGIN)),
    Case(
        "portal_organisation_audit",
        lambda w: "/portal/organisation/audit.csv",
        roles(DENIED, anonymous=LOGIN),
    ),
    Case(
        "portal_quarterly",
        lambda w: "/portal/quarterly/999999.pdf",
        roles(DENIED, anonymous=LOGIN, pharma={404}),
    ),
    Case("portal_invite", lambda w: "/portal/invite/MQ/not-a-token/", roles({404})),
    Case("admin", lambda w: "/admin/verification/verificationcase/", roles(LOGIN, moderator={200})),
]

API_CASES = [
    Case(
        "POST /api/v1/auth/token",
        lambda w: "/api/v1/auth/token",
        roles({401}),
        "post",
        lambda w: {"email": "verified@doc.test", "password": "wrong"},
    ),
    Case(
        "DELETE /api/v1/auth/token",
        lambda w: "/api/v1/auth/token",
        roles({204}, anonymous={401}),
        "delete",
    ),
    Case(
        "POST /api/v1/physicians/register",
        lambda w: "/api/v1/physicians/register",
        roles({201}),
        "post",
        lambda w: {
            "email": "new@clinic.test",
            "password": "a-long-unusual-passphrase",
            "first_name": "New",
            "last_name": "Doctor",
            "specialty": "cardiology",
            "country": "FR",
        },
    ),
    Case("GET /api/v1/me", lambda w: "/api/v1/me", SIGNED_IN_ONLY),
    Case(
        "POST /api/v1/me/licence",
        lambda w: "/api/v1/me/licence",
        roles(DENIED, anonymous={401}, unverified={422}, pending={422}),
        "post",
        lambda w: {"license_number": "X-1", "license_body": "Board", "country": "FR"},
    ),
    Case("GET /api/v1/stats", lambda w: "/api/v1/stats", EVERYONE),
    Case("GET /api/v1/drugs", lambda w: "/api/v1/drugs?q=lipitor", SIGNED_IN_ONLY),
    Case(
        "GET /api/v1/drugs/{drug_id}",
        lambda w: f"/api/v1/drugs/{w.catalog.atorvastatin.pk}",
        SIGNED_IN_ONLY,
    ),
    Case(
        "GET /api/v1/drugs/{drug_id}/trend",
        lambda w: f"/api/v1/drugs/{w.catalog.atorvastatin.pk}/trend",
        LIVE_ONLY_API,
    ),
    Case("GET /api/v1/indications", lambda w: "/api/v1/indications", SIGNED_IN_ONLY),
    Case(
        "GET /api/v1/indications/{indication_id}",
        lambda w: f"/api/v1/indications/{w.catalog.hyperlipidemia.pk}",
        SIGNED_IN_ONLY,
    ),
    Case("GET /api/v1/drug-classes", lambda w: "/api/v1/drug-classes", SIGNED_IN_ONLY),
    Case(
        "GET /api/v1/drug-classes/{class_id}",
        lambda w: f"/api/v1/drug-classes/{w.catalog.statins.pk}",
        SIGNED_IN_ONLY,
    ),
    Case(
        "PUT /api/v1/drugs/{drug_id}/ratings/mine",
        lambda w: f"/api/v1/drugs/{w.catalog.atorvastatin.pk}/ratings/mine",
        roles(DENIED, anonymous={401}, verified={200}),
        "put",
        rating_body,
    ),
    Case(
        "DELETE /api/v1/drugs/{drug_id}/ratings/mine",
        lambda w: (
            f"/api/v1/drugs/{w.catalog.atorvastatin.pk}/ratings/mine"
            f"?indication_id={w.catalog.hyperlipidemia.pk}"
        ),
        roles(DENIED, anonymous={401}, verified={204}),
        "delete",
    ),
    Case(
        "GET /api/v1/me/ratings",
        lambda w: "/api/v1/me/ratings",
        roles(DENIED, anonymous={401}, verified={200}),
    ),
    Case(
        "GET /api/v1/drugs/{drug_id}/comments",
        lambda w: f"/api/v1/drugs/{w.catalog.atorvastatin.pk}/comments",
        LIVE_ONLY_API,
    ),
    Case(
        "POST /api/v1/comments/{comment_id}/helpful",
        lambda w: f"/api/v1/comments/{w.other_comment.pk}/helpful",
        roles(DENIED, anonymous={401}, verified={200}),
        "post",
    ),
    Case("GET /api/v1/portal/areas", lambda w: "/api/v1/portal/areas", PHARMA_ONLY_API),
    Case(
        "GET /api/v1/portal/releases/latest",
        lambda w: "/api/v1/portal/releases/latest",
        PHARMA_ONLY_API,
    ),
    Case(
        "GET /api/v1/portal/releases/{release_id}",
        lambda w: f"/api/v1/portal/releases/{w.release.pk}",
        PHARMA_ONLY_API,
    ),
    Case(
        "GET /api/v1/portal/reports/dictionary",
        lambda w: "/api/v1/portal/reports/dictionary",
        PHARMA_ONLY_API,
    ),
    Case(
        "GET /api/v1/portal/reports/indications/{indication_id}",
        lambda w: f"/api/v1/portal/reports/indications/{w.catalog.hyperlipidemia.pk}",
        PHARMA_ONLY_API,
    ),
    Case(
        "GET /api/v1/portal/reports/drug-classes/{class_id}",
        lambda w: f"/api/v1/portal/reports/drug-classes/{w.catalog.statins.pk}?format=xlsx",
        PHARMA_ONLY_API,
    ),
    Case(
        "GET /api/v1/portal/reports/drugs/{drug_id}",
        lambda w: f"/api/v1/portal/reports/drugs/{w.catalog.atorvastatin.pk}?breakdown=month",
        PHARMA_ONLY_API,
    ),
    Case("GET /api/v1/portal/stream", lambda w: "/api/v1/portal/stream", PHARMA_ONLY_API),
    Case("GET /api/v1/portal/releases", lambda w: "/api/v1/portal/releases", PHARMA_ONLY_API),
    Case("GET /api/v1/portal/changes", lambda w: "/api/v1/portal/changes?since=0", PHARMA_ONLY_API),
    Case("GET /api/v1/portal/portfolio", lambda w: "/api/v1/portal/portfolio", PHARMA_ONLY_API),
    Case("GET /api/v1/portal/alerts", lambda w: "/api/v1/portal/alerts", PHARMA_ONLY_API),
    Case(
        "POST /api/v1/drugs/{drug_id}/catalog-reports",
        lambda w: f"/api/v1/drugs/{w.catalog.atorvastatin.pk}/catalog-reports",
        roles(DENIED, anonymous={401}, verified={201}, moderator={201}),
        "post",
        lambda w: {"kind": "other", "message": "The maker shown is a repackager."},
    ),
    Case(
        "GET /api/v1/moderation/catalog-reports",
        lambda w: "/api/v1/moderation/catalog-reports",
        roles(DENIED, anonymous={401}, moderator={200}),
    ),
    Case(
        "POST /api/v1/moderation/catalog-reports/{report_id}/resolve",
        lambda w: "/api/v1/moderation/catalog-reports/999999/resolve",
        roles(DENIED, anonymous={401}, moderator={404}),
        "post",
        lambda w: {"decision": "dismiss"},
    ),
    Case(
        "POST /api/v1/comments/{comment_id}/flag",
        lambda w: f"/api/v1/comments/{w.other_comment.pk}/flag",
        roles(DENIED, anonymous={401}, verified={201}),
        "post",
        lambda w: {"reason": "other"},
    ),
]


def build_world() -> World:
    catalog = make_small_catalog()
    personas = make_personas()
    rating = Rating.objects.create(
        physician=personas.verified.physician,
        drug=catalog.atorvastatin,
        indication=catalog.hyperlipidemia,
        efficacy=4,
    )
    comment = Comment.objects.create(
        physician=personas.verified.physician,
        drug=catalog.atorvastatin,
        indication=catalog.hyperlipidemia,
        rating=rating,
        body="Held: MRN 12345678",
        status="held",
    )
    other_rating = Rating.objects.create(
        physician=personas.other_verified.physician,
        drug=catalog.atorvastatin,
        indication=catalog.hyperlipidemia,
        efficacy=2,
    )
    other_comment = Comment.objects.create(
        physician=personas.other_verified.physician,
        drug=catalog.atorvastatin,
        indication=catalog.hyperlipidemia,
        rating=other_rating,
        body="Myalgia is common.",
    )
    release = build_release()
    case = open_case("cohorts", 1.0, "test", [other_rating.pk], [other_rating.physician_id])
    return World(catalog, personas, rating, comment, other_comment, release, case)


def user_for(world: World, role: str):
    return None if role == "anonymous" else getattr(world.personas, role)


def secrets_of_others(world: World, role: str) -> list[str]:
    """Real names, NPIs and emails of every user other than the caller."""
    me = user_for(world, role)
    found = []
    for name in (
        "verified",
        "other_verified",
        "unverified",
        "pending",
        "rejected",
        "pharma",
        "moderator",
        "admin",
    ):
        user = getattr(world.personas, name)
        if me is not None and user.pk == me.pk:
            continue
        found.append(user.email)
        identity = getattr(getattr(user, "physician", None), "identity", None)
        if identity is not None:
            found += [identity.first_name, identity.last_name] + (
                [identity.npi] if identity.npi else []
            )
    return found


def request(world: World, role: str, case: Case):
    user = user_for(world, role)
    url, data = case.url(world), case.data(world)
    if case.route.startswith(("GET ", "POST ", "PUT ", "DELETE ")):
        client = ApiClient(user)
        if case.method == "get":
            return client.client.get(url, headers=client.headers)
        if case.route == "POST /api/v1/me/licence":
            return client.client.post(url, data, headers=client.headers)  # multipart form
        return getattr(client.client, case.method)(
            url, data, content_type="application/json", headers=client.headers
        )
    client = Client() if user is None else browser_session(user)
    return client.get(url) if case.method == "get" else client.post(url, data)


def _web_routes(patterns, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            text = str(pattern.pattern)
            if text.startswith("admin/"):
                names.add("admin")
            elif not text.startswith("api/"):
                names |= _web_routes(pattern.url_patterns, prefix + text)
        elif isinstance(pattern, URLPattern):
            names.add(pattern.name or str(pattern.pattern))
    return names


def test_the_table_covers_every_route():
    api_routes = {
        f"{method.upper()} {path}"
        for path, ops in api.get_openapi_schema()["paths"].items()
        for method in ops
    }
    routes = _web_routes(get_resolver().url_patterns) | api_routes
    covered = {case.route for case in WEB_CASES + API_CASES}
    assert routes - covered == set(), "routes without an access decision"
    assert covered - routes == set(), "table rows for routes that no longer exist"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", WEB_CASES + API_CASES, ids=lambda c: f"{c.method} {c.route}")
def test_each_role_gets_only_what_it_may(case: Case, role: str):
    world = build_world()
    response = request(world, role, case)
    assert response.status_code in case.allowed[role], (
        f"{role} {case.method.upper()} {case.url(world)} -> {response.status_code}"
    )
    if role != "moderator" and not getattr(response, "streaming", False):
        body = response.content.decode(errors="replace")
        for secret in secrets_of_others(world, role):
            # Whole tokens only: "verified@doc.test" is inside "unverified@doc.test".
            pattern = rf"(?<![\w.@+-]){re.escape(secret)}(?![\w@-])"
            assert not re.search(pattern, body), f"{role} saw {secret!r} at {case.url(world)}"


# Who sees live figures (counts, distributions, fresh scores, trends, sensitivity): verified
# physicians and staff. Pharma sees release values only; everyone else sees the catalogue alone.
LIVE_VIEWERS = {"verified", "moderator"}
FIGURE_ROUTES = {
    "drug": lambda w: f"/drugs/{w.catalog.atorvastatin.slug}/",
    "indication": lambda w: "/indications/hyperlipidemia/",
    "drug_class": lambda w: "/classes/statin/",
    "GET /api/v1/drugs/{drug_id}": lambda w: f"/api/v1/drugs/{w.catalog.atorvastatin.pk}",
    "GET /api/v1/indications/{indication_id}": (
        lambda w: f"/api/v1/indications/{w.catalog.hyperlipidemia.pk}"
    ),
    "GET /api/v1/drug-classes/{class_id}": lambda w: f"/api/v1/drug-classes/{w.catalog.statins.pk}",
}


def _figure_methods(route: str, response) -> list[str]:
    """The `method` of every score cell the response carries (page context or API body)."""
    if route.startswith("GET "):
        body = response.json()
        drugs = body.get("drugs", [body])
        return [s["method"] for d in drugs for s in d["scores"]]
    context = response.context
    if "sections" in context:
        return [c.method for s in context["sections"] for c in s.cells]
    return [c.method for row in context["rows"] for c in row["cells"]]


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
@pytest.mark.parametrize("route", FIGURE_ROUTES)
def test_only_verified_physicians_and_staff_see_live_figures(route: str, role: str):
    world = build_world()
    case = Case(route, FIGURE_ROUTES[route], EVERYONE)
    response = request(world, role, case)
    assert response.status_code == 200
    methods = _figure_methods(route, response)
    if role in LIVE_VIEWERS:
        assert methods and set(methods) <= {"adjusted", "mean"}, methods
    elif role == "pharma":
        assert set(methods) <= {"release"}, methods
    else:
        assert methods == [], methods
