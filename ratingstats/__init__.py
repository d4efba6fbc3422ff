"""Rater-adjusted drug scores: crossed random-effects models on numpy/scipy only.

The model, per rating dimension, is lme4's ``score ~ group + (1|item) + (1|rater)``; see
METHODOLOGY.md at the repository root for the formulas, assumptions and validation.  This
package never imports Django so that it can be installed, tested and audited on its own.
"""

from .batch import FitTask, TaskPool, TaskResult, run_tasks
from .fit import DENSE_COV_MAX, MIN_RATERS_SHOWN, REML_MAX, FitResult, displayable, fit_crossed
from .ranks import RankIntervals, best_in_class, rank_intervals

__all__ = [
    "DENSE_COV_MAX",
    "MIN_RATERS_SHOWN",
    "REML_MAX",
    "FitResult",
    "FitTask",
    "RankIntervals",
    "TaskPool",
    "TaskResult",
    "best_in_class",
    "displayable",
    "fit_crossed",
    "rank_intervals",
    "run_tasks",
]
