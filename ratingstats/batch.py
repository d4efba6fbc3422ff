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
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np

from . import diagnostics
from .fit import MIN_RATERS_SHOWN, FitResult, fit_crossed
from .ranks import rank_intervals

__all__ = ["FitTask", "TaskPool", "TaskResult", "run_tasks"]

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


class TaskPool:
    """Tasks fitted as they are handed in, results taken as they finish, so the caller plans
    the next task and stores finished ones while the processes fit (the refit at ten times
    launch spent 15 s of its two minutes on that, with both processes idle). With one process,
    or once ``start`` was not called and ``submit`` finds a process pool not worth it, the
    tasks run here, in the order submitted, when their results are asked for.

    Use as a context manager; ``start`` spawns the processes ahead of the first task (the
    caller reads the database meanwhile)."""

    def __init__(self, processes: int = 1) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._tasks: list[FitTask] = []
        self._futures: dict[Future, int] = {}
        self._done: set[int] = set()

    def __enter__(self) -> TaskPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def start(self) -> None:
        """Spawn the processes now (each imports numpy and scipy, about a second)."""
        if self.processes <= 1 or self._pool is not None:
            return
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=context)
        try:
            for _ in range(self.processes):
                self._pool.submit(_ready)
        except BrokenProcessPool:
            self._broken()

    def submit(self, task: FitTask) -> int:
        """Hand in a task; returns its index (0, 1, ... in the order submitted)."""
        index = len(self._tasks)
        self._tasks.append(task)
        if self._pool is not None:
            try:
                self._futures[self._pool.submit(run_task, task)] = index
            except BrokenProcessPool:
                self._broken()
        return index

    def results(self) -> Iterator[tuple[int, TaskResult]]:
        """(index, result) of every task submitted, each as soon as it is done."""
        if self._pool is not None:
            try:
                for future in as_completed(list(self._futures)):
                    index = self._futures[future]
                    result = future.result()
                    self._done.add(index)
                    yield index, result
            except BrokenProcessPool:
                self._broken()
        for index, task in enumerate(self._tasks):
            if index not in self._done:
                self._done.add(index)
                yield index, run_task(task)

    def _broken(self) -> None:
        # A child died (killed for memory, or the calling script re-ran itself in the child
        # because it lacks an ``if __name__ == "__main__"`` guard): the fits still get done.
        log.warning("fit processes failed; fitting the remaining tasks in this process")
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None
        self._futures = {}


def _ready() -> None:
    """The first job of each process: it has imported this package, so the first fit starts
    at once."""


def run_tasks(
    tasks: Sequence[FitTask], processes: int = 1, min_ratings: int = PARALLEL_MIN_RATINGS
) -> list[TaskResult]:
    """Run ``tasks`` and return their results in the same order, in up to ``processes``
    processes when they hold at least ``min_ratings`` ratings in all; otherwise here, one after
    the other. Both give the same numbers: each task's random draws have their own seed.
    """
    small = sum(task.item.size for task in tasks) < min_ratings
    if small or len(tasks) <= 1:
        processes = 1
    # Largest first, so that the last task to finish is a small one.
    order = sorted(range(len(tasks)), key=lambda k: largest_first(tasks[k]))
    results: list[TaskResult | None] = [None] * len(tasks)
    with TaskPool(processes) as pool:
        pool.start()
        for k in order:
            pool.submit(tasks[k])
        for index, result in pool.results():
            results[order[index]] = result
    return results  # type: ignore[return-value]  # every slot is filled


def largest_first(task: FitTask) -> tuple[int, int]:
    """A sort key that puts the longest fit first. Size is the number of items before the
    number of ratings: each REML evaluation factorises a dense matrix of that many rows (a pair
    fit at ten times launch, 3,800 items, takes twice as long as a drug fit of more ratings)."""
    return (-_n_items(task), -task.item.size)


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
