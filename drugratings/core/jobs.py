"""The worker's job list. Apps register their periodic steps in ``AppConfig.ready`` so the
worker (a core command) runs analytics' refits and the portal's releases without importing
either app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from drugratings.core.events import resolve


@dataclass(frozen=True)
class Job:
    name: str
    order: int  # lower runs first on each poll (the initial fit before refits before releases)
    # Does one due unit of work and returns a log line or None; a dotted path keeps the
    # scipy-heavy steps out of Django's start-up (see events.resolve).
    step: Callable[[], str | None] | str

    def run(self) -> str | None:
        return resolve(self.step)()


_JOBS: dict[str, Job] = {}


def register_job(name: str, order: int, step: Callable[[], str | None] | str) -> None:
    """Register (or re-register, as ``ready`` may run twice) the job called ``name``."""
    _JOBS[name] = Job(name, order, step)


def registered_jobs() -> list[Job]:
    return sorted(_JOBS.values(), key=lambda job: (job.order, job.name))
