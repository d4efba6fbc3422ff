"""Fit several designs at once, in parallel processes: the product's refit runs 20 fits (5
dimensions x 2 windows x drugs / drug-indication pairs), each mostly one dense factorisation
after another on one BLAS thread, so on a machine with spare cores they run side by side.

Each task is fitted, ranked and summarised in the worker process, and only what the caller
keeps comes back: the result without its covariance factor (up to a few hundred MB for a large
fit), the rank intervals and the diagnostics. Processes are spawned, not forked: the caller
may hold database connections or threads that a forked child must not inherit, and a spawned
child imports only this package.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np

from . import diagnostics
from .fit import MIN_RATERS_SHOWN, FitResult, fit_crossed
from .ranks import rank_intervals

__all__ = ["FitTask", "TaskResult", "run_tasks"]

log = logging.getLogger(__name__)

#: One rank tuple: (rank, low, high, rank_of, p_best, best_in_group).
Rank = tuple[int, int, int, int, float, bool]


@dataclass(frozen=True)
class FitTask:
    """One fit. ``rank_group`` (per item code; -1: none) asks for rank intervals among the shown
    items (at least ``min_raters`` raters) of each group, drawn with ``seed``.
    ``diagnostics_label`` asks for :func:`ratingstats.diagnostics.compute` with that label."""

    item: np.ndarray
    rater: np.ndarray
    score: np.ndarray
    group: np.ndarray | None
    start: tuple[float, float, float] | None = None
    start_hessian: np.ndarray | None = None  # the fit of `start`'s log_theta_hessian
    intervals: bool = False
    method: str = "auto"
    rank_group: np.ndarray | None = None
    rank_draws: int = 1000
    seed: tuple[int, ...] = (0,)
    min_raters: int = MIN_RATERS_SHOWN
    diagnostics_label: str | None = None
    group_labels: list[str] | None = None


@dataclass(frozen=True)
class TaskResult:
    result: FitResult  # without its covariance: item_cov() is not available
    shown: np.ndarray
    ranks: dict[int, Rank]
    diagnostics: dict | None


#: Below this many ratings over all tasks, starting processes (about a second each: numpy and
#: scipy are imported anew) costs more than it saves; the tasks run here instead.
PARALLEL_MIN_RATINGS = 200_000


def run_tasks(
    tasks: Sequence[FitTask], processes: int = 1, min_ratings: int = PARALLEL_MIN_RATINGS
) -> list[TaskResult]:
    """Run ``tasks`` and return their results in the same order, in up to ``processes``
    processes when they hold at least ``min_ratings`` ratings in all; otherwise here, one after
    the other. Both give the same numbers: each task's random draws have their own seed.
    """
    small = sum(task.item.size for task in tasks) < min_ratings
    if processes <= 1 or len(tasks) <= 1 or small:
        return [run_task(task) for task in tasks]
    # Largest first, so that the last task to finish is a small one. Size is the number of
    # items before the number of ratings: each REML evaluation factorises a dense matrix of
    # that many rows (a pair fit at ten times launch, 3,800 items, takes twice as long as a
    # drug fit of more ratings).
    order = sorted(range(len(tasks)), key=lambda k: (-_n_items(tasks[k]), -tasks[k].item.size))
    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
            futures = {k: pool.submit(run_task, tasks[k]) for k in order}
            return [futures[k].result() for k in range(len(tasks))]
    except BrokenProcessPool:
        # A child died (killed for memory, or the calling script re-ran itself in the child
        # because it lacks an ``if __name__ == "__main__"`` guard): the fits still get done.
        log.warning("fit processes failed; fitting %d tasks in this process", len(tasks))
        return [run_task(task) for task in tasks]


def _n_items(task: FitTask) -> int:
    return int(task.item.max()) + 1 if task.item.size else 0


def run_task(task: FitTask) -> TaskResult:
    result = fit_crossed(
        task.item,
        task.rater,
        task.score,
        task.group,
        method=task.method,
        start=task.start,
        start_hessian=task.start_hessian,
        intervals=task.intervals,
    )
    shown = result.n_raters >= task.min_raters
    ranks = _ranks(result, shown, task) if task.rank_group is not None else {}
    diag = None
    if task.diagnostics_label is not None:
        diag = diagnostics.compute(
            task.item,
            task.rater,
            task.score,
            task.group,
            result,
            label=task.diagnostics_label,
            group_labels=task.group_labels,
            min_cell=task.min_raters,
            include=shown,
        ).to_dict()
    return TaskResult(dataclasses.replace(result, _cov=None, cov_dropped=True), shown, ranks, diag)


def _ranks(result: FitResult, shown: np.ndarray, task: FitTask) -> dict[int, Rank]:
    """Rank intervals among the shown items of each group (groups in ascending id order)."""
    rng = np.random.default_rng(task.seed)
    groups = np.asarray(task.rank_group, dtype=np.int64)
    ranks: dict[int, Rank] = {}
    for group_id in np.unique(groups[groups >= 0]):
        codes = np.flatnonzero((groups == group_id) & shown)
        if codes.size < 2:
            continue
        ri = rank_intervals(result, codes, rng=rng, n_sim=task.rank_draws)
        top = int(np.flatnonzero(ri.rank == 1)[0])
        best = bool(ri.low[top] == 1 and ri.high[top] == 1)
        for j, code in enumerate(codes.tolist()):
            ranks[code] = (
                int(ri.rank[j]),
                int(ri.low[j]),
                int(ri.high[j]),
                int(codes.size),
                float(ri.p_best[j]),
                best and j == top,
            )
    return ranks
