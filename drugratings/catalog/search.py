"""Drug search by generic or brand name (case-insensitive, substring, one-typo tolerant), and
by what physicians say: class names and short forms ("statin", "SGLT2", "ACE inhibitors") list
the class's drugs first; indication names and synonyms ("high blood pressure", "GERD") list the
drugs labelled for it. Terms come from the FDA class names, the indications' names and synonyms
(Disease Ontology, MeSH) and the curated table `data/search_terms.csv` (each row cites a source).

The catalogue is small (thousands of names, tens of thousands at ten times the launch size), so
an in-process index of names is faster and more portable than database trigram extensions. The
index is rebuilt when the catalogue changes here, and at most every few minutes otherwise.
"""

from __future__ import annotations

import csv
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from drugratings.catalog.models import Drug, DrugClass, DrugIndication, Indication
from drugratings.core.dbrouter import use_primary

TERMS_FILE = Path(__file__).resolve().parent / "data" / "search_terms.csv"

_REBUILD_SECONDS = 300
_lock = threading.Lock()
_state: dict[str, object] = {"index": None, "built": 0.0}
_WORD = re.compile(r"[a-z0-9]+")


class MatchKind:
    EXACT = 0
    CLASS = 1  # the query names a drug class
    INDICATION = 2  # the query names an indication the drug is labelled for
    PREFIX = 3
    WORD_PREFIX = 4
    SUBSTRING = 5
    TYPO = 6


@dataclass(frozen=True)
class _Entry:
    drug_id: int
    name: str
    is_brand: bool


@dataclass(frozen=True)
class SearchHit:
    drug_id: int
    matched: str
    kind: int
    is_brand: bool


def normalize_term(text: str) -> str:
    """Letters and digits only, so "GLP-1", "glp 1" and "GLP1" are one term."""
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _term_keys(text: str) -> list[str]:
    key = normalize_term(text)
    # Plurals: "statins", "beta blockers", "ACE inhibitors".
    return [key, key[:-1]] if key.endswith("s") and len(key) > 4 else [key]


class _Index:
    def __init__(
        self,
        entries: list[_Entry],
        class_terms: dict[str, set[int]] | None = None,
        indication_terms: dict[str, set[int]] | None = None,
    ) -> None:
        self.entries = entries
        self.class_terms = class_terms or {}
        self.indication_terms = indication_terms or {}
        # Words of each name by length, for typo matching against single words as well.
        self.words_by_length: dict[int, list[tuple[str, int]]] = {}
        for position, entry in enumerate(entries):
            for word in {entry.name, *_WORD.findall(entry.name)}:
                self.words_by_length.setdefault(len(word), []).append((word, position))


def invalidate_search_index() -> None:
    with _lock:
        _state["index"] = None


def read_search_terms(path: Path = TERMS_FILE) -> list[tuple[str, str, str]]:
    """(term, kind, target name) rows of the curated table."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [(r["term"], r["kind"], r["target"]) for r in csv.DictReader(handle)]


def _class_terms() -> dict[str, set[int]]:
    members: dict[int, set[int]] = defaultdict(set)
    for pk, class_id in Drug.objects.exclude(drug_class=None).values_list("pk", "drug_class_id"):
        members[class_id].add(pk)
    for pk, class_id in Drug.other_classes.through.objects.values_list("drug_id", "drugclass_id"):
        members[class_id].add(pk)
    by_name = {name.lower(): pk for pk, name in DrugClass.objects.values_list("pk", "name")}
    terms: dict[str, set[int]] = defaultdict(set)
    for name, class_id in by_name.items():
        terms[normalize_term(name)] |= members[class_id]
    for term, kind, target in read_search_terms():
        if kind == "class" and target.lower() in by_name:
            terms[normalize_term(term)] |= members[by_name[target.lower()]]
    return {k: v for k, v in terms.items() if v}


def _indication_terms() -> dict[str, set[int]]:
    listed: dict[int, set[int]] = defaultdict(set)
    for drug_id, indication_id in DrugIndication.objects.values_list("drug_id", "indication_id"):
        listed[indication_id].add(drug_id)
    terms: dict[str, set[int]] = defaultdict(set)
    by_name: dict[str, int] = {}
    for pk, name, synonyms in Indication.objects.values_list("pk", "name", "synonyms"):
        by_name[name.lower()] = pk
        for term in [name, *(synonyms or [])]:
            terms[normalize_term(term)] |= listed[pk]
    for term, kind, target in read_search_terms():
        if kind == "indication" and target.lower() in by_name:
            terms[normalize_term(term)] |= listed[by_name[target.lower()]]
    return {k: v for k, v in terms.items() if v}


def _build() -> _Index:
    # From the primary: the index lives for minutes, so one built from a replica that had not
    # yet caught up with a correction made here would hide it long after the replica caught up.
    with use_primary():
        entries: list[_Entry] = []
        for pk, generic, brands in Drug.objects.values_list("pk", "generic_name", "brand_names"):
            entries.append(_Entry(pk, generic.lower(), False))
            entries.extend(_Entry(pk, brand.lower(), True) for brand in brands or [])
        return _Index(entries, _class_terms(), _indication_terms())


def _index() -> _Index:
    with _lock:
        index = _state["index"]
        if index is None or time.monotonic() - float(_state["built"]) > _REBUILD_SECONDS:  # type: ignore[arg-type]
            index = _build()
            _state["index"], _state["built"] = index, time.monotonic()
        return index  # type: ignore[return-value]


def within_edits(a: str, b: str, limit: int) -> bool:
    """True when the optimal-string-alignment distance of a and b is at most `limit`."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        row_min = current[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
            row_min = min(row_min, value)
        if row_min > limit:
            return False
        previous2, previous = previous, current
    return previous[-1] <= limit


def typo_limit(query: str) -> int:
    if len(query) < 4:
        return 0
    return 1 if len(query) < 9 else 2


def search(query: str, limit: int | None = None) -> list[SearchHit]:
    """Rank drugs for a query: exact, prefix, word prefix, substring, then typo matches."""
    q = " ".join(query.lower().split())
    if not q:
        return []
    index = _index()
    best: dict[int, SearchHit] = {}

    def offer(entry: _Entry, kind: int) -> None:
        current = best.get(entry.drug_id)
        if current is None or (kind, entry.is_brand) < (current.kind, current.is_brand):
            best[entry.drug_id] = SearchHit(entry.drug_id, entry.name, kind, entry.is_brand)

    for entry in index.entries:
        name = entry.name
        if name == q:
            offer(entry, MatchKind.EXACT)
        elif name.startswith(q):
            offer(entry, MatchKind.PREFIX)
        elif q in name:
            words = _WORD.findall(name)
            offer(
                entry,
                MatchKind.WORD_PREFIX
                if any(w.startswith(q) for w in words)
                else MatchKind.SUBSTRING,
            )
    generic_of = {e.drug_id: e for e in index.entries if not e.is_brand}
    for table, kind in (
        (index.class_terms, MatchKind.CLASS),
        (index.indication_terms, MatchKind.INDICATION),
    ):
        for key in _term_keys(q):
            for drug_id in sorted(table.get(key, ())):
                if drug_id in generic_of:
                    offer(generic_of[drug_id], kind)
            if key in table:
                break
    allowed = typo_limit(q)
    if allowed:
        for length in range(len(q) - allowed, len(q) + allowed + 1):
            for word, position in index.words_by_length.get(length, ()):
                entry = index.entries[position]
                if entry.drug_id in best and best[entry.drug_id].kind < MatchKind.TYPO:
                    continue
                if within_edits(q, word, allowed):
                    offer(entry, MatchKind.TYPO)
    hits = sorted(best.values(), key=lambda h: (h.kind, h.is_brand, len(h.matched), h.matched))
    return hits[:limit] if limit else hits
