"""The list of background jobs the worker runs, in order, on every poll."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from drugratings.analytics import jobs as analytics_jobs


@dataclass(frozen=True)
class Job:
    name: str
    step: Callable[[], object]

    def run(self) -> str | None:
        result = self.step()
        return None if result is None else str(result)


def _initial_fit() -> str | None:
    fit = analytics_jobs.ensure_initial_fit()
    return f"initial fit #{fit.pk}" if fit else None


def _refit() -> str | None:
    fit = analytics_jobs.run_refit_if_due()
    if fit is None:
        return None
    from drugratings.trust.detection import run_detection

    cases = run_detection()  # detectors run on each refit; quarantines trigger the next refit
    return f"refit #{fit.pk} over {fit.n_ratings} ratings; {len(cases)} new quarantine case(s)"


def _release() -> str | None:
    from drugratings.portal.jobs import run_release_if_due

    release = run_release_if_due()
    return (
        f"release #{release.pk}: {release.n_events} changes, {release.n_cells_changed} cells"
        if release
        else None
    )


def _digests() -> str | None:
    from drugratings.web.digests import send_due_digests

    sent = send_due_digests()
    return f"{sent} notification digest(s) emailed" if sent else None


JOBS: list[Job] = [
    Job("initial-fit", _initial_fit),
    Job("refit", _refit),
    Job("release", _release),
    Job("digests", _digests),
]
