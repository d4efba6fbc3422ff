"""Issue 13's release rules: every published movement rests on at least k physicians, no
published count is under k, drug-level cells are sums of drug x indication cells, a month is
published once when it has closed, and a new rating costs at most a quarter of the old rho."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone

from drugratings.portal.models import Breakdown, CellState, CellVersion, LedgerEntry, Level
from drugratings.portal.privacy.policy import PrivacyPolicy, current_policy
from drugratings.portal.privacy.publication import published_values
from drugratings.portal.releases import build_release, versions_at
from drugratings.portal.tests.conftest import add_physicians, rate
from drugratings.ratings.models import Rating

OLD_RHO_PER_RATING = 122.0  # 8 cells x 11 levels x replace-sensitivity nodes (count 3, sum 6)


def _snapshot(release) -> dict:
    return {
        (v.level, v.drug_id, v.indication_id, v.breakdown, v.breakdown_value): v.values
        for v in versions_at(release)
    }


def test_fewer_than_k_physicians_changes_publish_nothing(world):
    """Ten colluding physicians (k - 1) add ratings, one edits and one withdraws: no published
    value moves. The k-th physician's change lets the cells step, and the privacy block says
    what the steps rested on."""
    k = current_policy().min_raters
    catalog = world.catalog
    first = build_release()
    before = _snapshot(first)
    for user in add_physicians(k - 3, start=700):
        rate(user, catalog.atorvastatin, catalog.hyperlipidemia, 5)
    edited = Rating.objects.filter(physician=world.physicians[0].physician).first()
    edited.efficacy = 1 if edited.efficacy != 1 else 2
    edited.save(update_fields=["efficacy"])
    Rating.objects.filter(physician=world.physicians[1].physician).delete()
    held = build_release()
    assert held.n_events >= k - 1
    assert _snapshot(held) == before
    assert held.privacy["steps"]["count"] == 0
    rate(add_physicians(1, start=800)[0], catalog.atorvastatin, catalog.hyperlipidemia, 5)
    moved = build_release()
    assert _snapshot(moved) != before
    steps = moved.privacy["steps"]
    assert steps["count"] > 0 and steps["min_physicians"] >= k
    assert moved.privacy["min_physicians_per_step"] == k


def _with_closed_months(world) -> None:
    """Ratings from two closed months, so month breakdowns publish."""
    catalog = world.catalog
    now = timezone.now()
    for n, user in enumerate(add_physicians(30, start=900)):
        when = now - timedelta(days=40 if n % 2 else 75)
        rating = rate(user, catalog.rosuvastatin, catalog.hyperlipidemia, 1 + n % 5)
        Rating.objects.filter(pk=rating.pk).update(updated_at=when, created_at=when)


def test_no_published_cell_in_any_report_breakdown_or_export_shows_a_count_under_k(world, api_as):
    _with_closed_months(world)
    build_release()
    build_release()
    client = api_as(world.analyst)
    k = current_policy().min_raters
    c = world.catalog
    paths = [
        f"/api/v1/portal/reports/indications/{c.hyperlipidemia.pk}",
        f"/api/v1/portal/reports/drug-classes/{c.statins.pk}",
        f"/api/v1/portal/reports/drugs/{c.atorvastatin.pk}",
        f"/api/v1/portal/reports/drugs/{c.rosuvastatin.pk}",
    ]
    shown = 0
    months = 0
    for path in paths:
        for breakdown in ("none", "specialty", "region", "month"):
            body = client.get(path, breakdown=breakdown).json()
            for cell in body["cells"]:
                if cell["suppressed"]:
                    continue
                shown += 1
                months += breakdown == "month"
                assert cell["n_raters"] >= k, (path, breakdown, cell)
                assert not (cell["ci_low"] <= 1.0 and cell["ci_high"] >= 5.0), cell
            for entry in body["engagement"]:
                assert entry["ratings"] is None or entry["ratings"] >= k
            frame = pd.read_csv(
                BytesIO(client.get(path, breakdown=breakdown, format="csv").content)
            )
            counts = frame["n_raters"].dropna()
            assert (counts >= k).all(), (path, breakdown)
    assert shown > 50 and months > 0  # real published cells, closed months among them
    # And the pages pharma reads show the same floor.
    drug = client.get(f"/api/v1/drugs/{c.rosuvastatin.pk}").json()
    assert drug["scores"] and all(s["n_raters"] >= k for s in drug["scores"])


def test_a_noisy_count_under_k_or_a_1_to_5_interval_is_not_published():
    policy = current_policy()
    k = policy.min_raters
    # Counts, then sums: tolerability's noisy mean is below 1, adherence's interval is 1-5.
    values = np.array([k - 1, k + 30, 20, 300, 11, 0, 0, -45.0, 0, 0], dtype=float)
    published = published_values(values, policy.levels, policy)
    assert "efficacy" not in published  # noisy count under k
    assert published["safety"]["n_raters"] >= k
    assert "tolerability" not in published
    assert "adherence" not in published
    # A noisy mean that rounds to 5.000 reads as a real 5.00: not published either.
    near_end = np.array([300, 300, 300, 300, 300, 599.9999, 0, 0, 0, 0], dtype=float)
    assert "efficacy" not in published_values(near_end, policy.levels, policy)
    assert published["accessibility"]["score"] == 3.0


def test_drug_level_cells_are_sums_of_drug_by_indication_cells(world):
    for user in world.physicians[:20]:
        rate(user, world.catalog.atorvastatin, world.catalog.migraine, 4)
    release = build_release()
    assert not CellState.objects.filter(key__startswith=f"{Level.DRUG}:").exists()
    level1 = {
        s.key: s.state
        for s in CellState.objects.filter(drug_id=world.catalog.atorvastatin.pk)
        if s.key.endswith(":none:")
    }
    assert len(level1) == 2  # hyperlipidemia and migraine
    total = sum(np.sum([node[2] for node in st["nodes"]], axis=0) for st in level1.values())
    nodes = sum(len(st["nodes"]) for st in level1.values())
    drug_cell = versions_at(release).get(
        level=Level.DRUG, drug=world.catalog.atorvastatin, breakdown=Breakdown.NONE
    )
    assert drug_cell.values == published_values(total, nodes, current_policy())


def test_a_closed_month_is_published_once_and_the_running_month_not_at_all(world):
    _with_closed_months(world)
    first = build_release()
    month_cells = versions_at(first).filter(breakdown=Breakdown.MONTH)
    this_month = timezone.now().strftime("%Y-%m")
    assert month_cells.exists()
    assert not month_cells.filter(breakdown_value__gte=this_month).exists()
    published = {v.pk for v in month_cells}
    for user in add_physicians(12, start=1200):
        rating = rate(user, world.catalog.rosuvastatin, world.catalog.hyperlipidemia, 5)
        old = timezone.now() - timedelta(days=40)
        Rating.objects.filter(pk=rating.pk).update(updated_at=old, created_at=old)
    second = build_release()
    # Late arrivals in a published month do not republish it.
    assert {v.pk for v in versions_at(second).filter(breakdown=Breakdown.MONTH)} >= published
    assert not CellVersion.objects.filter(
        first_release=second, breakdown=Breakdown.MONTH, breakdown_value__lt=this_month
    ).exists()


def test_a_new_rating_costs_at_most_a_quarter_of_the_old_rho(world):
    policy = current_policy()
    old = PrivacyPolicy(
        min_raters=11,
        count_noise=3.0,
        sum_noise=6.0,
        max_steps=1024,
        min_batch=5,
        rho_budget=50000,
        within_cell_sd=1.0,
        leniency_shrinkage=5.0,
    )
    old_rho = 8 * old.levels * old.rho_node
    assert old_rho == pytest.approx(OLD_RHO_PER_RATING, abs=0.5)
    assert policy.rho_per_new_rating <= old_rho / 4
    assert policy.noise_sd_of_mean(300) <= old.noise_sd_of_mean(300)
    release = build_release()
    newcomer = add_physicians(1, start=1500)[0]
    rate(newcomer, world.catalog.sertraline, world.catalog.depression, 3)
    release = build_release()
    charged = LedgerEntry.objects.get(release=release, physician_id=newcomer.physician.pk).rho
    assert charged == pytest.approx(policy.rho_per_new_rating)


def test_a_month_is_published_at_the_first_release_after_it_closes(world):
    first = build_release()
    assert not versions_at(first).filter(breakdown=Breakdown.MONTH).exists()
    next_month = (timezone.now().replace(day=1) + timedelta(days=32)).replace(day=3)
    quiet = build_release(now=next_month)  # no rating changed: the closed month still publishes
    assert quiet.n_events == 0
    months = versions_at(quiet).filter(breakdown=Breakdown.MONTH)
    assert months.filter(drug=world.catalog.atorvastatin).exists()
    k = current_policy().min_raters
    assert all(v["n_raters"] >= k for cell in months for v in cell.values.values())


def test_published_cells_that_did_not_move_keep_their_version(world):
    """A change too small to step anything recomputes its drug's cells, but carries every
    published version over (the same pks), without computing their values again."""
    catalog = world.catalog
    first = build_release()
    before = set(versions_at(first).filter(drug=catalog.atorvastatin).values_list("pk", flat=True))
    assert before
    rate(add_physicians(1, start=950)[0], catalog.atorvastatin, catalog.hyperlipidemia, 4)
    second = build_release()
    assert second.n_events == 1 and second.privacy["steps"]["count"] == 0
    after = versions_at(second).filter(drug=catalog.atorvastatin).values_list("pk", flat=True)
    assert set(after) == before


def test_under_a_changed_policy_published_cells_are_computed_again(world, settings):
    """Carried versions rest on the policy they were published under: when it changes (here
    the sum's noise, so wide that every interval spans the scale), a recomputed drug's cells
    are computed again and leave the table."""
    catalog = world.catalog
    first = build_release()
    assert versions_at(first).filter(drug=catalog.atorvastatin).exists()
    rate(add_physicians(1, start=960)[0], catalog.atorvastatin, catalog.hyperlipidemia, 4)
    settings.PORTAL_SUM_NOISE = 1e6
    second = build_release()
    assert not versions_at(second).filter(drug=catalog.atorvastatin).exists()


def test_a_version_published_under_an_older_policy_is_computed_again(world, settings):
    """A drug untouched when the policy changed keeps its versions from before the change; the
    first later release that recomputes it computes them under the new policy, though the
    release just before it was built under that policy already."""
    catalog = world.catalog
    first = build_release()
    assert versions_at(first).filter(drug=catalog.atorvastatin).exists()
    settings.PORTAL_SUM_NOISE = 1e6
    rate(add_physicians(1, start=970)[0], catalog.sertraline, catalog.depression, 4)
    second = build_release()  # under the new policy, without atorvastatin
    assert versions_at(second).filter(drug=catalog.atorvastatin).exists()
    rate(add_physicians(1, start=971)[0], catalog.atorvastatin, catalog.hyperlipidemia, 4)
    third = build_release()
    assert not versions_at(third).filter(drug=catalog.atorvastatin).exists()
