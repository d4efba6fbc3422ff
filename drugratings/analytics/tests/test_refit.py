"""The analytics app feeds the engine, stores versioned scores and refits on a debounce."""

from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
import pytest
from django.db import connection
from django.utils import timezone

import ratingstats
from drugratings.accounts.actions import sync_specialties
from drugratings.analytics import jobs
from drugratings.analytics.actions import request_refit
from drugratings.analytics.fitting import (
    METHODOLOGY_VERSION,
    RATING_COLUMNS,
    _warm_start,
    fit_all,
    load_rating_arrays,
    prune_fits,
    refit_scores,
)
from drugratings.analytics.models import FitRun, RefitRequest, Score, Window
from drugratings.core.batches import read_integer_rows
from drugratings.ratings.dimensions import DIMENSION_NAMES
from drugratings.ratings.models import Rating
from drugratings.ratings.queries import scored_ratings
from drugratings.testing.personas import make_physician


@pytest.fixture
def leniency_world(small_catalog):
    """Severe raters rate atorvastatin, lenient ones rosuvastatin; the drugs are equally good.
    Everyone also rates sertraline, which reveals who is severe and who is lenient."""
    sync_specialties()  # a transactional test may run after a flush removed the migration's rows
    rng = random.Random(3)
    for n in range(60):
        severe = n < 30
        user = make_physician(f"r{n}@x.test")
        shift = -1 if severe else 1
        own = small_catalog.atorvastatin if severe else small_catalog.rosuvastatin
        indication = small_catalog.hyperlipidemia
        for drug, ind in ((own, indication), (small_catalog.sertraline, small_catalog.depression)):
            value = min(5, max(1, 3 + shift + rng.choice((-1, 0, 0, 1))))
            Rating.objects.create(
                physician=user.physician, drug=drug, indication=ind, efficacy=value, safety=value
            )
    return small_catalog


def test_a_refit_stores_versioned_scores_that_adjust_for_severe_and_lenient_raters(
    leniency_world, api_as
):
    fit = refit_scores()
    assert fit.is_current and fit.methodology_version == METHODOLOGY_VERSION
    assert Score.objects.filter(fit=fit, window=Window.ALL_TIME).exists()
    assert Score.objects.filter(fit=fit, window=Window.TRAILING_12M).exists()
    scores = {
        s.drug_id: s
        for s in Score.objects.filter(fit=fit, indication=None, dimension="efficacy", window="all")
    }
    atorva, rosuva = scores[leniency_world.atorvastatin.pk], scores[leniency_world.rosuvastatin.pk]
    naive = {
        d: sum(r.efficacy for r in Rating.objects.filter(drug=d)) / 30
        for d in (leniency_world.atorvastatin, leniency_world.rosuvastatin)
    }
    naive_gap = naive[leniency_world.rosuvastatin] - naive[leniency_world.atorvastatin]
    assert naive_gap > 1.5
    # Issue 14: published scores come from REML (was: method of moments, gap < naive / 3).
    # With two ratings per rater REML splits rater and residual variance more cautiously than
    # moments did (whose residual SD came out at 0.001 here), so the adjustment is smaller.
    assert fit.summary["all/efficacy/drug"]["method"] == "reml"
    assert abs(rosuva.estimate - atorva.estimate) < naive_gap / 2
    assert atorva.ci_low < atorva.estimate < atorva.ci_high and atorva.shown
    body = (
        api_as(make_physician("reader@x.test"))
        .get(f"/api/v1/drugs/{leniency_world.atorvastatin.pk}")
        .json()
    )
    efficacy = next(
        s for s in body["scores"] if s["dimension"] == "efficacy" and s["indication_id"] is None
    )
    assert efficacy["method"] == "adjusted" and efficacy["score"] == pytest.approx(
        atorva.estimate, abs=1e-3
    )


def test_a_second_refit_replaces_the_current_one(leniency_world):
    first = refit_scores()
    second = refit_scores()
    first.refresh_from_db()
    assert not first.is_current and second.is_current
    assert FitRun.objects.filter(is_current=True).count() == 1


def test_refits_wait_for_quiet_but_not_forever(db, settings):
    settings.REFIT_DEBOUNCE_SECONDS, settings.REFIT_MAX_DELAY_SECONDS = 10, 45
    now = timezone.now()
    assert not jobs.refit_due(now)
    request_refit("rating")
    assert not jobs.refit_due(timezone.now())  # still busy: wait for quiet
    assert jobs.refit_due(timezone.now() + timedelta(seconds=11))
    RefitRequest.objects.create(requested_at=now - timedelta(seconds=50), reason="old")
    request_refit("another")
    assert jobs.refit_due(timezone.now())  # the oldest waited past the maximum delay
    assert jobs.claim_refit(timezone.now() + timedelta(seconds=1)) == 3
    assert jobs.claim_refit(timezone.now() + timedelta(seconds=1)) == 0  # exactly one worker wins


def test_the_monthly_trend_is_rater_adjusted(leniency_world, api_as):
    refit_scores()
    points = (
        api_as(make_physician("reader@x.test"))
        .get(f"/api/v1/drugs/{leniency_world.sertraline.pk}/trend")
        .json()
    )
    efficacy = [p for p in points if p["dimension"] == "efficacy"]
    assert efficacy and efficacy[-1]["n_raters"] == 60
    assert efficacy[-1]["value"] == pytest.approx(3.0, abs=0.3)
    # Sertraline's raw mean is also about 3, so it alone cannot tell an adjusted trend from a
    # raw one; atorvastatin, rated only by severe raters (raw mean about 2), can.
    atorva = leniency_world.atorvastatin
    points = api_as(make_physician("reader2@x.test")).get(f"/api/v1/drugs/{atorva.pk}/trend").json()
    last = [p for p in points if p["dimension"] == "efficacy"][-1]
    raw = sum(r.efficacy for r in Rating.objects.filter(drug=atorva)) / 30
    assert last["n_raters"] == 30 and raw < 2.5
    # REML (issue 14) shrinks the rater effects of this two-ratings-per-rater world more than
    # the moments fit did, so the adjusted value lands near 2.7 rather than 3: still far above
    # the raw mean, which an unadjusted trend would show.
    assert last["value"] > raw + 0.4


def test_published_scores_are_the_reml_fit_an_auditor_reproduces(leniency_world):
    """Issue 14: the product's scores are `drugratings-stats fit` with no method flag."""
    import numpy as np

    from drugratings.analytics.fitting import load_rating_arrays

    fit = refit_scores()
    data = load_rating_arrays()
    keep = ~np.isnan(data.scores[:, 0])
    drugs, item = np.unique(data.drug[keep], return_inverse=True)
    _, rater = np.unique(data.physician[keep], return_inverse=True)
    _, group = np.unique(data.specialty[keep], return_inverse=True)
    cli = ratingstats.fit_crossed(item, rater, data.scores[keep, 0], group)  # CLI default
    assert cli.method == "reml"
    stored = {
        s.drug_id: s.estimate
        for s in Score.objects.filter(fit=fit, indication=None, dimension="efficacy", window="all")
    }
    for k, drug_id in enumerate(drugs.tolist()):
        assert stored[drug_id] == pytest.approx(cli.estimate[k], abs=1e-5)


def test_a_refit_starts_from_the_previous_components_and_lands_on_the_same_optimum(
    leniency_world,
):
    first = refit_scores()
    second = refit_scores()
    cold, warm = first.summary["all/efficacy/drug"], second.summary["all/efficacy/drug"]
    assert not cold["warm_start"] and warm["warm_start"]
    assert warm["reml_evaluations"] <= cold["reml_evaluations"]
    for key in ("sd_item", "sd_rater", "sd_residual", "mu"):
        assert warm[key] == pytest.approx(cold[key], rel=1e-4, abs=1e-6)


def test_the_current_fit_carries_public_diagnostics_per_dimension(leniency_world):
    from ratingstats.diagnostics import Diagnostics

    fit = refit_scores()
    assert set(fit.diagnostics) >= {"efficacy", "safety"}
    diag = Diagnostics.from_dict(fit.diagnostics["efficacy"])
    assert diag.method == "reml" and diag.converged
    assert diag.n_ratings == 120 and diag.n_items == 3 and diag.n_raters == 60
    assert [c.name for c in diag.components] == ["drug", "rater", "residual"]
    assert all(c.low is not None and c.low < c.sd < c.high for c in diag.components)
    # No histogram cell or shrinkage point below the display rule reaches the public page.
    assert all(c == 0 or c >= 10 for row in diag.counts for c in row)
    assert len(diag.shrink_n) == 3 and min(diag.shrink_n) >= 10


def test_the_method_can_be_overridden_for_the_benchmark(leniency_world):
    windows = {"all": load_rating_arrays()}
    assert {out.result.method for _, out in fit_all(windows, {})} == {"reml"}
    assert {out.result.method for _, out in fit_all(windows, {}, "moments")} == {"moments"}


def test_fits_in_parallel_processes_give_the_same_scores_and_ranks(leniency_world):
    """The refit's fits run in spawned processes (FIT_PROCESSES): the same numbers as in the
    worker itself, ranks included (each fit's draws have their own seed)."""
    windows = {"all": load_rating_arrays()}
    inline = fit_all(windows, {})
    tasks = [planned.task for planned, _ in inline]
    spawned = ratingstats.run_tasks(tasks, processes=2, min_ratings=0)
    assert len(spawned) == len(inline) > 1
    for (_, here), there in zip(inline, spawned, strict=True):
        np.testing.assert_array_equal(here.result.estimate, there.result.estimate)
        np.testing.assert_array_equal(here.result.se, there.result.se)
        np.testing.assert_array_equal(here.shown, there.shown)
        assert here.ranks == there.ranks
        if here.diagnostics is not None:  # all but the fit's own duration
            assert {**here.diagnostics, "seconds": 0} == {**there.diagnostics, "seconds": 0}
        assert (here.diagnostics is None) == (there.diagnostics is None)


@pytest.mark.django_db(transaction=True)
def test_a_refit_writes_in_short_transactions(leniency_world, monkeypatch):
    """On SQLite the worker holds the one write lock until it commits: scores go in batches so
    sign-ins and ratings never wait long, and the fit only becomes current at the end."""
    from django.db import connection

    from drugratings.analytics import fitting
    from drugratings.testing.transactions import rows_per_transaction

    if connection.vendor != "sqlite":
        pytest.skip("measures SQLite's BEGIN statements")
    monkeypatch.setattr(fitting, "WRITE_BATCH", 5)
    refit_scores()
    with rows_per_transaction() as sizes:
        fit = refit_scores()
    n_scores = Score.objects.filter(fit=fit).count()
    assert n_scores > 20
    assert sum(sizes) >= n_scores
    assert max(sizes) <= 5, sizes


def test_pruning_keeps_three_old_fits_and_drops_unfinished_ones(leniency_world, monkeypatch):
    from drugratings.analytics import fitting

    monkeypatch.setattr(fitting, "WRITE_BATCH", 7)
    fits = [refit_scores() for _ in range(3)]
    unfinished = FitRun.objects.create(methodology_version=METHODOLOGY_VERSION)
    Score.objects.bulk_create(
        [
            Score(
                fit=unfinished,
                drug=leniency_world.atorvastatin,
                dimension="efficacy",
                n_ratings=1,
                n_raters=1,
                shown=False,
            )
        ]
    )
    fits += [refit_scores() for _ in range(3)]
    kept = set(FitRun.objects.values_list("pk", flat=True))
    assert kept == {f.pk for f in fits[-4:]}
    assert not Score.objects.filter(fit_id__in=[fits[0].pk, fits[1].pk, unfinished.pk]).exists()
    assert set(Score.objects.values_list("fit_id", flat=True)) == kept


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the streamed read is PostgreSQL's")
def test_ratings_read_in_one_text_on_postgresql_equal_the_row_by_row_read(leniency_world):
    """The refit's read on PostgreSQL (`read_integer_rows`) gives what Django's rows give:
    no-opinion scores NaN, seconds of the update, every id."""
    Rating.objects.filter(pk__in=Rating.objects.values("pk")[:7]).update(safety=None)
    streamed = load_rating_arrays()
    rows = list(scored_ratings().values_list(*RATING_COLUMNS))
    assert len(rows) == streamed.drug.size == 120
    order = np.lexsort([streamed.indication, streamed.drug, streamed.physician])
    rows.sort(key=lambda r: (r[2], r[0], r[1]))
    for name, column in (("drug", 0), ("indication", 1), ("physician", 2), ("specialty", 3)):
        assert getattr(streamed, name)[order].tolist() == [r[column] for r in rows]
    expected = np.array([r[5:] for r in rows], dtype=float)
    assert np.isnan(expected[:, DIMENSION_NAMES.index("safety")]).sum() == 7
    assert np.array_equal(streamed.scores[order], expected, equal_nan=True)
    seconds = [int(r[4].timestamp()) for r in rows]
    assert streamed.updated[order].astype(np.int64).tolist() == seconds


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the streamed read is PostgreSQL's")
def test_integer_rows_refuse_a_null_instead_of_shifting_the_columns():
    assert read_integer_rows("SELECT 1 AS a, 2 AS b WHERE false", [], ["a", "b"]).shape == (0, 2)
    table = read_integer_rows(
        "SELECT g AS a, g * %s AS b FROM generate_series(1, 3) g", [10], ["a", "b"]
    )
    assert table.tolist() == [[1, 10], [2, 20], [3, 30]]
    with pytest.raises(ValueError, match="a NULL"):
        read_integer_rows("SELECT 1 AS a, NULL::int AS b", [], ["a", "b"])


@pytest.mark.django_db
def test_pruning_removes_old_and_unfinished_fits_with_their_scores_and_keeps_the_rest(
    small_catalog,
):
    """The current fit, and the `keep` newest finished ones before it, stay with every score;
    older fits and one that never finished go with all of theirs (one statement on
    PostgreSQL, short batches on SQLite)."""
    now = timezone.now()
    fits = [
        FitRun.objects.create(methodology_version=METHODOLOGY_VERSION, n_ratings=1, finished_at=at)
        for at in (now, now, None, now, now)
    ]
    fits[-1].is_current = True
    fits[-1].save()
    for fit in fits:
        Score.objects.bulk_create(
            Score(
                fit=fit,
                drug=small_catalog.atorvastatin,
                dimension=name,
                window=Window.ALL_TIME,
                n_ratings=1,
                n_raters=1,
                shown=False,
            )
            for name in DIMENSION_NAMES
        )
    prune_fits(keep=1)
    kept = [fits[3].pk, fits[4].pk]
    assert sorted(FitRun.objects.values_list("pk", flat=True)) == kept
    assert sorted(set(Score.objects.values_list("fit_id", flat=True))) == kept
    assert Score.objects.count() == 2 * len(DIMENSION_NAMES)


@pytest.mark.django_db
def test_a_refit_reuses_the_curvature_its_previous_fit_formed(leniency_world):
    """A cold fit stores the REML criterion's Hessian with the number of ratings it was formed
    on; the next refit of nearly the same ratings starts from it and needs 4 evaluations (8
    without), and carries the count over; the fits themselves agree."""
    first = refit_scores().summary
    formed = {k: v for k, v in first.items() if v["log_theta_hessian"] is not None}
    assert formed, first
    assert all(v["hessian_n"] == v["n"] for v in formed.values())
    second = refit_scores().summary
    for key, before in formed.items():
        after = second[key]
        assert after["warm_start"] and after["reml_evaluations"] <= 4, (key, after)
        assert after["log_theta_hessian"] == before["log_theta_hessian"]
        assert after["hessian_n"] == before["hessian_n"]
        assert after["sd_item"] == pytest.approx(before["sd_item"], rel=1e-5)
        assert after["sd_rater"] == pytest.approx(before["sd_rater"], rel=1e-5)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor == "postgresql", reason="checks the other databases")
def test_integer_rows_are_refused_outside_postgresql_and_the_refit_reads_rows(leniency_world):
    with pytest.raises(ValueError, match="needs PostgreSQL"):
        read_integer_rows("SELECT 1 AS a", [], ["a"])
    assert load_rating_arrays().drug.size == 120  # Django's rows on this database


@pytest.mark.parametrize(
    "stored",
    [None, [[1.0, 0.0]], [[1.0, "x"], [0.0, 1.0]], [[1.0, None], [0.0, 1.0]], [[1.0], [2.0, 3.0]]],
)
def test_a_stored_hessian_that_is_not_a_2x2_matrix_of_numbers_is_formed_again(stored):
    previous = {
        "method": "reml",
        "sd_item": 0.3,
        "sd_rater": 0.4,
        "sd_residual": 0.7,
        "log_theta_hessian": stored,
        "hessian_n": 1000,
    }
    assert _warm_start(previous, 1000) == ((0.3, 0.4, 0.7), None)


def test_a_stored_hessian_serves_until_the_ratings_move_by_two_percent():
    previous = {
        "method": "reml",
        "sd_item": 0.3,
        "sd_rater": 0.4,
        "sd_residual": 0.7,
        "log_theta_hessian": [[2.0, 0.1], [0.1, 3.0]],
        "hessian_n": 1000,
    }
    assert _warm_start(previous, 1020)[1].tolist() == [[2.0, 0.1], [0.1, 3.0]]
    assert _warm_start(previous, 1021)[1] is None
    assert _warm_start({**previous, "method": "moments"}, 1000) == (None, None)


def _stored_scores(fit: FitRun) -> list[tuple]:
    return sorted(
        Score.objects.filter(fit=fit).values_list(
            "drug_id", "indication_id", "dimension", "window", "estimate", "se", "rank", "p_best"
        ),
        key=repr,
    )


def test_a_refit_in_processes_stores_what_one_in_this_process_does(leniency_world, monkeypatch):
    """At scale the refit hands each fit to the processes as it plans it and writes each fit's
    scores as it finishes (in whatever order): the stored scores, summary and diagnostics
    are those of the one-by-one refit, in the same order."""
    monkeypatch.setattr(ratingstats.batch, "PARALLEL_MIN_RATINGS", 0)
    monkeypatch.setattr("django.conf.settings.FIT_PROCESSES", 2)
    spawned = refit_scores()
    FitRun.objects.filter(pk=spawned.pk).update(is_current=False)  # both start cold
    monkeypatch.setattr("django.conf.settings.FIT_PROCESSES", 1)
    inline = refit_scores()
    assert len(_stored_scores(spawned)) > 20
    assert _stored_scores(spawned) == _stored_scores(inline)
    assert list(spawned.summary) == list(inline.summary)
    assert sorted(spawned.diagnostics) == ["efficacy", "safety"]
    assert list(spawned.diagnostics) == list(inline.diagnostics)
