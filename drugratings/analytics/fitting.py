"""Feed the statistics engine from the database and store its scores, stamped with a version.

Per dimension and window (all time, trailing 12 months) two fits run: items are drugs (scores
across indications) and drug x indication pairs (scores per indication). Rater specialty is the
fixed effect. Ranks are simulated among the shown drugs of an indication (pair fit) or of a
drug class (drug fit). The 20 fits run side by side in FIT_PROCESSES processes
(ratingstats.run_tasks); the database is read and written here, in the calling process only.
"""

from __future__ import annotations

import io
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

import ratingstats
from drugratings.accounts.models import Specialty
from drugratings.analytics.access import current_fit_id
from drugratings.analytics.display import MIN_RATERS_SHOWN
from drugratings.analytics.models import FitRun, Score, Window
from drugratings.analytics.windows import trailing_12m_start
from drugratings.catalog.models import Drug
from drugratings.core.batches import (
    copy_available,
    insert_in_batches,
    read_integer_rows,
    write_rows,
)
from drugratings.ratings.dimensions import DIMENSION_NAMES
from drugratings.ratings.queries import scored_ratings

log = logging.getLogger(__name__)

METHODOLOGY_VERSION = "1.2"
RANK_SEED = 20170101
# The published scores are the ones an auditor reproduces with `drugratings-stats fit` (issue
# 14): the same "auto" rule, i.e. exact REML up to ratingstats.REML_MAX items + specialties (any
# number of ratings) and the method of moments only above it (METHODOLOGY.md 2.3).  Each fit
# starts from the previous fit's components, so a refit after a few new ratings is cheap.
PRODUCT_METHOD = "auto"
RANK_DRAWS = 1000
# Rows per write transaction: a few tenths of a second on SQLite, so requests that write (sign-ins,
# ratings, audit rows) wait at most that long for the lock while the worker stores a fit.
WRITE_BATCH = 2000


@dataclass(frozen=True)
class RatingArrays:
    """Scored ratings as columns; scores use NaN for "no opinion"."""

    drug: np.ndarray
    indication: np.ndarray
    physician: np.ndarray
    specialty: np.ndarray
    scores: np.ndarray  # (n, 5)
    updated: np.ndarray  # datetime64[s], UTC

    def subset(self, mask: np.ndarray) -> RatingArrays:
        return RatingArrays(
            self.drug[mask],
            self.indication[mask],
            self.physician[mask],
            self.specialty[mask],
            self.scores[mask],
            self.updated[mask],
        )


RATING_COLUMNS = (
    "drug_id",
    "indication_id",
    "physician_id",
    "physician__specialty_id",
    "updated_at",
    *DIMENSION_NAMES,
)


def load_rating_arrays() -> RatingArrays:
    query = scored_ratings().values_list(*RATING_COLUMNS)
    if copy_available():
        return _streamed_rating_arrays(query)
    rows = list(query)
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return RatingArrays(
            empty, empty, empty, empty, np.zeros((0, 5)), np.zeros(0, dtype="datetime64[s]")
        )
    columns = list(zip(*rows, strict=True))
    scores = np.array(columns[5:], dtype=float).T  # None -> nan
    updated = np.array([int(t.timestamp()) for t in columns[4]], dtype="datetime64[s]")
    return RatingArrays(
        drug=np.asarray(columns[0], dtype=np.int64),
        indication=np.asarray(columns[1], dtype=np.int64),
        physician=np.asarray(columns[2], dtype=np.int64),
        specialty=np.asarray(columns[3], dtype=np.int64),
        scores=scores,
        updated=updated,
    )


def _streamed_rating_arrays(query) -> RatingArrays:
    """`load_rating_arrays` on PostgreSQL: the same query as integers (seconds since the epoch,
    0 for no opinion) read into one array, with no Python object per value."""
    sql, params = query.query.sql_with_params()
    names = [connection.ops.quote_name(name) for name in RATING_COLUMNS]
    ids, updated, scores = names[:4], names[4], names[5:]
    outer = ", ".join(
        [
            *(f"{name} AS c{n}" for n, name in enumerate(ids)),
            f"floor(extract(epoch from {updated}))::bigint AS c4",
            *(f"coalesce({score}, 0) AS c{5 + n}" for n, score in enumerate(scores)),
        ]
    )
    columns = [f"c{n}" for n in range(len(names))]
    table = read_integer_rows(f"SELECT {outer} FROM ({sql}) AS rated", params, columns)
    given = table[:, 5:].astype(float)
    return RatingArrays(
        drug=table[:, 0].copy(),
        indication=table[:, 1].copy(),
        physician=table[:, 2].copy(),
        specialty=table[:, 3].copy(),
        scores=np.where(given > 0, given, np.nan),  # scores run from 1; 0 was NULL
        updated=table[:, 4].astype("datetime64[s]"),
    )


@dataclass
class _CellKey:
    drug_id: int
    indication_id: int | None


#: Largest id `_codes` looks up in a table rather than sorting (a table of this many bytes).
CODE_TABLE_MAX = 50_000_000


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values in ascending order and each value's index among them, as
    `np.unique(values, return_inverse=True)` gives, for non-negative integer ids. Ids are
    bounded, so a presence table replaces the sort: the refit codes 2.5 M ratings 60 times
    before its first fit starts, and the sorts took 25 s of it at ten times launch."""
    top = int(values.max()) if values.size else -1
    if values.size == 0 or top > CODE_TABLE_MAX or int(values.min()) < 0:
        uniques, codes = np.unique(values, return_inverse=True)
        return uniques, codes.astype(np.int64)
    present = np.zeros(top + 1, dtype=bool)
    present[values] = True
    code_of = np.cumsum(present, dtype=np.int64) - 1
    return np.flatnonzero(present), code_of[values]


#: Fewer ratings of a dimension than this in a window: no fit of it.
MIN_FIT_RATINGS = 3


@dataclass(frozen=True)
class _PlannedFit:
    """One of the refit's fits: where its scores go, and the engine's task."""

    index: int  # place in the plan order (windows, dimensions, drug then pair level)
    key: str  # "<window>/<dimension>/<drug|drug_indication>", as in FitRun.summary
    window: str
    dim: int
    keys: list[tuple[int, int | None]]  # (drug, indication or None) per item code
    task: ratingstats.FitTask


def _item_codes(d: RatingArrays, by_indication: bool) -> tuple[list, np.ndarray]:
    if by_indication:
        # Pairs coded through the drug and indication codes (a key bounded by their counts),
        # in (drug, indication) order.
        drugs, drug_code = _codes(d.drug)
        indications, indication_code = _codes(d.indication)
        width = max(indications.size, 1)
        uniques, item = _codes(drug_code * width + indication_code)
        return [
            (int(drugs[v // width]), int(indications[v % width])) for v in uniques.tolist()
        ], item
    uniques, item = _codes(d.drug)
    return [(int(v), None) for v in uniques], item


#: A stored REML Hessian (log theta) serves the next warm starts until the fit's number of
#: ratings has moved this much from the one it was formed on; then it is formed again.
HESSIAN_REUSE_SHARE = 0.02


def _warm_start(
    previous: dict | None, n: int
) -> tuple[tuple[float, float, float] | None, np.ndarray | None]:
    """The previous REML fit's components, the starting point of this one (issue 14), and the
    Hessian it formed if that was on nearly as many ratings (`n`)."""
    if not previous or previous.get("method") != "reml":
        return None, None
    try:
        start = (
            float(previous["sd_item"]),
            float(previous["sd_rater"]),
            float(previous["sd_residual"]),
        )
    except (KeyError, TypeError, ValueError):
        return None, None
    stored, formed_on = previous.get("log_theta_hessian"), previous.get("hessian_n")
    if stored is None or not formed_on or abs(n - formed_on) > HESSIAN_REUSE_SHARE * formed_on:
        return start, None
    try:
        hessian = np.array(stored, dtype=float)
    except (TypeError, ValueError):  # not a matrix of numbers: formed again
        return start, None
    usable = hessian.shape == (2, 2) and np.all(np.isfinite(hessian))
    return start, hessian if usable else None


@dataclass(frozen=True)
class _FitContext:
    class_of: dict[int, int | None]
    previous: dict  # the current FitRun's summary (warm starts)
    specialty_names: dict[int, str]
    method: str = PRODUCT_METHOD


def _plan_fit(
    data: RatingArrays,
    window: str,
    dim: int,
    by_indication: bool,
    context: _FitContext,
    index: int,
) -> _PlannedFit:
    """The task of one dimension at one level and window (at least MIN_FIT_RATINGS ratings).
    Ranks (all-time fits) are among the shown items of an indication (pair fits) or a drug
    class (drug fits); the all-time drug fit of each dimension also produces the public
    diagnostics."""
    y = data.scores[:, dim]
    keep = ~np.isnan(y)
    d = data.subset(keep)
    keys, item = _item_codes(d, by_indication)
    _, rater = _codes(d.physician)
    specialties, group = _codes(d.specialty)
    name = DIMENSION_NAMES[dim]
    key = f"{window}/{name}/{'drug_indication' if by_indication else 'drug'}"
    all_time = window == Window.ALL_TIME
    rank_group = None
    if all_time:
        of_item = [ind if by_indication else context.class_of.get(drug) for drug, ind in keys]
        rank_group = np.array([-1 if g is None else g for g in of_item], dtype=np.int64)
    diagnose = all_time and not by_indication
    start, start_hessian = _warm_start(context.previous.get(key), int(keep.sum()))
    task = ratingstats.FitTask(
        item=item,
        rater=rater,
        score=y[keep],
        group=group,
        start=start,
        start_hessian=start_hessian,
        # A cold fit forms the criterion's curvature (6 evaluations) for the warm refits after
        # it; the diagnosed fits publish its intervals.
        intervals=diagnose or start is None,
        method=context.method,
        rank_group=rank_group,
        rank_draws=RANK_DRAWS,
        seed=(RANK_SEED, index),
        min_raters=MIN_RATERS_SHOWN,
        diagnostics_label=name.capitalize() if diagnose else None,
        group_labels=[context.specialty_names.get(int(pk), f"specialty {pk}") for pk in specialties]
        if diagnose
        else None,
    )
    return _PlannedFit(index, key, window, dim, keys, task)


def fit_all(
    windows: dict[str, RatingArrays],
    previous: dict,
    method: str = PRODUCT_METHOD,
    processes: int = 1,
) -> list[tuple[_PlannedFit, ratingstats.TaskResult]]:
    """Every fit of a refit (dimensions x windows x drug/pair level), run side by side in
    ``processes`` processes, in plan order. ``method`` is overridden only by the benchmark."""
    ratings = sum(subset.drug.size for subset in windows.values())
    with ratingstats.TaskPool(_fit_processes(ratings, processes)) as pool:
        pool.start()
        fitted = list(iter_fits(windows, previous, pool, method))
    return sorted(fitted, key=lambda pair: pair[0].index)


def iter_fits(
    windows: dict[str, RatingArrays],
    previous: dict,
    pool: ratingstats.TaskPool,
    method: str = PRODUCT_METHOD,
) -> Iterator[tuple[_PlannedFit, ratingstats.TaskResult]]:
    """Plan every fit and hand each to ``pool`` as soon as it is planned, longest first (pair
    fits, all-time window first), so the processes start fitting while the rest is planned;
    yields each fit with its result as it finishes. A fit's index (and so its rank draws'
    seed) is its place in the plan order, whatever order it runs in."""
    context = _FitContext(
        class_of=dict(Drug.objects.values_list("pk", "drug_class_id")),
        previous=previous,
        specialty_names=dict(Specialty.objects.values_list("pk", "name")),
        method=method,
    )
    specs = []  # (window, dim, by_indication) of each fit, in plan order
    for window, subset in windows.items():
        for dim in range(len(DIMENSION_NAMES)):
            if np.count_nonzero(~np.isnan(subset.scores[:, dim])) >= MIN_FIT_RATINGS:
                specs += [(window, dim, False), (window, dim, True)]
    windows_order = list(windows)
    run_order = sorted(
        range(len(specs)),
        key=lambda n: (not specs[n][2], windows_order.index(specs[n][0]), specs[n][1]),
    )
    submitted: dict[int, _PlannedFit] = {}
    for index in run_order:
        window, dim, by_indication = specs[index]
        planned = _plan_fit(windows[window], window, dim, by_indication, context, index)
        submitted[pool.submit(planned.task)] = planned
    for position, outcome in pool.results():
        yield submitted[position], outcome


def _score_rows(
    fit_run: FitRun, planned: _PlannedFit, outcome: ratingstats.TaskResult
) -> list[Score]:
    result, ranks = outcome.result, outcome.ranks
    dimension = DIMENSION_NAMES[planned.dim]
    rows = []
    for code, (drug_id, indication_id) in enumerate(planned.keys):
        rank = ranks.get(code)
        rows.append(
            Score(
                fit=fit_run,
                drug_id=drug_id,
                indication_id=indication_id,
                dimension=dimension,
                window=planned.window,
                estimate=float(result.estimate[code]),
                ci_low=float(result.ci_low[code]),
                ci_high=float(result.ci_high[code]),
                se=float(result.se[code]),
                n_ratings=int(result.n_ratings[code]),
                n_raters=int(result.n_raters[code]),
                shown=bool(outcome.shown[code]),
                rank=rank[0] if rank else None,
                rank_low=rank[1] if rank else None,
                rank_high=rank[2] if rank else None,
                rank_of=rank[3] if rank else None,
                p_best=rank[4] if rank else None,
                best_in_group=rank[5] if rank else False,
            )
        )
    return rows


def _fit_summary(result: ratingstats.FitResult, task: ratingstats.FitTask, previous: dict) -> dict:
    """What the methodology page and the next refit read of a fit. The REML Hessian is kept
    with the number of ratings it was formed on (carried over while warm starts reuse it)."""
    hessian = result.log_theta_hessian
    reused = task.start_hessian is not None and np.array_equal(hessian, task.start_hessian)
    formed = bool(np.all(np.isfinite(hessian)))
    return {
        "log_theta_hessian": hessian.tolist() if formed else None,
        "hessian_n": (previous.get("hessian_n") if reused else result.n) if formed else None,
        "n": result.n,
        "mu": result.mu,
        "sd_item": result.sd_item,
        "sd_rater": result.sd_rater,
        "sd_residual": result.sd_residual,
        "method": result.method,
        "cov_method": result.cov_method,
        "converged": result.converged,
        "reml_evaluations": result.reml_evaluations,
        "warm_start": result.warm_start,
        "seconds": round(result.seconds, 3),
    }


def _effects_blob(data: RatingArrays, results: dict[str, ratingstats.FitResult]) -> bytes:
    """Rater and specialty effects of the all-time drug fits, by physician and specialty id."""
    arrays: dict[str, np.ndarray] = {}
    for name, result in results.items():
        keep = ~np.isnan(data.scores[:, DIMENSION_NAMES.index(name)])
        physicians, _ = _codes(data.physician[keep])
        specialties, _ = _codes(data.specialty[keep])
        arrays[f"{name}__physician"] = physicians
        arrays[f"{name}__rater_effect"] = result.rater_effect
        arrays[f"{name}__specialty"] = specialties
        arrays[f"{name}__group_effect"] = result.group_effects[: specialties.size]
        arrays[f"{name}__mu"] = np.array([result.mu])
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def refit_scores(now: datetime | None = None) -> FitRun:
    """Fit every dimension and window, store the scores, and make this fit the current one.
    Each fit's scores are written as it finishes, while the others still run."""
    started = time.monotonic()
    now = now or timezone.now()
    current = FitRun.objects.filter(is_current=True).values("summary", "n_ratings").first()
    previous = (current or {}).get("summary") or {}
    with ratingstats.TaskPool(_fit_processes((current or {}).get("n_ratings") or 0)) as pool:
        pool.start()  # the processes import numpy and scipy while the ratings load
        data = load_rating_arrays()
        fit_run = FitRun.objects.create(
            methodology_version=METHODOLOGY_VERSION, n_ratings=int(data.drug.size)
        )
        recent = data.updated >= np.datetime64(int(trailing_12m_start(now).timestamp()), "s")
        windows = {Window.ALL_TIME: data, Window.TRAILING_12M: data.subset(recent)}
        if pool.processes != _fit_processes(data.drug.size):
            pool.processes = _fit_processes(data.drug.size)  # no fit yet to size it by
            pool.start()
        summaries: dict[int, tuple[str, dict]] = {}  # by plan position
        drug_results: dict[str, ratingstats.FitResult] = {}
        diags: dict[str, dict] = {}
        for planned, outcome in iter_fits(windows, previous, pool):
            _write_scores(_score_rows(fit_run, planned, outcome))
            summaries[planned.index] = (
                planned.key,
                _fit_summary(outcome.result, planned.task, previous.get(planned.key) or {}),
            )
            name = DIMENSION_NAMES[planned.dim]
            if outcome.diagnostics is not None:
                diags[name] = outcome.diagnostics
            if planned.window == Window.ALL_TIME and planned.keys[0][1] is None:
                drug_results[name] = outcome.result
    effects = _effects_blob(data, drug_results) if drug_results else None
    # The switch is the only transaction that readers notice: a few rows, milliseconds.
    with transaction.atomic():
        FitRun.objects.filter(is_current=True).update(is_current=False)
        fit_run.summary = json_safe(dict(summaries[n] for n in sorted(summaries)))
        fit_run.diagnostics = json_safe({d: diags[d] for d in DIMENSION_NAMES if d in diags})
        fit_run.effects = effects
        fit_run.finished_at = timezone.now()
        fit_run.is_current = True
        fit_run.save()
    prune_fits()
    log.info("refit %s ratings in %.1f s", data.drug.size, time.monotonic() - started)
    return fit_run


def _fit_processes(n_ratings: int, processes: int | None = None) -> int:
    """`processes` (FIT_PROCESSES by default), or one where fits of these ratings (each in
    every dimension at two levels) hold too few to be worth a process."""
    enough = n_ratings * len(DIMENSION_NAMES) * 2 >= ratingstats.batch.PARALLEL_MIN_RATINGS
    if not enough:
        return 1
    return settings.FIT_PROCESSES if processes is None else processes


def json_safe(value):
    """NaN and infinities as null: PostgreSQL's JSON rejects them (a variance component of a
    tiny or degenerate fit can be NaN), and no JSON reader takes them either."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def _write_scores(scores: list[Score]) -> None:
    """On PostgreSQL one COPY (no lock a reader waits on; 150,000 scores at ten times launch).
    Elsewhere inserts in short transactions of WRITE_BATCH rows each: on SQLite a writer holds
    the one write lock until it commits, and one transaction for every score kept sign-ins and
    ratings waiting past the busy timeout. The rows belong to a fit that is not current yet, so
    readers never see a half-written fit."""
    if copy_available():
        # Every column is a number, a short string or a boolean: the attributes are the
        # database values already, without write_objects' per-field preparation (150,000 x 17).
        columns = [f.attname for f in Score._meta.concrete_fields if not f.primary_key]
        rows = ([getattr(score, name) for name in columns] for score in scores)
        write_rows(Score, columns, rows, copy=True)
    else:
        insert_in_batches(Score, scores, WRITE_BATCH)


def prune_fits(keep: int = 3) -> None:
    """Older fits are kept briefly for audit, then pruned so the table does not grow without
    end; so are fits that never finished (a worker stopped mid-write). On SQLite scores go in
    short batches for the same reason they are written in batches; PostgreSQL deletes a fit's
    150,000 scores (ten times launch) in one statement that blocks no reader."""
    current = current_fit_id()
    old = FitRun.objects.filter(is_current=False).order_by("-pk").values_list("pk", flat=True)
    stale = set(old[keep:])
    if current is not None:
        stale |= set(old.filter(finished_at__isnull=True, pk__lt=current))
    for fit_id in sorted(stale):
        if copy_available():  # PostgreSQL: one statement; readers never wait on a delete
            Score.objects.filter(fit_id=fit_id).delete()
        while batch := list(
            Score.objects.filter(fit_id=fit_id).values_list("pk", flat=True)[:WRITE_BATCH]
        ):
            with transaction.atomic():
                Score.objects.filter(pk__in=batch).delete()
        FitRun.objects.filter(pk=fit_id).delete()
