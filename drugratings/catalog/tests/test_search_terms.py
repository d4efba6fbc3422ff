"""Search finds what a physician means: class names and short forms list the class's drugs
first, indication names and lay synonyms list the drugs labelled for it; brands and typos
keep working."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from drugratings.catalog.models import Drug, DrugClass, Indication
from drugratings.catalog.search import normalize_term, read_search_terms, search

# query -> a drug (generic name prefix) that must be the first or among the first five hits,
# and a name that must not come first.
ISSUE_EXAMPLES = {
    "ACE inhibitor": "lisinopril",
    "beta blocker": "atenolol",
    "SGLT2": "dapagliflozin",
    "GLP-1": "semaglutide",
    "HMG-CoA Reductase Inhibitor": "atorvastatin",
    "high blood pressure": "amlodipine",
    "statin": "rosuvastatin",
    "ARB": "losartan",
    "CCB": "verapamil",
    "DPP-4": "sitagliptin",
    "PPI": "omeprazole",
    "SSRI": "sertraline",
    "SNRI": "duloxetine",
    "DOAC": "apixaban",
    "TNF inhibitor": "adalimumab",
    "high cholesterol": "atorvastatin",
    "heart failure": "lisinopril",
    "type 2 diabetes": "metformin",
    "GERD": "omeprazole",
}
OWN_EXAMPLES = {
    "statins": "simvastatin",
    "beta blockers": "metoprolol",
    "ace inhibitors": "ramipril",
    "sglt2 inhibitor": "empagliflozin",
    "glp1": "liraglutide",
    "glp-1 agonist": "dulaglutide",
    "dpp4 inhibitor": "linagliptin",
    "nsaid": "naproxen",
    "triptan": "sumatriptan",
    "afib": "apixaban",
    "atrial fibrillation": "rivaroxaban",
    "acid reflux": "pantoprazole",
    "hypertension": "lisinopril",
    "htn": "losartan",
    "t2dm": "sitagliptin",
    "depression": "sertraline",
    "heart attack": "atorvastatin",
    "chf": "carvedilol",
    "obesity": "semaglutide",
    "bisphosphonate": "alendronate",
    "calcium channel blocker": "amlodipine",
    "anti-tnf": "infliximab",
    "gliflozin": "canagliflozin",
    "loop diuretic": "furosemide",
}
# Brands and typos keep working: (query, the drug it must put first).
NAME_EXAMPLES = {
    "lipitor": "atorvastatin",
    "ozempic": "semaglutide",
    "farxiga": "dapagliflozin",
    "mounjaro": "tirzepatide",
    "atorvastatn": "atorvastatin",
    "metfromin": "metformin",
    "eliquis": "apixaban",
}


@pytest.fixture
def names(db):
    call_command("import_catalog", "--no-progress", stdout=StringIO(), stderr=StringIO())
    return dict(Drug.objects.values_list("pk", "generic_name"))


def _top(names: dict[int, str], query: str, n: int) -> list[str]:
    return [names[hit.drug_id] for hit in search(query)[:n]]


@pytest.mark.django_db
def test_class_and_indication_queries_list_the_drugs_meant(names):
    assert len(OWN_EXAMPLES) >= 20
    failures = []
    for query, expected in {**ISSUE_EXAMPLES, **OWN_EXAMPLES}.items():
        hits = search(query)
        # Every hit up to the expected drug is a class or indication hit, not a name accident.
        drug_ids = [h.drug_id for h in hits]
        position = next((i for i, d in enumerate(drug_ids) if names[d].startswith(expected)), None)
        if position is None or hits[0].kind > 2 or any(h.kind > 2 for h in hits[:position]):
            failures.append((query, expected, _top(names, query, 5)))
    assert failures == []


@pytest.mark.django_db
def test_statin_does_not_put_nystatin_first(names):
    top = _top(names, "statin", 12)
    assert not top[0].startswith("nystatin")
    assert all("nystatin" not in name for name in top[:10])
    assert {"atorvastatin calcium", "rosuvastatin calcium", "simvastatin"} <= set(top[:10])


@pytest.mark.django_db
def test_brands_and_typos_still_come_first(names):
    for query, expected in NAME_EXAMPLES.items():
        assert names[search(query)[0].drug_id].startswith(expected), query


@pytest.mark.django_db
def test_every_curated_term_names_a_real_class_or_indication(names):
    classes = {c.lower() for c in DrugClass.objects.values_list("name", flat=True)}
    indications = {i.lower() for i in Indication.objects.values_list("name", flat=True)}
    unresolved = [
        (term, target)
        for term, kind, target in read_search_terms()
        if target.lower() not in (classes if kind == "class" else indications)
    ]
    assert unresolved == []


def test_terms_ignore_case_punctuation_and_spacing():
    assert normalize_term("GLP-1") == normalize_term("glp 1") == normalize_term("GLP1")
