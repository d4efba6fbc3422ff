"""Releases are immutable, incremental, budgeted and announced."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import BytesIO

import pandas as pd
import pyarrow.parquet as pq
from asgiref.sync import async_to_sync
from openpyxl import load_workbook

from drugratings.portal import actions
from drugratings.portal.jobs import run_release_if_due
from drugratings.portal.models import IncludedRating, LedgerEntry, PortalRequest, Release
from drugratings.portal.privacy.policy import current_policy
from drugratings.portal.releases import build_release, versions_at
from drugratings.portal.stream import release_events
from drugratings.portal.tests.conftest import add_physicians, rate


def atorvastatin_cell(world, release):
    return versions_at(release).get(
        level=1,
        drug=world.catalog.atorvastatin,
        indication=world.catalog.hyperlipidemia,
        breakdown="none",
    )


def test_a_release_is_an_immutable_snapshot_and_the_next_one_is_incremental(world):
    first = build_release()
    cell = atorvastatin_cell(world, first)
    assert first.n_events == IncludedRating.objects.count() > 60
    second = build_release()
    assert second.n_events == 0 and second.n_cells_changed == 0
    assert atorvastatin_cell(world, second).pk == cell.pk  # shared, unchanged version
    # Issue 13: a cell moves only on at least k physicians' changes (it used to move on 5).
    for user in add_physicians(6, start=500):
        rate(user, world.catalog.atorvastatin, world.catalog.hyperlipidemia, 1)
    unmoved = build_release()
    assert unmoved.n_events == 6 and unmoved.n_cells_changed == 0
    for user in add_physicians(5, start=600):
        rate(user, world.catalog.atorvastatin, world.catalog.hyperlipidemia, 1)
    third = build_release()
    assert third.n_events == 5 and third.n_cells_changed > 0
    assert third.privacy["steps"]["min_physicians"] >= 11
    new = atorvastatin_cell(world, third)
    assert new.pk != cell.pk
    assert atorvastatin_cell(world, first).pk == cell.pk  # the old release still reads the same
    assert new.values["efficacy"]["score"] != cell.values["efficacy"]["score"]


def test_quarantined_and_withdrawn_ratings_leave_the_next_release(world):
    build_release()
    before = IncludedRating.objects.count()
    rating = world.physicians[0].physician.ratings.first()
    rating.status = "quarantined"
    rating.save(update_fields=["status"])
    world.physicians[1].physician.ratings.first().delete()
    release = build_release()
    assert release.n_events == 2
    assert IncludedRating.objects.count() == before - 2


def test_every_included_change_is_charged_to_its_physician_within_the_budget(world, settings):
    release = build_release()
    charged = dict(LedgerEntry.objects.filter(release=release).values_list("physician_id", "rho"))
    assert set(charged) == {u.physician.pk for u in world.physicians}
    assert max(charged.values()) <= settings.PORTAL_RHO_BUDGET
    assert abs(release.privacy["max_physician_rho_365d"] - max(charged.values())) < 1e-2


def test_changes_over_a_physicians_budget_are_deferred(world, settings):
    budget = 1.5 * current_policy().rho_per_new_rating  # room for one new rating, not two
    settings.PORTAL_RHO_BUDGET = budget
    release = build_release()
    assert release.n_deferred > 0
    spent = LedgerEntry.objects.values_list("rho", flat=True)
    assert max(spent) <= budget


def test_the_release_job_runs_when_due_and_tells_webhooks_with_a_signature(world, settings):
    from ipaddress import ip_network

    # Webhooks may not reach loopback unless the operator allows it (test_webhook_targets.py).
    settings.PORTAL_WEBHOOK_ALLOWED_NETWORKS = (ip_network("127.0.0.1/32"),)
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["X-DrugRatings-Signature"], body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    hook, secret = actions.create_webhook(world.analyst, f"http://127.0.0.1:{server.server_port}/h")
    release = run_release_if_due()
    thread.join(timeout=10)
    server.server_close()
    assert release is not None and run_release_if_due() is None  # not due again yet
    signature, body = received[0]
    assert json.loads(body)["release"]["id"] == release.pk
    timestamp, mac = signature.split(",")
    expected = hmac.new(
        secret.encode(), f"{timestamp[2:]}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert mac == f"v1={expected}"
    hook.refresh_from_db()
    assert hook.last_release_sent == release


def test_the_stream_announces_new_releases(world):
    first = build_release()
    second = build_release()

    async def collect() -> list[str]:
        return [event async for event in release_events(after=first.pk, seconds=0.01)]

    events = async_to_sync(collect)()
    assert any(f"id: {second.pk}\nevent: release" in e for e in events)
    assert not any(f"id: {first.pk}\n" in e for e in events)


def test_exports_open_and_match_the_json(world, api_as):
    build_release()
    client = api_as(world.analyst)
    path = f"/api/v1/portal/reports/indications/{world.catalog.hyperlipidemia.pk}"
    cells = client.get(path).json()["cells"]
    published = [c for c in cells if not c["suppressed"]]
    assert published
    csv = pd.read_csv(BytesIO(client.get(path, format="csv").content))
    parquet = pq.read_table(BytesIO(client.get(path, format="parquet").content)).to_pandas()
    book = load_workbook(BytesIO(client.get(path, format="xlsx").content))
    assert book.sheetnames == ["cells", "data dictionary", "about"]
    rows = list(book["cells"].values)
    xlsx = pd.DataFrame(rows[1:], columns=rows[0])
    for frame in (csv, parquet, xlsx):
        assert len(frame) == len(cells)
        for cell, (_, row) in zip(cells, frame.iterrows(), strict=True):
            assert row["drug_id"] == cell["drug_id"] and row["dimension"] == cell["dimension"]
            if cell["score"] is None:
                assert pd.isna(row["score"])
            else:
                assert abs(row["score"] - cell["score"]) < 1e-9
            assert bool(row["suppressed"]) == cell["suppressed"]
    assert "description" in str(pq.read_schema(BytesIO(client.get(path, format="parquet").content)))


def test_every_pharma_request_is_audited_with_its_release(world, api_as):
    release = build_release()
    api_as(world.analyst).get(
        f"/api/v1/portal/reports/indications/{world.catalog.hyperlipidemia.pk}", breakdown="region"
    )
    api_as(world.outsider).get(
        f"/api/v1/portal/reports/indications/{world.catalog.hyperlipidemia.pk}"
    )
    logged = list(PortalRequest.objects.order_by("at"))
    assert [(r.user, r.status) for r in logged] == [(world.analyst, 200), (world.outsider, 403)]
    assert logged[0].release == release and logged[0].query == "breakdown=region"
    assert logged[0].organization == world.analyst.pharma_analyst.organization


def test_api_keys_have_scopes_expiry_and_revocation(world, client):
    _, secret = actions.create_api_key(world.analyst, "warehouse", 30, ["releases:read"])
    build_release()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/portal/releases/latest", headers=headers).status_code == 200
    report = client.get(
        f"/api/v1/portal/reports/indications/{world.catalog.hyperlipidemia.pk}", headers=headers
    )
    assert report.status_code == 403 and "reports:read" in report.json()["detail"]
    key = world.analyst.tokens.get(kind="api_key")
    actions.revoke_api_key(world.analyst, key.pk)
    assert client.get("/api/v1/portal/releases/latest", headers=headers).status_code == 401


def test_a_bad_breakdown_or_format_is_a_422_naming_it(world, api_as):
    build_release()
    client = api_as(world.analyst)
    path = f"/api/v1/portal/reports/indications/{world.catalog.hyperlipidemia.pk}"
    for params, field in (({"breakdown": "zodiac"}, "breakdown"), ({"format": "docx"}, "format")):
        response = client.get(path, **params)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field


def test_pharma_sees_release_values_not_live_figures_on_drug_pages(world, api_as):
    build_release()
    body = api_as(world.analyst).get(f"/api/v1/drugs/{world.catalog.atorvastatin.pk}").json()
    assert body["scores"] and all(s["method"] == "release" for s in body["scores"])
    assert all(s["distribution"] == [] for s in body["scores"])
    rate(
        add_physicians(1, start=900)[0], world.catalog.atorvastatin, world.catalog.hyperlipidemia, 1
    )
    again = api_as(world.analyst).get(f"/api/v1/drugs/{world.catalog.atorvastatin.pk}").json()
    assert again["scores"] == body["scores"]  # a new live rating changes nothing pharma sees
    assert Release.objects.count() == 1


def test_engagement_publishes_completed_months_only_and_suppresses_few_commenters(world, api_as):
    from datetime import timedelta

    from django.utils import timezone

    from drugratings.analytics.models import DrugViewDaily
    from drugratings.portal.models import EngagementVersion
    from drugratings.portal.privacy.engagement import ENGAGEMENT_NOISE
    from drugratings.ratings.models import Comment

    last_month = timezone.now().replace(day=1) - timedelta(days=3)
    # 24 commenters: well clear of k after noise, since published counts under k read as
    # suppressed (issue 13's count floor, applied to engagement by issue 15).
    for user in world.physicians[:24]:
        Comment.objects.create(
            physician=user.physician,
            drug=world.catalog.atorvastatin,
            body="Fine.",
            created_at=last_month,
        )
    for user in world.physicians[:3]:
        Comment.objects.create(
            physician=user.physician,
            drug=world.catalog.rosuvastatin,
            body="Fine.",
            created_at=last_month,
        )
    Comment.objects.create(
        physician=world.physicians[0].physician,
        drug=world.catalog.atorvastatin,
        body="This month: not yet published.",
    )
    DrugViewDaily.objects.create(drug=world.catalog.atorvastatin, day=last_month.date(), views=400)
    build_release()
    client = api_as(world.analyst)
    engagement = client.get(f"/api/v1/portal/reports/drugs/{world.catalog.atorvastatin.pk}").json()[
        "engagement"
    ]
    month = last_month.strftime("%Y-%m")
    rows = {e["month"]: e for e in engagement}
    row = rows[month]
    # The counts behind the noise are exact (this month's comment is not in last month's), and
    # the published figures are within 4 noise scales of them: 0 comments would fail.
    published = EngagementVersion.objects.get(drug=world.catalog.atorvastatin, month=month)
    assert (published.true_comments, published.true_views) == (24, 400)
    assert row["comments"] is not None and abs(row["comments"] - 24) < 4 * ENGAGEMENT_NOISE
    assert row["page_views"] is not None and abs(row["page_views"] - 400) < 4 * ENGAGEMENT_NOISE
    this_month = timezone.now().strftime("%Y-%m")
    # Not yet complete: the running month is not published (no row, or a row without figures).
    assert this_month not in rows or rows[this_month]["comments"] is None
    rosuvastatin = client.get(
        f"/api/v1/portal/reports/drugs/{world.catalog.rosuvastatin.pk}"
    ).json()
    rosu_row = {e["month"]: e for e in rosuvastatin["engagement"]}[month]
    assert rosu_row["comments"] is None  # 3 commenters < k
    rosu = EngagementVersion.objects.get(drug=world.catalog.rosuvastatin, month=month)
    assert rosu.true_comments == 3


def test_bad_key_and_webhook_forms_are_a_400_and_create_nothing(world, web_as):
    from drugratings.accounts.models import ApiToken
    from drugratings.portal.models import Webhook

    client = web_as(world.analyst)
    bad_days = client.post(
        "/portal/keys/", {"name": "x", "days": "abc", "scopes": ["reports:read"]}
    )
    no_scope = client.post("/portal/keys/", {"name": "x", "days": "30"})
    assert bad_days.status_code == 400 and no_scope.status_code == 400
    assert b"Choose from" in no_scope.content
    assert not ApiToken.objects.filter(kind="api_key").exists()
    bad_url = client.post("/portal/webhooks/", {"url": "ftp://example.com/hook"})
    assert bad_url.status_code == 400 and b"must use https" in bad_url.content
    assert not Webhook.objects.exists()


def test_engagement_charges_each_commenter_of_a_published_month_once(world):
    """Comment counts are taken by the database; the commenters of a month whose count is
    published are charged one engagement node each (two comments: still one commenter), and
    those of a suppressed month (3 < k commenters) nothing for it."""
    from collections import defaultdict
    from datetime import timedelta

    from django.utils import timezone

    from drugratings.analytics.fitting import METHODOLOGY_VERSION
    from drugratings.portal.models import Release
    from drugratings.portal.privacy.engagement import ENGAGEMENT_NOISE, update_engagement
    from drugratings.portal.privacy.noise import gaussian_rho
    from drugratings.portal.privacy.policy import current_policy
    from drugratings.ratings.models import Comment

    last_month = timezone.now().replace(day=1) - timedelta(days=3)
    commenters = [user.physician for user in world.physicians[:24]]
    for physician in [*commenters, commenters[0]]:
        Comment.objects.create(
            physician=physician,
            drug=world.catalog.atorvastatin,
            body="Fine.",
            created_at=last_month,
        )
    for physician in commenters[:3]:
        Comment.objects.create(
            physician=physician,
            drug=world.catalog.rosuvastatin,
            body="Fine.",
            created_at=last_month,
        )
    release = Release.all_objects.create(
        published_at=timezone.now(), methodology_version=METHODOLOGY_VERSION, complete=False
    )
    charges: defaultdict[int, float] = defaultdict(float)
    assert update_engagement(release, None, current_policy(), timezone.now(), charges) == 2
    rho = gaussian_rho(1.0, ENGAGEMENT_NOISE)
    assert dict(charges) == {physician.pk: rho for physician in commenters}
