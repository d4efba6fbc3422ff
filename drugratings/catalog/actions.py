"""Writes to the catalogue: idempotent bulk loading of drugs, brands, classes and indications."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from drugratings.catalog.importers.records import BrandRecord, DrugRecord, IndicationRecord
from drugratings.catalog.importers.rows import ImportReport
from drugratings.catalog.models import BrandProduct, Drug, DrugClass, DrugIndication, Indication
from drugratings.catalog.search import invalidate_search_index

BATCH = 1000
DRUG_FIELDS = (
    "generic_name",
    "moiety_key",
    "drug_class_id",
    "brand_names",
    "manufacturer",
    "manufacturers",
    "application_numbers",
    "approval_status",
    "product_type",
    "routes",
    "dosage_forms",
    "dea_schedule",
    "first_marketed",
    "is_listed",
    "search_text",
)


def _unique_slug(base: str, suffix: str, taken: set[str], limit: int) -> str:
    slug = slugify(base)[:limit].strip("-") or slugify(suffix)
    if slug in taken:
        slug = f"{slug[: limit - len(suffix) - 1]}-{slugify(suffix)}"
    taken.add(slug)
    return slug


def ensure_classes(names_with_source: dict[str, str]) -> dict[str, DrugClass]:
    """Return DrugClass rows by name, creating the missing ones."""
    existing = {c.name: c for c in DrugClass.objects.all()}
    taken = {c.slug for c in existing.values()}
    new = [
        DrugClass(name=name, source=source, slug=_unique_slug(name, str(len(taken)), taken, 200))
        for name, source in names_with_source.items()
        if name not in existing
    ]
    DrugClass.objects.bulk_create(new, batch_size=BATCH)
    if new:
        existing = {c.name: c for c in DrugClass.objects.all()}
    return existing


def _search_text(generic: str, brands: Iterable[str], moieties: str) -> str:
    names = [generic, *brands, *moieties.split("; ")]
    return "|".join(dict.fromkeys(n.strip().lower() for n in names if n.strip()))


def _drug_values(record: DrugRecord, classes: dict[str, DrugClass]) -> dict[str, Any]:
    drug_class = classes.get(record.primary_class) if record.primary_class else None
    return {
        "generic_name": record.generic_name[:400],
        "moiety_key": record.moiety_key[:600],
        "drug_class_id": drug_class.pk if drug_class else None,
        "brand_names": record.brand_names,
        "manufacturer": (record.manufacturers[0] if record.manufacturers else "")[:200],
        "manufacturers": record.manufacturers,
        "application_numbers": record.application_numbers,
        "approval_status": record.approval_status[:60],
        "product_type": record.product_type[:60],
        "routes": ", ".join(record.routes)[:300],
        "dosage_forms": ", ".join(record.dosage_forms)[:300],
        "dea_schedule": record.dea_schedule[:10],
        "first_marketed": record.first_marketed,
        "is_listed": record.is_listed,
        "search_text": _search_text(record.generic_name, record.brand_names, record.moiety_key),
    }


@transaction.atomic
def load_drugs(
    records: list[DrugRecord], report: ImportReport, *, mark_unlisted: bool = False
) -> None:
    """Insert new drugs and update changed ones, matched by `source_id`. Never deletes a drug:
    ratings refer to them. With `mark_unlisted`, drugs absent from `records` become unlisted."""
    class_sources: dict[str, str] = {}
    for record in records:
        for name in record.classes:
            class_sources.setdefault(name, "FDA EPC")
        if record.primary_class:
            class_sources.setdefault(record.primary_class, record.class_source)
    classes = ensure_classes(class_sources)
    existing = {d.source_id: d for d in Drug.objects.all()}
    taken = {d.slug for d in existing.values()}
    new: list[Drug] = []
    changed: list[Drug] = []
    for record in records:
        values = _drug_values(record, classes)
        drug = existing.get(record.source_id)
        if drug is None:
            slug = _unique_slug(record.generic_name, record.source_id, taken, 180)
            new.append(Drug(source_id=record.source_id, slug=slug, **values))
            continue
        diff = {k: v for k, v in values.items() if getattr(drug, k) != v}
        if diff:
            for key, value in diff.items():
                setattr(drug, key, value)
            changed.append(drug)
        else:
            report.unchanged += 1
    if mark_unlisted:
        present = {r.source_id for r in records}
        for drug in existing.values():
            if drug.source_id not in present and drug.is_listed:
                drug.is_listed = False
                changed.append(drug)
    Drug.objects.bulk_create(new, batch_size=BATCH)
    Drug.objects.bulk_update(changed, DRUG_FIELDS, batch_size=BATCH)
    report.created += len(new)
    report.updated += len(changed)
    _link_other_classes(records, classes)
    invalidate_search_index()


def _link_other_classes(records: list[DrugRecord], classes: dict[str, DrugClass]) -> None:
    ids = dict(Drug.objects.values_list("source_id", "pk"))
    through = Drug.other_classes.through
    wanted = {
        (ids[r.source_id], classes[name].pk)
        for r in records
        for name in r.classes
        if name != r.primary_class and r.source_id in ids
    }
    touched = {ids[r.source_id] for r in records if r.source_id in ids}
    have = set(through.objects.filter(drug_id__in=touched).values_list("drug_id", "drugclass_id"))
    for drug_id, class_id in have - wanted:
        through.objects.filter(drug_id=drug_id, drugclass_id=class_id).delete()
    through.objects.bulk_create(
        [through(drug_id=d, drugclass_id=c) for d, c in wanted - have], batch_size=BATCH
    )


@transaction.atomic
def load_brands(records: list[BrandRecord], report: ImportReport) -> None:
    drugs_by_key: dict[str, int] = {}
    for pk, key in Drug.objects.values_list("pk", "moiety_key").order_by("pk"):
        drugs_by_key.setdefault(key, pk)
    existing = {
        (b.drug_id, b.brand_name, b.application_number): b for b in BrandProduct.objects.all()
    }
    new, changed = [], []
    seen: set[tuple[int, str, str]] = set()
    for record in records:
        drug_id = drugs_by_key.get(record.moiety_key)
        if drug_id is None:
            continue
        key = (drug_id, record.brand_name[:300], record.application_number[:30])
        if key in seen:
            continue
        seen.add(key)
        values = {
            "application_holder": record.application_holder[:200],
            "routes": record.routes[:300],
            "first_marketed": record.first_marketed,
        }
        brand = existing.get(key)
        if brand is None:
            new.append(
                BrandProduct(drug_id=key[0], brand_name=key[1], application_number=key[2], **values)
            )
        elif any(getattr(brand, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(brand, k, v)
            changed.append(brand)
        else:
            report.unchanged += 1
    BrandProduct.objects.bulk_create(new, batch_size=BATCH)
    BrandProduct.objects.bulk_update(
        changed, ["application_holder", "routes", "first_marketed"], batch_size=BATCH
    )
    report.created += len(new)
    report.updated += len(changed)


@transaction.atomic
def load_indications(records: list[IndicationRecord], report: ImportReport) -> None:
    """Create indications (merging ICD-10 codes across rows) and their drug links."""
    merged: dict[str, dict[str, Any]] = {}
    for record in records:
        entry = merged.setdefault(
            record.name.lower(),
            {
                "name": record.name[:250],
                "codes": {},
                "doid": record.doid,
                "cui": record.umls_cui,
                "drugs": set(),
            },
        )
        entry["codes"].update(dict.fromkeys(record.icd10_codes))
        entry["doid"] = entry["doid"] or record.doid
        entry["drugs"].update(record.drug_source_ids)
    existing = {i.name.lower(): i for i in Indication.objects.all()}
    taken = {i.slug for i in existing.values()}
    new, changed = [], []
    for key, entry in merged.items():
        codes = list(entry["codes"])
        values = {
            "icd10_codes": codes,
            "doid": entry["doid"][:20],
            "umls_cui": entry["cui"][:20],
            "search_text": " ".join([entry["name"].lower(), *[c.lower() for c in codes]]),
        }
        indication = existing.get(key)
        if indication is None:
            slug = _unique_slug(entry["name"], str(len(taken)), taken, 240)
            new.append(Indication(name=entry["name"], slug=slug, **values))
        elif any(getattr(indication, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(indication, k, v)
            changed.append(indication)
        else:
            report.unchanged += 1
    Indication.objects.bulk_create(new, batch_size=BATCH)
    Indication.objects.bulk_update(
        changed, ["icd10_codes", "doid", "umls_cui", "search_text"], batch_size=BATCH
    )
    report.created += len(new)
    report.updated += len(changed)
    _link_indications(merged)


def _link_indications(merged: dict[str, dict[str, Any]]) -> None:
    drug_ids = dict(Drug.objects.values_list("source_id", "pk"))
    indication_ids = {name.lower(): pk for pk, name in Indication.objects.values_list("pk", "name")}
    have = set(DrugIndication.objects.values_list("drug_id", "indication_id"))
    wanted = {
        (drug_ids[source_id], indication_ids[key])
        for key, entry in merged.items()
        for source_id in entry["drugs"]
        if source_id in drug_ids
    }
    DrugIndication.objects.bulk_create(
        [DrugIndication(drug_id=d, indication_id=i) for d, i in wanted - have], batch_size=BATCH
    )
