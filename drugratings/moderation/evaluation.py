"""Measure the comment screen on the labelled set: recall of identifiers, hold rate of ordinary
comments, and the time one screening takes. Used by `manage.py eval_screening` and the tests."""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

from drugratings.moderation import screening

LABELLED = screening.DATA / "phi_labelled.tsv"
IDENTIFIER, ORDINARY = "identifier", "ordinary"
RECALL_TARGET = 0.98  # share of comments with an identifier that are held
HOLD_RATE_TARGET = 0.10  # share of ordinary clinical comments that are held


@dataclass(frozen=True)
class Example:
    line: int
    label: str
    kind: str
    text: str


@dataclass(frozen=True)
class Result:
    n_identifier: int
    n_ordinary: int
    missed: tuple[Example, ...]  # identifiers published
    held_ordinary: tuple[tuple[Example, tuple[str, ...]], ...]
    mean_ms: float
    first_load_s: float

    @property
    def recall(self) -> float:
        return 1 - len(self.missed) / self.n_identifier

    @property
    def hold_rate(self) -> float:
        return len(self.held_ordinary) / self.n_ordinary

    @property
    def meets_targets(self) -> bool:
        return self.recall >= RECALL_TARGET and self.hold_rate <= HOLD_RATE_TARGET


def read_labelled(path: Path = LABELLED) -> list[Example]:
    """The labelled comments; a malformed row is a ValueError naming its line."""
    examples = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header != ["label", "kind", "text"]:
            raise ValueError(f"{path}:1: expected the header label<TAB>kind<TAB>text")
        for line, row in enumerate(reader, start=2):
            if len(row) != 3 or row[0] not in (IDENTIFIER, ORDINARY) or not row[2].strip():
                raise ValueError(f"{path}:{line}: expected {IDENTIFIER}|{ORDINARY}, kind, text")
            examples.append(Example(line, row[0], row[1], row[2]))
    return examples


def evaluate(examples: list[Example]) -> Result:
    started = time.perf_counter()
    screening.load()
    first_load_s = time.perf_counter() - started
    missed, held, elapsed = [], [], 0.0
    for example in examples:
        started = time.perf_counter()
        result = screening.screen_comment(example.text)
        elapsed += time.perf_counter() - started
        if example.label == IDENTIFIER and not result.held:
            missed.append(example)
        elif example.label == ORDINARY and result.held:
            held.append((example, result.reasons))
    return Result(
        n_identifier=sum(e.label == IDENTIFIER for e in examples),
        n_ordinary=sum(e.label == ORDINARY for e in examples),
        missed=tuple(missed),
        held_ordinary=tuple(held),
        mean_ms=1000 * elapsed / max(len(examples), 1),
        first_load_s=first_load_s,
    )
