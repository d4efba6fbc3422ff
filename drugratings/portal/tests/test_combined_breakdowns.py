"""Combined breakdowns (specialty by month, region by specialty, region by month): published
cells have k physicians, and suppression covers the combined partition and both margins."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from drugratings.accounts.models import Specialty
from drugratings.portal.models import CellState, Level
from drugratings.portal.privacy.cells import (
    COMBINED,
    CellKey,
    breakdown_values,
    drug_cells,
    drug_indication_cells,
)
from drugratings.portal.privacy.policy import current_policy
from drugratings.portal.privacy.steps import cell_policy
from drugratings.portal.privacy.suppression import suppressed_cells
from drugratings.portal.releases import build_release, event_cost, versions_at
from drugratings.portal.reports.combined import combined_suppression
from drugratings.portal.tests.conftest import add_physicians, rate
from drugratings.ratings.models import Rating


def _spread_over_months(world, extra: int = 60, months_back: int = 2):
    """More physicians, their ratings spread over this month and the `months_back` before."""
    rng = random.Random(5)
    for user in add_physicians(extra, start=300):
        rate(user, world.catalog.atorvastatin, world.catalog.hyperlipidemia, rng.randint(2, 5))
        rate(user, world.catalog.rosuvastatin, world.catalog.hyperlipidemia, rng.randint(2, 5))
    now = timezone.now()
    first_of_month = now.replace(day=1, hour=12)
    months = [now, *(first_of_month - timedelta(days=1 + 31 * n) for n in range(months_back))]
    months[-1] = months[-1].replace(day=1)  # whole calendar months back, whatever today's date
    for rating in Rating.objects.order_by("pk"):
        Rating.objects.filter(pk=rating.pk).update(updated_at=rng.choice(months))


def _where(rating) -> dict[str, str]:
    single = {
        "specialty": str(rating.physician.specialty_id),
        "region": rating.physician.region,
        "month": rating.updated_at.strftime("%Y-%m"),
    }
    return {
        **single,
        **{name: f"{single[a]}|{single[b]}" for name, (a, b) in COMBINED.items()},
    }


def _true_raters() -> dict[CellKey, int]:
    members: dict[CellKey, set[int]] = defaultdict(set)
    for r in Rating.objects.select_related("physician"):
        where = _where(r)
        for level, indication in ((Level.DRUG_INDICATION, r.indication_id), (Level.DRUG, 0)):
            members[CellKey(level, r.drug_id, indication, "none", "")].add(r.physician_id)
            for breakdown, value in where.items():
                members[CellKey(level, r.drug_id, indication, breakdown, value)].add(r.physician_id)
    return {key: len(p) for key, p in members.items()}


def test_a_combined_breakdown_names_both_values_and_publishes_only_k_cells(world, api_as):
    _spread_over_months(world)
    release = build_release()
    client = api_as(world.analyst)
    k = current_policy().min_raters
    truth = _true_raters()
    specialty_ids = {s.name: str(s.pk) for s in Specialty.objects.all()}
    body = client.get(
        f"/api/v1/portal/reports/indications/{world.catalog.hyperlipidemia.pk}",
        breakdown="specialty,month",
    ).json()
    assert body["breakdown"] == "specialty,month"
    published = [c for c in body["cells"] if not c["suppressed"]]
    assert published, "some specialty-by-month cells reach k in this world"
    for cell in body["cells"]:
        assert set(cell["breakdown_value"]) == {"specialty", "month"}
    for cell in published:
        value = cell["breakdown_value"]
        key = CellKey(
            Level.DRUG_INDICATION,
            cell["drug_id"],
            cell["indication_id"],
            "specialty,month",
            f"{specialty_ids[value['specialty']]}|{value['month']}",
        )
        assert truth[key] >= k, cell
    # Newest month first, and every month from the first to the release's (none skipped).
    months = list(dict.fromkeys(c["breakdown_value"]["month"] for c in body["cells"]))
    assert months == sorted(months, reverse=True) and len(months) == 3
    assert months[0] == release.published_at.strftime("%Y-%m")
    csv = client.get(
        f"/api/v1/portal/reports/indications/{world.catalog.hyperlipidemia.pk}",
        breakdown="specialty,month",
        format="csv",
    ).content.decode()
    assert "specialty=Cardiology; month=" in csv or "specialty=" in csv
    assert (
        client.get(
            f"/api/v1/portal/reports/indications/{world.catalog.hyperlipidemia.pk}",
            breakdown="specialty,colour",
        ).status_code
        == 422
    )


def test_no_hidden_combined_cell_can_be_worked_out_from_either_margin(world):
    _spread_over_months(world)
    release = build_release()
    truth = _true_raters()
    published = {
        CellKey(v.level, v.drug_id, v.indication_id or 0, v.breakdown, v.breakdown_value)
        for v in versions_at(release)
    }
    lines = defaultdict(list)
    for key in truth:
        if key.breakdown in COMBINED:
            for margin in key.margins:
                lines[(margin, key.breakdown)].append(key)
    checked = hidden_somewhere = 0
    for (margin, _), cells in lines.items():
        hidden = [c for c in cells if c not in published]
        if margin in published:
            # margin - sum(published cells) determines a hidden cell only if it is alone.
            assert len(hidden) != 1, (margin, hidden)
            checked += 1
            hidden_somewhere += bool(hidden)
        else:
            assert not [c for c in cells if c in published], margin
    assert checked > 20 and hidden_somewhere > 0


def test_the_column_margin_is_enforced_not_only_the_row():
    """A 2x3 table where the row rule alone would leave a column with one hidden cell."""
    k = 11
    drug = 1

    def cell(breakdown, value):
        return CellKey(Level.DRUG, drug, 0, breakdown, value)

    raters = {cell("none", ""): 200}
    table = {("1", "2025-01"): 5, ("1", "2025-02"): 30, ("1", "2025-03"): 40}
    table |= {("2", "2025-01"): 30, ("2", "2025-02"): 50, ("2", "2025-03"): 12}
    for (s, m), n in table.items():
        raters[cell("specialty,month", f"{s}|{m}")] = n
    for s in ("1", "2"):
        raters[cell("specialty", s)] = sum(n for (a, _), n in table.items() if a == s)
    for m in ("2025-01", "2025-02", "2025-03"):
        raters[cell("month", m)] = sum(n for (_, b), n in table.items() if b == m)
    rows_only = suppressed_cells(raters, k)
    both = combined_suppression(raters, k, rows_only)
    hidden = {(c.value) for c in both if c.breakdown == "specialty,month"}
    # The rows rule hides (1, Jan) and its smallest row-sibling (1, Feb): column Jan then has
    # one hidden cell, which (2, Jan) must join; row 2 then needs a second one too.
    assert {"1|2025-01", "2|2025-01"} <= hidden
    for s in ("1", "2"):
        assert sum(1 for v in hidden if v.startswith(f"{s}|")) != 1
    for m in ("2025-01", "2025-02", "2025-03"):
        assert sum(1 for v in hidden if v.endswith(f"|{m}")) != 1


def test_the_report_page_answers_a_drug_by_month_among_one_specialty(world, web_as):
    # Month cells show once their month has closed, and the running month's hidden cell takes
    # a closed sibling with it (complementary suppression): three closed months leave lines.
    _spread_over_months(world, extra=240, months_back=3)
    release = build_release()
    cardiology = Specialty.objects.get(slug="cardiology")
    page = web_as(world.analyst).get(
        f"/portal/indications/{world.catalog.hyperlipidemia.pk}/",
        {"breakdown": "specialty,month", "dimension": "tolerability", "focus": cardiology.name},
    )
    assert page.status_code == 200
    panels = page.context["by_month"]
    assert panels["chosen"] == cardiology.name and cardiology.name in panels["with_data"]
    assert panels["months"] == sorted(panels["months"], reverse=True)
    assert [s["name"] for s in panels["series"]] == [
        "atorvastatin calcium",
        "rosuvastatin calcium",
    ]
    text = page.content.decode()
    assert 'class="lines"' in text and "polygon" in text  # lines with interval bands
    assert f"release={release.pk}" in text


def test_an_all_suppressed_report_says_why(world, api_as, web_as):
    from drugratings.testing.personas import make_pharma

    build_release()
    everything = make_pharma("all@areas.test", all_areas=True)
    path = f"/api/v1/portal/reports/drugs/{world.catalog.sertraline.pk}"
    body = api_as(everything).get(path).json()
    assert all(c["suppressed"] for c in body["cells"])
    assert "reached k = 11 physicians" in body["note"]
    page = web_as(everything).get(f"/portal/drugs/{world.catalog.sertraline.pk}/")
    assert "reached k = 11 physicians" in page.content.decode()
    atorvastatin = api_as(everything).get(
        f"/api/v1/portal/reports/drugs/{world.catalog.atorvastatin.pk}"
    )
    assert atorvastatin.json()["note"] is None


MONTH_BEARING = ("specialty,month", "region,month")


def test_month_bearing_combined_cells_show_only_closed_months_and_only_once(world):
    """Issue 13's month rule holds for specialty x month and region x month cells: nothing of
    the running month, and a closed month's cell is released once (later changes to that month
    never move it)."""
    _spread_over_months(world, extra=240, months_back=3)
    this_month = timezone.now().strftime("%Y-%m")
    first = build_release()
    shown = versions_at(first).filter(breakdown__in=MONTH_BEARING)
    assert shown.exists()
    assert all(v.breakdown_value.split("|")[1] < this_month for v in shown)
    assert (
        all(s.state.get("final") for s in CellState.objects.filter(key__contains="month:"))
        and CellState.objects.filter(key__contains=",month:").exists()
    )
    # Twelve more physicians rate in a month already released: its cells do not move (no new
    # noise draw; a cell may still appear if complementary suppression no longer needs it
    # hidden, with the value released the first time).
    released = {
        s.key: s.state
        for s in CellState.objects.filter(key__contains=",month:")
        if s.key.rsplit("|", 1)[1] < this_month
    }
    closed = sorted({v.breakdown_value.split("|")[1] for v in shown})[-1]
    when = timezone.make_aware(datetime.strptime(f"{closed}-15 12:00", "%Y-%m-%d %H:%M"))
    for user in add_physicians(12, start=900):
        rating = rate(user, world.catalog.atorvastatin, world.catalog.hyperlipidemia, 1)
        Rating.objects.filter(pk=rating.pk).update(updated_at=when)
    second = build_release()
    for key, state in released.items():
        assert CellState.objects.get(key=key).state == state
    before = {(v.level, v.drug_id, v.breakdown, v.breakdown_value): v.values for v in shown}
    for v in versions_at(second).filter(breakdown__in=MONTH_BEARING):
        key = (v.level, v.drug_id, v.breakdown, v.breakdown_value)
        assert key not in before or before[key] == v.values


def test_a_new_rating_with_every_combined_breakdown_stays_within_issue_13s_budget(world, settings):
    policy = current_policy()
    assert policy.region_specialty
    assert policy.rho_per_new_rating <= 30.5
    assert policy.rho_per_new_rating == pytest.approx(
        (3 * policy.levels + 3 + policy.levels / 4) * policy.rho_node_add
    )
    where = breakdown_values(1, "US-CA", "2025-03")
    keys = drug_indication_cells(1, 1, where) + drug_cells(1, where)
    # The ledger charges a new rating exactly the headline figure.
    assert event_cost({k.encode() for k in keys}, set(), policy) == pytest.approx(
        policy.rho_per_new_rating
    )
    by_region_specialty = next(k for k in keys if k.breakdown == "region,specialty")
    wide = cell_policy(by_region_specialty, policy)
    assert wide.count_noise == 2 * policy.count_noise and wide.sum_noise == 2 * policy.sum_noise
    assert cell_policy(keys[0], policy) is policy
    # Region x specialty switched off: its tree is neither charged nor published.
    settings.PORTAL_REGION_SPECIALTY = False
    off = current_policy()
    assert off.rho_per_new_rating == pytest.approx((3 * off.levels + 3) * off.rho_node_add)
    assert event_cost({k.encode() for k in keys}, set(), off) == pytest.approx(
        off.rho_per_new_rating
    )
    _spread_over_months(world, extra=120)
    release = build_release()
    assert versions_at(release).filter(breakdown="specialty").exists()
    assert not versions_at(release).filter(breakdown="region,specialty").exists()
