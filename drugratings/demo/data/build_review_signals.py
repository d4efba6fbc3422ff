"""Build `review_signals.csv`: per catalogue drug, how often patients reviewed it and how they
rated it, from the UCI Drugs.com and Druglib.com review sets (CC BY 4.0, see
catalog/data/SOURCES.md). A development tool: the product reads only the CSV it writes.

    python drugratings/demo/data/build_review_signals.py /path/to/shared/data
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
CATALOG = HERE.parents[1] / "catalog" / "data" / "fda_ndc_rx_drug_catalog.csv"
sys.path.insert(0, str(HERE.parents[2]))

from drugratings.catalog.importers.records import moiety_key  # noqa: E402

# The Druglib labels' 1-5 scale is the validation study's (one definition for both).
from ratingstats.validation.druglib import EFFECTIVENESS, SIDE_EFFECTS  # noqa: E402

COARSE = {"negative": 0.0, "neutral": 0.5, "positive": 1.0}


def name_index() -> dict[str, str]:
    """Lower-cased generic, moiety and brand names -> moiety key."""
    index: dict[str, str] = {}
    with CATALOG.open(newline="") as handle:
        for row in csv.DictReader(handle):
            key = moiety_key(row["active_moieties"].split(";"))
            names = [row["generic_name"], *row["brand_names"].split("|")]
            if row["n_ingredients"] == "1":
                names.append(row["active_moieties"])
            for name in names:
                name = name.strip().lower()
                if name:
                    index.setdefault(name, key)
    return index


def resolve(index: dict[str, str], name: str) -> str | None:
    name = name.strip().lower().replace("-", " ")
    if " / " in name:
        return moiety_key(name.split(" / "))
    for candidate in (name, name.split()[0] if name.split() else ""):
        if candidate in index:
            return index[candidate]
    return None


def main(shared: Path) -> None:
    index = name_index()
    stats: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    with (shared / "uci_druglib_ratings.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            key = resolve(index, row["urlDrugName"])
            if key is None:
                continue
            stats[key]["druglib"].append(1)
            if row["effectiveness"] in EFFECTIVENESS:
                stats[key]["effectiveness"].append(EFFECTIVENESS[row["effectiveness"]])
            if row["sideEffects"] in SIDE_EFFECTS:
                stats[key]["side_effects"].append(SIDE_EFFECTS[row["sideEffects"]])
    for name in ("uci_drugscom_subset_train_coarse.tsv", "uci_drugscom_subset_test_coarse.tsv"):
        with (shared / name).open(newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                key = resolve(index, row["drugName"] or "")
                if key is None or row["rating"] not in COARSE:
                    continue
                stats[key]["drugscom"].append(1)
                stats[key]["positive"].append(COARSE[row["rating"]])
    out = HERE / "review_signals.csv"
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "moiety_key",
                "druglib_reviews",
                "drugscom_reviews",
                "effectiveness_mean",
                "side_effects_mean",
                "positive_share",
            ]
        )
        for key in sorted(stats):
            s = stats[key]

            def mean(values: list[float]) -> str:
                return f"{sum(values) / len(values):.3f}" if values else ""

            writer.writerow(
                [
                    key,
                    len(s["druglib"]),
                    len(s["drugscom"]),
                    mean(s["effectiveness"]),
                    mean(s["side_effects"]),
                    mean(s["positive"]),
                ]
            )
    print(f"{out}: {len(stats)} drugs")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
