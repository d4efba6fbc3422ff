"""Manipulation detectors for physician drug ratings (numpy/scipy only, no Django).

Each detector is a function ``detect(table, params=...) -> list[Suspicion]``; ``run_all`` runs
them all with their default parameters.  Methods, calibration and measured results are in
``drugratings/trust/DETECTORS.md``.
"""

from __future__ import annotations

from collections.abc import Callable

from . import bursts, cohorts, dense_blocks, manufacturer_bias
from .table import RatingTable, Suspicion

__all__ = ["DETECTORS", "RatingTable", "Suspicion", "run_all"]

DETECTORS: dict[str, Callable[[RatingTable], list[Suspicion]]] = {
    bursts.NAME: bursts.detect,
    dense_blocks.NAME: dense_blocks.detect,
    manufacturer_bias.NAME: manufacturer_bias.detect,
    cohorts.NAME: cohorts.detect,
}


def run_all(table: RatingTable) -> list[Suspicion]:
    """Run every detector in ``DETECTORS`` with its default parameters, in a fixed order."""
    found: list[Suspicion] = []
    for detect in DETECTORS.values():
        found.extend(detect(table))
    return found
