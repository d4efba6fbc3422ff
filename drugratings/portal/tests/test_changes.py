"""What changed: the releases list, the change feed between two releases, release pinning on
pages and exports, and the change summary in stream events and webhook payloads."""

from __future__ import annotations

from datetime import UTC

from asgiref.sync import async_to_sync

from drugratings.api.portal import release_events
from drugratings.portal import actions
from drugratings.portal.changes import changes_between, n_cells_changed
from drugratings.portal.releases import build_release, versions_at
from drugratings.portal.tests.conftest import add_physicians, rate


def _three_releases(world):
    first = build_release()
    second = build_release()  # nothing new: no cell changes
    # A step rests on at least k = 11 physicians (issue 13): 12 new ones move the cells.
    for user in add_physicians(12, start=500):
        rate(user, world.catalog.atorvastatin, world.catalog.hyperlipidemia, 1)
    third = build_release()
    return first, second, third


def test_the_releases_list_pages_oldest_first_with_cells_changed(world, api_as):
    first, second, third = _three_releases(world)
    client = api_as(world.analyst)
    body = client.get("/api/v1/portal/releases", limit=2).json()
    assert [r["id"] for r in body["items"]] == [first.pk, second.pk]
    assert body["next"] == second.pk
    rest = client.get("/api/v1/portal/releases", after=body["next"], limit=2).json()
    assert [r["id"] for r in rest["items"]] == [third.pk] and rest["next"] is None
    counts = {r["id"]: r["n_cells_changed"] for r in body["items"] + rest["items"]}
    assert counts[second.pk] == 0
    assert counts[first.pk] == versions_at(first).count()
    # The stored count is in cells and agrees with the change feed.
    assert counts[third.pk] == n_cells_changed(third) > 0
    assert client.get("/api/v1/portal/releases", limit=0).status_code == 422
    assert client.get("/api/v1/portal/releases", limit=500).status_code == 422


def test_the_change_feed_lists_exactly_the_cells_whose_figures_differ(world, api_as):
    first, second, third = _three_releases(world)
    client = api_as(world.analyst)
    none = client.get("/api/v1/portal/changes", since=first.pk, until=second.pk).json()
    assert none == {"from_release": first.pk, "to_release": second.pk, "items": []}
    body = client.get("/api/v1/portal/changes", since=second.pk).json()
    assert body["to_release"] == third.pk
    items = body["items"]
    assert items and {i["drug_id"] for i in items} == {world.catalog.atorvastatin.pk}
    # Every listed item really differs, and every cell that differs is listed.
    before = {
        (v.level, v.indication_id, v.breakdown, v.breakdown_value): v.values
        for v in versions_at(second).filter(drug=world.catalog.atorvastatin)
    }
    after = {
        (v.level, v.indication_id, v.breakdown, v.breakdown_value): v.values
        for v in versions_at(third).filter(drug=world.catalog.atorvastatin)
    }
    differing = {
        (key[1], key[2], key[3], dim)
        for key in before.keys() | after.keys()
        for dim in ("efficacy", "safety", "tolerability", "accessibility", "adherence")
        if before.get(key, {}).get(dim) != after.get(key, {}).get(dim)
    }
    listed = {
        (i["indication_id"], i["breakdown"] or "none", i["breakdown_value"] or "", i["dimension"])
        for i in items
    }
    assert listed == differing
    moved = next(i for i in items if i["before"] and i["after"])
    assert moved["before"] != moved["after"]
    assert set(moved["after"]) == {"score", "ci_low", "ci_high", "n_raters"}
    newly = [i for i in items if i["before"] is None]
    assert all(i["after"]["n_raters"] >= 11 for i in newly)
    # since=0: everything the release publishes is new.
    # (A published cell lists only the dimensions whose noisy count reaches k: issue 13.)
    assert len(changes_between(None, first)) == sum(len(v.values) for v in versions_at(first))


def test_the_change_feed_is_limited_to_the_subscription_and_checks_its_input(world, api_as):
    first, _, third = _three_releases(world)
    outsider = api_as(world.outsider)
    assert outsider.get("/api/v1/portal/changes", since=first.pk).json()["items"] == []
    client = api_as(world.analyst)
    assert client.get("/api/v1/portal/changes").status_code == 422
    assert client.get("/api/v1/portal/changes", since=-1).status_code == 422
    missing = client.get("/api/v1/portal/changes", since=first.pk, until=999999)
    assert missing.status_code == 404 and "until" in missing.json()["detail"]
    backwards = client.get("/api/v1/portal/changes", since=third.pk, until=first.pk)
    assert backwards.status_code == 422 and "until" in str(backwards.json())


def test_stream_events_and_webhook_payloads_carry_the_change_summary(world):
    first, _, third = _three_releases(world)
    event = actions.release_event(third)
    assert event["release_id"] == third.pk
    assert event["n_cells_changed"] == third.n_cells_changed > 0
    assert event["changes_url"] == f"/api/v1/portal/changes?since={third.pk - 1}&until={third.pk}"

    async def drain() -> list[str]:
        return [event async for event in release_events(first.pk, seconds=0.01)]

    streamed = "".join(async_to_sync(drain)())
    assert f'"changes_url": "/api/v1/portal/changes?since={first.pk}&until={first.pk + 1}"' in (
        streamed
    )


def test_pages_and_exports_are_pinned_to_the_release_asked_for(world, web_as):
    first, _, third = _three_releases(world)
    client = web_as(world.analyst)
    indication = world.catalog.hyperlipidemia.pk
    page = client.get(f"/portal/indications/{indication}/", {"release": first.pk})
    assert page.status_code == 200
    assert page.context["report"].release.pk == first.pk
    assert f"release={first.pk}" in page.content.decode()
    old = client.get(f"/portal/indications/{indication}/export.csv", {"release": first.pk})
    new = client.get(f"/portal/indications/{indication}/export.csv")
    assert f"-r{first.pk}.csv" in old["Content-Disposition"]
    assert f"-r{third.pk}.csv" in new["Content-Disposition"]
    assert old.content != new.content
    again = client.get(f"/portal/indications/{indication}/export.csv", {"release": first.pk})
    assert again.content == old.content
    bad = client.get(f"/portal/indications/{indication}/", {"release": "abc"})
    assert bad.status_code == 400 and "release" in bad.content.decode().lower()
    assert client.get(f"/portal/indications/{indication}/", {"release": 99999}).status_code == 404
    # Beyond any possible id (h10b's bounds): a 400 naming the field, never a database error.
    huge = client.get(f"/portal/indications/{indication}/", {"release": 2**31})
    assert huge.status_code == 400 and "release" in huge.content.decode().lower()
    alerts = client.get("/portal/alerts/", {"since": "9" * 40})
    assert alerts.status_code == 200


def test_every_row_names_the_drug_brands_manufacturer_and_indication(world, api_as, web_as):
    build_release()
    client = api_as(world.analyst)
    body = client.get(f"/api/v1/portal/reports/drugs/{world.catalog.atorvastatin.pk}").json()
    per_indication = [c for c in body["cells"] if c["indication_id"]]
    assert per_indication
    assert {c["indication_name"] for c in per_indication} == {"Hyperlipidemia"}
    mine = next(c for c in body["cells"] if c["drug_id"] == world.catalog.atorvastatin.pk)
    assert mine["brand_names"] == ["LIPITOR"] and mine["manufacturer"] == "Pfizer"
    csv = client.get(
        f"/api/v1/portal/reports/drugs/{world.catalog.atorvastatin.pk}", format="csv"
    ).content.decode()
    header = csv.splitlines()[0].split(",")
    assert {"brand_names", "manufacturer", "indication_name"} <= set(header)
    assert "LIPITOR" in csv and "Hyperlipidemia" in csv
    page = web_as(world.analyst).get(f"/portal/drugs/{world.catalog.atorvastatin.pk}/")
    text = page.content.decode()
    assert "indication #" not in text and "for Hyperlipidemia" in text
    assert f"/portal/drugs/{world.catalog.rosuvastatin.pk}/" in text  # links to each scorecard


def test_portal_search_finds_drugs_classes_and_indications(world, api_as):
    client = api_as(world.analyst)

    def found(q):
        return client.get("/api/v1/portal/areas", q=q).json()["results"]

    lipitor = found("Lipitor")
    assert [d["id"] for d in lipitor["drugs"]] == [world.catalog.atorvastatin.pk]
    assert lipitor["drugs"][0]["brand_names"] == ["LIPITOR"] and lipitor["drugs"][0]["subscribed"]
    assert world.catalog.statins.pk in {c["id"] for c in lipitor["drug_classes"]}
    statin = found("statin")
    assert {d["id"] for d in statin["drugs"]} == {
        world.catalog.atorvastatin.pk,
        world.catalog.rosuvastatin.pk,
    }
    assert [d["id"] for d in found("sertraline")["drugs"]] == [world.catalog.sertraline.pk]
    assert found("sertraline")["drugs"][0]["subscribed"] is False  # not in this subscription
    assert [c["id"] for c in found("reductase")["drug_classes"]] == [world.catalog.statins.pk]
    assert [i["id"] for i in found("hyperlip")["indications"]] == [world.catalog.hyperlipidemia.pk]
    assert client.get("/api/v1/portal/areas").json()["results"] is None
    assert client.get("/api/v1/portal/areas", q="x" * 101).status_code == 422


def test_engagement_lists_completed_months_newest_first_with_no_gap_and_no_counts_below_k(world):
    from datetime import datetime

    from drugratings.portal.access import completed_months
    from drugratings.portal.models import Release

    release = Release(published_at=datetime(2025, 4, 10, tzinfo=UTC), privacy={"min_raters": 11})
    months = {
        "2024-12": {"month": "2024-12", "ratings": 30, "comments": 12, "page_views": 400},
        # 2025-01: nothing published (the skipped month)
        "2025-02": {"month": "2025-02", "ratings": 25, "comments": 3, "page_views": 2},
        "2025-03": {"month": "2025-03", "ratings": None, "comments": None, "page_views": 40},
        "2025-04": {"month": "2025-04", "ratings": 14, "comments": None, "page_views": 90},
    }
    rows = completed_months(months, release, 11)
    assert [r["month"] for r in rows] == ["2025-03", "2025-02", "2025-01", "2024-12"]
    assert rows[2] == {"month": "2025-01", "ratings": None, "comments": None, "page_views": None}
    feb = rows[1]
    assert feb["comments"] is None and feb["page_views"] is None and feb["ratings"] == 25
    assert rows[3]["page_views"] == 400
