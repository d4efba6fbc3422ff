"""The five rating dimensions, in display order."""

from __future__ import annotations

from enum import StrEnum


class Dimension(StrEnum):
    EFFICACY = "efficacy"
    SAFETY = "safety"
    TOLERABILITY = "tolerability"
    ACCESSIBILITY = "accessibility"
    ADHERENCE = "adherence"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def question(self) -> str:
        return QUESTIONS[self]


DIMENSIONS: tuple[Dimension, ...] = tuple(Dimension)
DIMENSION_NAMES: tuple[str, ...] = tuple(d.value for d in Dimension)

QUESTIONS = {
    Dimension.EFFICACY: "How well does it work for this indication?",
    Dimension.SAFETY: "How rarely does it cause serious harm?",
    Dimension.TOLERABILITY: "How well do patients tolerate its side effects?",
    Dimension.ACCESSIBILITY: "How easy is it to obtain (cost, coverage, supply)?",
    Dimension.ADHERENCE: "How well do patients keep taking it as prescribed?",
}

SCORE_MIN = 1
SCORE_MAX = 5
