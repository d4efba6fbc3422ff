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


class ChunkProcesses:
    """Up to `processes` spawned processes for a release's chunks. `start` spawns them ahead
    of their first job, so each sets Django up while the parent reads and plans its changes
    (3-5 s a process); `run` starts them if that was not done."""

    def __init__(self, processes: int, database_name: str) -> None:
        self.processes = processes
        self.database_name = database_name
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ChunkProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def start(self) -> None:
        if self._pool is not None or self.processes <= 1:
            return
        self._pool = ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_set_up_django,
            initargs=(self.database_name,),
        )
        for _ in range(self.processes):
            self._pool.submit(_ready)

    def run(self, plan: Callable[[Job], Outcome], jobs: Sequence[Job]) -> list[Outcome]:
        """`plan(job)` for every job in the processes, results in job order. `plan` must be a
        module-level function (it is pickled by name)."""
        self.start()
        assert self._pool is not None, "run needs at least two processes"
        return list(self._pool.map(plan, jobs))


def _ready() -> None:
    """A process's first job: Django is set up (by the initializer) before it runs."""


def _set_up_django(database_name: str) -> None:
    """Runs in each child before its first job is unpickled (a job's classes import models)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "drugratings.settings")
    import django

    django.setup()
    from django.db import connections

    connections["default"].settings_dict["NAME"] = database_name


def child_count(processes: int, rows: int, chunks: int, min_rows: int) -> int:
    """Processes worth starting: one (plan here) below `min_rows` ratings or for one chunk."""
    return 1 if rows < min_rows or chunks <= 1 else max(1, processes)
