"""A release's chunks of drugs planned side by side in processes (PostgreSQL, large releases).

Every cell, parent and partition lies within one drug, so `releases._plan_cells` plans drugs a
chunk at a time and the chunks are independent: each reads its drugs' included ratings and
cell states, steps and suppresses their cells, and returns what the release will write. At ten
times launch that planning is most of a release (70 of 86 s of an incremental one, single
process, on 2 cores), so it runs in RELEASE_PROCESSES processes.

The processes are spawned, not forked: the worker holds a connection pool whose threads a
forked child must not inherit. Each child sets Django up before it reads its first chunk and
reads the database its parent reads (a test run renames it). Nothing is written by a child:
the parent writes every chunk's rows in the release's one transaction.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

Job = TypeVar("Job")
Outcome = TypeVar("Outcome")


def run_jobs(
    plan: Callable[[Job], Outcome], jobs: Sequence[Job], processes: int, database_name: str
) -> list[Outcome]:
    """`plan(job)` for every job, in `processes` spawned processes, results in job order.
    `plan` must be a module-level function (it is pickled by name)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=min(processes, len(jobs)),
        mp_context=context,
        initializer=_set_up_django,
        initargs=(database_name,),
    ) as pool:
        return list(pool.map(plan, jobs))


def _set_up_django(database_name: str) -> None:
    """Runs in each child before its first job is unpickled (a job holds model instances)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "drugratings.settings")
    import django

    django.setup()
    from django.db import connections

    connections["default"].settings_dict["NAME"] = database_name


def child_count(processes: int, rows: int, chunks: int, min_rows: int) -> int:
    """Processes worth starting: one (plan here) below `min_rows` ratings or for one chunk."""
    return 1 if rows < min_rows or chunks <= 1 else max(1, processes)
