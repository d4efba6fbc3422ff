"""Labelled indications come from label sources (each pair names its source); DrugCentral's
loose uses are not listed; combinations inherit; one drug per active moiety."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from drugratings.catalog.importers.records import canonical_moiety, moiety_key
from drugratings.catalog.models import Drug, DrugIndication

# (moiety key, indication name): on the FDA label, must be listed.
KNOWN_LABELLED = [
    ("atorvastatin", "Hypercholesterolemia"),
    ("atorvastatin", "Myocardial Infarction"),
    ("simvastatin", "Hypercholesterolemia"),
    ("rosuvastatin", "Hypertriglyceridemia"),
    ("lisinopril", "Hypertension"),
    ("lisinopril", "Heart Failure"),
    ("amlodipine", "Hypertension"),
    ("amlodipine", "Chronic Angina Pectoris"),
    ("losartan", "Hypertension"),
    ("losartan", "Diabetic Nephropathy"),
    ("metformin", "Type 2 Diabetes Mellitus"),
    ("sitagliptin", "Type 2 Diabetes Mellitus"),
    ("dapagliflozin", "Type 2 Diabetes Mellitus"),
    ("dapagliflozin", "Heart Failure"),
    ("empagliflozin", "Type 2 Diabetes Mellitus"),
    ("semaglutide", "Type 2 Diabetes Mellitus"),
    ("semaglutide", "Obesity"),
    ("tirzepatide", "Type 2 Diabetes Mellitus"),
    ("apixaban", "Atrial Fibrillation"),
    ("apixaban", "Pulmonary Embolism"),
    ("rivaroxaban", "Deep Venous Thrombosis"),
    ("sertraline", "Major Depressive Disorder"),
    ("sertraline", "Panic Disorder"),
    ("sertraline", "Obsessive-Compulsive Disorder"),
    ("pantoprazole", "Gastroesophageal Reflux"),
    ("pantoprazole", "Zollinger-Ellison Syndrome"),
    ("omeprazole", "Gastroesophageal Reflux"),
    ("risedronate", "Osteoporosis"),
    ("risedronate", "Paget's Disease of Bone"),
    ("paclitaxel", "Locally Advanced Breast Carcinoma"),
    ("sacubitril; valsartan", "Heart Failure"),
    # Combination products inherit what the labels of all their components share.
    ("amlodipine; valsartan", "Hypertension"),
    ("amlodipine; benazepril", "Hypertension"),
    ("glyburide; metformin", "Type 2 Diabetes Mellitus"),
    ("dapagliflozin; saxagliptin", "Type 2 Diabetes Mellitus"),
]

# (moiety key, indication name): DrugCentral 2016 lists these, no label does.
KNOWN_WRONG = [
    ("isotretinoin", "Hypertension"),
    ("paclitaxel", "Hypertension"),
    ("atorvastatin", "Hypertension"),
    ("lisinopril", "Superficial Ocular Infection"),
    ("amlodipine", "Hypercholesterolemia"),
    ("amlodipine", "Mixed Hyperlipidemia"),
    ("amlodipine", "Hypertriglyceridemia"),
    ("amlodipine", "Heterozygous Hypercholesterolemia"),
    ("amlodipine", "Homozygous Familial Hypercholesterolemia"),
    ("amlodipine", "Primary Dysbetalipoproteinemia"),
    ("atorvastatin", "Prinzmetal Angina"),
    ("atorvastatin", "Mixed Hyperlipidemia"),
    ("lisinopril", "Myocardial Infarction"),
    ("metformin", "Treatment Refractory Type 2 Diabetes Mellitus"),
    ("metformin", "Polycystic Ovary Syndrome"),
    ("metformin", "Metabolic syndrome X"),
    ("omeprazole", "Kidney cancer"),
    ("omeprazole", "Prostatic Carcinoma"),
    ("lisinopril", "Scleroderma"),
    ("isotretinoin", "Peripheral nervous system neoplasm"),
    ("amlodipine", "Slow Progression of Coronary Artery Disease"),
    ("atorvastatin", "Slow Progression of Coronary Artery Disease"),
]


def listed(key: str) -> dict[str, str]:
    drug = Drug.objects.get(moiety_key=key)
    return {
        di.indication.name.lower(): di.source
        for di in DrugIndication.objects.filter(drug=drug).select_related("indication")
    }


@pytest.mark.django_db
def test_known_labelled_pairs_are_listed_with_a_source():
    call_command("import_catalog", "--no-progress", stdout=StringIO(), stderr=StringIO())
    assert len(KNOWN_LABELLED) >= 30 and len(KNOWN_WRONG) >= 20
    missing = [pair for pair in KNOWN_LABELLED if pair[1].lower() not in listed(pair[0])]
    assert missing == []
    wrong = [pair for pair in KNOWN_WRONG if pair[1].lower() in listed(pair[0])]
    assert wrong == []
    assert "LabeledIn" in listed("metformin")["type 2 diabetes mellitus"]
    assert listed("apixaban")["atrial fibrillation"] == "FDA label: ELIQUIS (NDA 202155)"
    assert "component" in listed("amlodipine; valsartan")["hypertension"]
    assert not DrugIndication.objects.filter(source="").exists()


@pytest.mark.django_db
def test_one_drug_per_active_moiety_with_every_brand_under_it():
    call_command("import_catalog", "--no-progress", stdout=StringIO(), stderr=StringIO())
    dapagliflozin = Drug.objects.get(moiety_key="dapagliflozin")
    assert "FARXIGA" in dapagliflozin.brand_names
    assert Drug.objects.filter(generic_name="dapagliflozin").count() == 1
    assert dapagliflozin.aliases  # the salt-form row merged into it
    assert Drug.objects.filter(moiety_key="risedronate").count() == 1
    assert {"ACTONEL", "ATELVIA"} <= set(Drug.objects.get(moiety_key="risedronate").brand_names)
    keys = list(Drug.objects.values_list("moiety_key", flat=True))
    assert len(keys) == len(set(keys))
    # A second run keeps the merge (nothing re-created under the alias id).
    count = Drug.objects.count()
    call_command("import_catalog", "--no-progress", stdout=StringIO(), stderr=StringIO())
    assert Drug.objects.count() == count


def test_salt_and_hydrate_words_are_stripped_but_inorganic_salts_kept():
    assert canonical_moiety("ATORVASTATIN CALCIUM TRIHYDRATE") == "atorvastatin"
    assert canonical_moiety("dapagliflozin propanediol") == "dapagliflozin"
    assert canonical_moiety("risedronate sodium hemi-pentahydrate") == "risedronate"
    assert canonical_moiety("potassium chloride") == "potassium chloride"
    assert canonical_moiety("potassium citrate") == "potassium citrate"
    assert moiety_key(["METFORMIN HYDROCHLORIDE", "dapagliflozin propanediol"]) == (
        "dapagliflozin; metformin"
    )
