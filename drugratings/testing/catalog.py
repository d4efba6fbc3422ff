"""A small hand-made catalogue for tests that do not need the real one."""

from __future__ import annotations

from dataclasses import dataclass

from drugratings.catalog.models import Drug, DrugClass, DrugIndication, Indication


@dataclass(frozen=True)
class SmallCatalog:
    statins: DrugClass
    ssri: DrugClass
    atorvastatin: Drug
    rosuvastatin: Drug
    sertraline: Drug
    unindicated: Drug
    hyperlipidemia: Indication
    depression: Indication
    migraine: Indication


def _drug(
    source_id: str, name: str, drug_class: DrugClass | None, brands: list[str], manufacturer: str
) -> Drug:
    return Drug.objects.create(
        source_id=source_id,
        generic_name=name,
        slug=name.replace(" ", "-"),
        moiety_key=name,
        drug_class=drug_class,
        brand_names=brands,
        manufacturer=manufacturer,
        manufacturers=[manufacturer],
        search_text="|".join([name, *[b.lower() for b in brands]]),
    )


def make_small_catalog() -> SmallCatalog:
    statins = DrugClass.objects.create(name="HMG-CoA Reductase Inhibitor", slug="statin")
    ssri = DrugClass.objects.create(name="Serotonin Reuptake Inhibitor", slug="ssri")
    hyperlipidemia = Indication.objects.create(
        name="Hyperlipidemia",
        slug="hyperlipidemia",
        icd10_codes=["E78.5"],
        search_text="hyperlipidemia e78.5",
    )
    depression = Indication.objects.create(
        name="Major depressive disorder",
        slug="mdd",
        icd10_codes=["F32.9"],
        search_text="major depressive disorder f32.9",
    )
    migraine = Indication.objects.create(
        name="Migraine", slug="migraine", icd10_codes=["G43.909"], search_text="migraine g43.909"
    )
    atorvastatin = _drug("T-1", "atorvastatin calcium", statins, ["LIPITOR"], "Pfizer")
    rosuvastatin = _drug("T-2", "rosuvastatin calcium", statins, ["CRESTOR"], "AstraZeneca")
    sertraline = _drug("T-3", "sertraline hydrochloride", ssri, ["ZOLOFT"], "Pfizer")
    unindicated = _drug("T-4", "propranolol hydrochloride", None, [], "Generic Labs")
    for drug, indication in (
        (atorvastatin, hyperlipidemia),
        (rosuvastatin, hyperlipidemia),
        (sertraline, depression),
    ):
        DrugIndication.objects.create(drug=drug, indication=indication)
    return SmallCatalog(
        statins,
        ssri,
        atorvastatin,
        rosuvastatin,
        sertraline,
        unindicated,
        hyperlipidemia,
        depression,
        migraine,
    )
