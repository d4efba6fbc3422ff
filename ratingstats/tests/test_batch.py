"""Fits side by side in processes (the product's refit): the same numbers as one by one."""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pytest

from ratingstats import batch
from ratingstats.batch import FitTask, run_tasks


def _tasks() -> list[FitTask]:
    rng = np.random.default_rng(7)
    tasks = []
    for k in range(3):
        n = 4000
        item = rng.integers(0, 40, n)
        rater = rng.integers(0, 400, n)
        group = rater % 3
        y = np.clip(np.round(3 + 0.4 * np.sin(item) + 0.3 * group + rng.normal(0, 0.8, n)), 1, 5)
        tasks.append(
            FitTask(
                item,
                rater,
                y,
                group,
                intervals=k == 0,
                rank_group=np.arange(40) % 4,  # per item code
                rank_draws=200,
                seed=(1, k),
                diagnostics_label="Efficacy" if k == 0 else None,
                group_labels=["a", "b", "c"],
            )
        )
    return tasks


def test_processes_give_the_same_results_as_one_by_one():
    tasks = _tasks()
    here = run_tasks(tasks, processes=1)
    there = run_tasks(tasks, processes=2, min_ratings=0)
    for a, b in zip(here, there, strict=True):
        np.testing.assert_array_equal(a.result.estimate, b.result.estimate)
        np.testing.assert_array_equal(a.result.ci_high, b.result.ci_high)
        assert a.ranks == b.ranks and len(a.ranks) > 0
    assert here[0].diagnostics["label"] == "Efficacy" and here[1].diagnostics is None
    assert {**here[0].diagnostics, "seconds": 0} == {**there[0].diagnostics, "seconds": 0}


def test_ranks_use_each_tasks_own_seed():
    tasks = _tasks()
    again = run_tasks(tasks[:1], processes=1)[0]
    assert again.ranks == run_tasks(tasks, processes=1)[0].ranks


def test_small_batches_are_not_worth_a_process(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("no process pool for a small batch")

    monkeypatch.setattr(batch, "ProcessPoolExecutor", refuse)
    assert len(run_tasks(_tasks(), processes=2)) == 3  # 12,000 ratings < PARALLEL_MIN_RATINGS


def test_a_broken_pool_falls_back_to_fitting_here(monkeypatch):
    class Broken:
        def __init__(self, *args, **kwargs):
            pass

        def submit(self, *args, **kwargs):
            raise BrokenProcessPool("a child died")

        def shutdown(self, *args, **kwargs):
            pass

    monkeypatch.setattr(batch, "ProcessPoolExecutor", Broken)
    tasks = _tasks()
    results = run_tasks(tasks, processes=2, min_ratings=0)
    np.testing.assert_array_equal(
        results[1].result.estimate, run_tasks(tasks[1:2])[0].result.estimate
    )


def test_the_covariance_stays_in_the_child():
    result = run_tasks(_tasks()[:1])[0].result
    with pytest.raises(ValueError, match="not kept"):
        result.item_cov(np.array([0, 1]))


def test_results_come_as_each_task_finishes_and_match_one_by_one():
    """The refit hands tasks in as it plans them and stores each result as it comes: every
    task's result comes back once, under the index `submit` gave it."""
    tasks = _tasks()
    expected = run_tasks(tasks, processes=1)
    with batch.TaskPool(processes=2) as pool:
        pool.start()
        indices = [pool.submit(task) for task in tasks]
        got = dict(pool.results())
    assert indices == [0, 1, 2] and sorted(got) == indices
    for index, result in got.items():
        np.testing.assert_array_equal(result.result.estimate, expected[index].result.estimate)
        assert result.ranks == expected[index].ranks


def test_a_child_dying_mid_batch_leaves_the_rest_to_this_process(monkeypatch):
    """A pool that breaks after some results were taken: the others are fitted here, and no
    task's result comes twice."""
    tasks = _tasks()
    with batch.TaskPool(processes=2) as pool:
        pool.start()
        for task in tasks:
            pool.submit(task)
        stream = pool.results()
        first_index, _ = next(stream)
        # Break the pool under the remaining futures, as a child killed for memory does.
        for process in list(pool._pool._processes.values()):
            process.kill()
        rest = dict(stream)
    assert first_index not in rest
    assert sorted([first_index, *rest]) == [0, 1, 2]
