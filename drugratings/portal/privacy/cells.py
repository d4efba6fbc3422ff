"""Report cells: which cells a rating falls in, and which cells partition which.

A cell key is (level, drug, indication, breakdown, value):
  level 1 = drug for one indication (indication reports), level 0 = drug across indications
  (drug-class reports and scorecards); breakdown none / specialty / region / month.
At level 0 a physician contributes one value per drug: the mean of their ratings of that drug.
"""

from __future__ import annotations

from typing import NamedTuple

from drugratings.portal.models import Breakdown, Level

BREAKDOWNS = (Breakdown.SPECIALTY, Breakdown.REGION, Breakdown.MONTH)
# Combined breakdowns and the two single breakdowns each one splits (its margins).
COMBINED: dict[str, tuple[str, str]] = {
    Breakdown.SPECIALTY_MONTH: (Breakdown.SPECIALTY, Breakdown.MONTH),
    Breakdown.REGION_SPECIALTY: (Breakdown.REGION, Breakdown.SPECIALTY),
    Breakdown.REGION_MONTH: (Breakdown.REGION, Breakdown.MONTH),
}


class CellKey(NamedTuple):
    """A tuple, not a dataclass: a release at ten times launch creates and hashes millions of
    them (parents, margins), and a frozen dataclass's __init__ and field-by-field hash cost
    half of its planning time."""

    level: int
    drug_id: int
    indication_id: int  # 0 at the drug level
    breakdown: str
    value: str  # "" for breakdown none

    def encode(self) -> str:
        return f"{self.level}:{self.drug_id}:{self.indication_id}:{self.breakdown}:{self.value}"

    @classmethod
    def decode(cls, text: str) -> CellKey:
        level, drug, indication, breakdown, value = text.split(":", 4)
        return cls(int(level), int(drug), int(indication), breakdown, value)

    @property
    def margins(self) -> tuple[CellKey, CellKey] | None:
        """A combined cell's two single-breakdown totals (its row and its column)."""
        pair = COMBINED.get(self.breakdown)
        if pair is None:
            return None
        first, second = self.value.split("|", 1)
        return (
            CellKey(self.level, self.drug_id, self.indication_id, pair[0], first),
            CellKey(self.level, self.drug_id, self.indication_id, pair[1], second),
        )

    @property
    def parent(self) -> CellKey | None:
        """The total this cell is a part of: breakdown cells sum to their none cell; at level
        1 the none cells of one drug sum (roughly: physicians may rate several indications) to
        the drug's level-0 none cell. A combined cell's parent is its first margin; its second
        margin is enforced by `portal.reports.combined.combined_suppression`."""
        if self.breakdown in COMBINED:
            return self.margins[0]  # type: ignore[index]
        if self.breakdown != Breakdown.NONE:
            return CellKey(self.level, self.drug_id, self.indication_id, Breakdown.NONE, "")
        if self.level == Level.DRUG_INDICATION:
            return CellKey(Level.DRUG, self.drug_id, 0, Breakdown.NONE, "")
        return None

    @property
    def partition(self) -> tuple:
        """Cells with the same partition key are siblings under the same parent."""
        parent = self.parent
        return (parent, self.breakdown, self.level) if parent else ()


def breakdown_values(specialty_id: int, region: str, month: str) -> dict[str, str]:
    single = {
        Breakdown.SPECIALTY: str(specialty_id),
        Breakdown.REGION: region,
        Breakdown.MONTH: month,
    }
    return {
        **single,
        **{name: f"{single[a]}|{single[b]}" for name, (a, b) in COMBINED.items()},
    }


def drug_indication_cells(drug_id: int, indication_id: int, where: dict[str, str]) -> list[CellKey]:
    return [
        CellKey(Level.DRUG_INDICATION, drug_id, indication_id, Breakdown.NONE, ""),
        *(CellKey(Level.DRUG_INDICATION, drug_id, indication_id, b, where[b]) for b in BREAKDOWNS),
        *(CellKey(Level.DRUG_INDICATION, drug_id, indication_id, b, where[b]) for b in COMBINED),
    ]


def drug_cells(drug_id: int, where: dict[str, str]) -> list[CellKey]:
    return [
        CellKey(Level.DRUG, drug_id, 0, Breakdown.NONE, ""),
        *(CellKey(Level.DRUG, drug_id, 0, b, where[b]) for b in BREAKDOWNS),
        *(CellKey(Level.DRUG, drug_id, 0, b, where[b]) for b in COMBINED),
    ]
