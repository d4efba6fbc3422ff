"""Writes to the catalogue: idempotent bulk loading of drugs, brands, classes and indications;
reports of wrong catalogue facts and moderators' corrections.

A verified physician or a moderator reports a wrong fact from the drug page; moderators resolve
each report in their queue by correcting the drug's labelled indications or dismissing it. A
correction is stored apart from the imported data and re-applied by every `import_catalog`,
so it survives re-imports; every report and decision writes a CatalogAudit row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from drugratings.accounts.access import AccessDenied, Capability, can, require
from drugratings.accounts.models import User
from drugratings.catalog.importers.labels import DRUGCENTRAL, PHARMACOTHERAPYDB, LabelRow
from drugratings.catalog.importers.records import (
    BrandRecord,
    DrugRecord,
    IndicationRecord,
    merge_same_moiety,
)
from drugratings.catalog.importers.rows import ImportReport
from drugratings.catalog.models import (
    BrandProduct,
    CatalogAudit,
    CatalogCorrection,
    CatalogErrorReport,
    CatalogReportKind,
    CatalogReportStatus,
    CorrectionAction,
    Drug,
    DrugClass,
    DrugIndication,
    Indication,
)
from drugratings.catalog.search import invalidate_search_index
from drugratings.errors import InvalidInput

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
    "aliases",
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
        "aliases": record.aliases,
    }


def drug_ids_by_source() -> dict[str, int]:
    """Drug pk by source id, merged rows' ids (aliases) included."""
    ids: dict[str, int] = {}
    for pk, source_id, aliases in Drug.objects.values_list("pk", "source_id", "aliases"):
        for alias in aliases or []:
            ids.setdefault(alias, pk)
        ids[source_id] = pk
    return ids


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
    records = merge_same_moiety(records)
    drugs = list(Drug.objects.all())
    existing = {d.source_id: d for d in drugs}
    by_alias = {alias: d for d in drugs for alias in d.aliases or []}
    by_key = {d.moiety_key: d for d in sorted(drugs, key=lambda d: -d.pk)}
    taken = {d.slug for d in drugs}
    new: list[Drug] = []
    changed: list[Drug] = []
    for record in records:
        drug = (
            existing.get(record.source_id)
            or by_alias.get(record.source_id)
            or next((existing[a] for a in record.aliases if a in existing), None)
            or by_key.get(record.moiety_key)
        )
        if drug is not None and drug.source_id != record.source_id:
            # The drug was stored under another row of the same moiety: keep its id.
            aliases = dict.fromkeys([*record.aliases, record.source_id])
            aliases.pop(drug.source_id, None)
            record.aliases, record.source_id = list(aliases), drug.source_id
        values = _drug_values(record, classes)
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
        present = {r.source_id for r in records} | {a for r in records for a in r.aliases}
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
    ids = drug_ids_by_source()
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


@dataclass
class LabelStats:
    """What the labelled-indication step did, for SOURCES.md and the import summary."""

    drugs_listed_before: int = 0  # drugs with at least one DrugCentral pair (the old rule)
    drugs_listed_after: int = 0
    pairs_listed: int = 0
    dropped: list[tuple[str, str]] = field(default_factory=list)  # DrugCentral-only pairs
    unresolved_label_rows: int = 0


def _create_indications(entries: dict[str, dict[str, Any]], report: ImportReport) -> None:
    existing = {i.name.lower(): i for i in Indication.objects.all()}
    taken = {i.slug for i in existing.values()}
    new, changed = [], []
    for key, entry in entries.items():
        codes = list(entry["codes"])
        synonyms = sorted(
            {s for s in entry.get("synonyms", ()) if s and s.lower() != entry["name"].lower()}
        )
        values = {
            "icd10_codes": codes,
            "doid": entry["doid"][:20],
            "umls_cui": entry["cui"][:20],
            "synonyms": synonyms,
            "search_text": " ".join(
                [entry["name"].lower(), *[s.lower() for s in synonyms], *[c.lower() for c in codes]]
            ),
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
        changed, ["icd10_codes", "doid", "umls_cui", "synonyms", "search_text"], batch_size=BATCH
    )
    report.created += len(new)
    report.updated += len(changed)


def _add_synonyms(
    entries: dict[str, dict[str, Any]], labels: list[LabelRow], do_labels: dict[str, str]
) -> None:
    """Other names of each indication: its Disease Ontology label and the MeSH headings the
    label sources use for the same concept (UMLS CUI or DOID)."""
    mesh_by_cui: dict[str, set[str]] = defaultdict(set)
    for label in labels:
        if label.cui and label.name:
            mesh_by_cui[label.cui].add(label.name)
    for entry in entries.values():
        names = set(mesh_by_cui.get(entry["cui"], ())) if entry["cui"] else set()
        if entry["doid"] in do_labels:
            names.add(do_labels[entry["doid"]])
        entry["synonyms"] = names


def _entry(name: str, codes: Iterable[str], doid: str, cui: str) -> dict[str, Any]:
    return {"name": name[:250], "codes": dict.fromkeys(codes), "doid": doid, "cui": cui}


@transaction.atomic
def load_indications(
    records: list[IndicationRecord],
    labels: list[LabelRow],
    report: ImportReport,
    do_labels: dict[str, str] | None = None,
) -> LabelStats:
    """Create every indication DrugCentral and the label sources name, and list a drug's
    indication only where a label source says so (DrugCentral alone is not enough).

    Combination products list the indications that the labels of all their components share
    (Exforge: amlodipine and valsartan are both labelled for hypertension). Moderators'
    corrections are applied last, so they survive every re-import.
    """
    entries: dict[str, dict[str, Any]] = {}
    for record in records:
        entry = entries.setdefault(
            record.name.lower(), _entry(record.name, (), record.doid, record.umls_cui)
        )
        entry["codes"].update(dict.fromkeys(record.icd10_codes))
        entry["doid"] = entry["doid"] or record.doid
        entry["cui"] = entry["cui"] or record.umls_cui
    by_cui: dict[str, list[str]] = defaultdict(list)
    by_doid: dict[str, list[str]] = defaultdict(list)
    for key, entry in entries.items():
        if entry["cui"]:
            by_cui[entry["cui"]].append(key)
        if entry["doid"]:
            by_doid[entry["doid"]].append(key)
    drug_ids = drug_ids_by_source()
    dc_pairs: set[tuple[int, str]] = {
        (drug_ids[s], r.name.lower()) for r in records for s in r.drug_source_ids if s in drug_ids
    }
    drug_by_key = {key: pk for pk, key in Drug.objects.values_list("pk", "moiety_key")}
    stats = LabelStats()
    stats.drugs_listed_before = len({d for d, _ in dc_pairs})
    wanted: dict[tuple[int, str], dict[str, None]] = defaultdict(dict)
    # PharmacotherapyDB also counts symptomatic and literature uses (omeprazole "for" kidney
    # cancer), so it only confirms a pair the label or DrugCentral lists; it never adds one.
    for label in sorted(labels, key=lambda row: row.source == PHARMACOTHERAPYDB):
        drug_id = drug_by_key.get(label.drug)
        confirm_only = label.source == PHARMACOTHERAPYDB
        keys = _label_indications(
            label, drug_id, entries, by_cui, by_doid, dc_pairs, create=not confirm_only
        )
        if confirm_only:
            keys = [k for k in keys if (drug_id, k) in dc_pairs or (drug_id, k) in wanted]
        if drug_id is None or not keys:
            stats.unresolved_label_rows += 1
            continue
        for key in keys:
            wanted[(drug_id, key)][label.source] = None
    for pair, sources in wanted.items():
        if pair in dc_pairs:
            sources[DRUGCENTRAL] = None
    _inherit_for_combinations(drug_by_key, wanted)
    _add_synonyms(entries, labels, do_labels or {})
    _create_indications(entries, report)
    indication_ids = {name.lower(): pk for pk, name in Indication.objects.values_list("pk", "name")}
    listed = {(d, indication_ids[k]): "; ".join(s) for (d, k), s in wanted.items()}
    _apply_corrections(listed)
    _sync_links(listed)
    generic = dict(Drug.objects.values_list("pk", "generic_name"))
    stats.dropped = sorted(
        (generic[d], k) for d, k in dc_pairs if (d, indication_ids.get(k)) not in listed
    )
    stats.pairs_listed = len(listed)
    stats.drugs_listed_after = len({d for d, _ in listed})
    return stats


def _label_indications(
    label: LabelRow,
    drug_id: int | None,
    entries: dict[str, dict[str, Any]],
    by_cui: dict[str, list[str]],
    by_doid: dict[str, list[str]],
    dc_pairs: set[tuple[int, str]],
    *,
    create: bool,
) -> list[str]:
    """Indication keys a label row means: the same concept (UMLS CUI, then DOID, then name)
    as a DrugCentral indication, preferring the names DrugCentral uses for this drug; a new
    indication when no source names the concept yet."""
    candidates = by_cui.get(label.cui, []) if label.cui else []
    candidates = candidates or (by_doid.get(label.doid, []) if label.doid else [])
    if label.name.lower() in entries and label.name.lower() not in candidates:
        candidates = [*candidates, label.name.lower()]
    if candidates:
        agreed = [k for k in candidates if (drug_id, k) in dc_pairs]
        if agreed:
            return agreed
        named = [k for k in candidates if k == label.name.lower()]
        return named or sorted(candidates, key=len)[:1]
    if not label.name or not create:
        return []
    entries[label.name.lower()] = _entry(label.name, label.icd10_codes, label.doid, label.cui)
    for target, value in ((by_cui, label.cui), (by_doid, label.doid)):
        if value:
            target[value].append(label.name.lower())
    return [label.name.lower()]


def _inherit_for_combinations(
    drug_by_key: dict[str, int], wanted: dict[tuple[int, str], dict[str, None]]
) -> None:
    per_drug: dict[int, set[str]] = defaultdict(set)
    for drug_id, key in wanted:
        per_drug[drug_id].add(key)
    for moieties, drug_id in drug_by_key.items():
        parts = moieties.split("; ")
        if len(parts) < 2 or per_drug.get(drug_id):
            continue
        components = [drug_by_key.get(p) for p in parts]
        if any(c is None or not per_drug.get(c) for c in components):
            continue
        shared = set.intersection(*(per_drug[c] for c in components))  # type: ignore[index]
        for key in shared:
            wanted[(drug_id, key)] = {"FDA labels of each component (LabeledIn)": None}


def _apply_corrections(listed: dict[tuple[int, int], str]) -> None:
    for correction in CatalogCorrection.objects.all():
        pair = (correction.drug_id, correction.indication_id)
        if correction.action == CorrectionAction.REMOVE_INDICATION:
            listed.pop(pair, None)
        else:
            listed[pair] = f"Moderator correction: {correction.reference}"[:200]


def _sync_links(listed: dict[tuple[int, int], str]) -> None:
    """Make the stored drug-indication links exactly `listed`, sources included."""
    have = {(di.drug_id, di.indication_id): di for di in DrugIndication.objects.all()}
    stale = [di.pk for pair, di in have.items() if pair not in listed]
    for start in range(0, len(stale), BATCH):
        DrugIndication.objects.filter(pk__in=stale[start : start + BATCH]).delete()
    changed = []
    for pair, source in listed.items():
        current = have.get(pair)
        if current is not None and current.source != source:
            current.source = source[:200]
            changed.append(current)
    DrugIndication.objects.bulk_update(changed, ["source"], batch_size=BATCH)
    DrugIndication.objects.bulk_create(
        [
            DrugIndication(drug_id=d, indication_id=i, source=source[:200])
            for (d, i), source in listed.items()
            if (d, i) not in have
        ],
        batch_size=BATCH,
    )


MESSAGE_MIN, MESSAGE_MAX = 10, 2000
REFERENCE_MAX = 150


def can_report(user: User) -> bool:
    return can(user, Capability.FLAG) or can(user, Capability.MODERATE)


def _require_reporter(user: User) -> None:
    if not can_report(user):
        if not user.is_authenticated:
            raise AccessDenied("Sign in first.", status=401)
        raise AccessDenied("Only verified physicians and moderators may report catalogue errors.")


def _drug(drug_id: int) -> Drug:
    drug = Drug.objects.filter(pk=drug_id).first()
    if drug is None:
        raise InvalidInput("drug", f"drug {drug_id} does not exist", status=404)
    return drug


def _indication(indication_id: int | None, field: str = "indication_id") -> Indication | None:
    if indication_id is None:
        return None
    indication = Indication.objects.filter(pk=indication_id).first()
    if indication is None:
        raise InvalidInput(field, f"indication {indication_id} does not exist")
    return indication


@transaction.atomic
def report_error(
    user: User, drug_id: int, *, kind: str, message: str, indication_id: int | None = None
) -> CatalogErrorReport:
    _require_reporter(user)
    drug = _drug(drug_id)
    if kind not in CatalogReportKind.values:
        raise InvalidInput("kind", f"use one of: {', '.join(CatalogReportKind.values)}")
    message = message.strip()
    if not MESSAGE_MIN <= len(message) <= MESSAGE_MAX:
        raise InvalidInput(
            "message", f"say what is wrong in {MESSAGE_MIN} to {MESSAGE_MAX} characters"
        )
    indication = _indication(indication_id)
    if kind == CatalogReportKind.NOT_ON_LABEL and indication is None:
        raise InvalidInput("indication_id", "name the indication that is not on the label")
    report = CatalogErrorReport.objects.create(
        drug=drug, indication=indication, kind=kind, message=message, reporter=user
    )
    CatalogAudit.objects.create(
        actor=user,
        action="report",
        drug=drug,
        details={"report": report.pk, "kind": kind, "indication": indication_id},
    )
    return report


def _apply(correction: CatalogCorrection) -> None:
    """Apply a correction now (the importer re-applies it on every run)."""
    pair = {"drug_id": correction.drug_id, "indication_id": correction.indication_id}
    if correction.action == CorrectionAction.REMOVE_INDICATION:
        DrugIndication.objects.filter(**pair).delete()
    else:
        source = f"Moderator correction: {correction.reference}"[:200]
        DrugIndication.objects.update_or_create(**pair, defaults={"source": source})
    invalidate_search_index()


@transaction.atomic
def resolve_report(
    moderator: User,
    report_id: int,
    *,
    decision: str,
    note: str = "",
    action: str | None = None,
    indication_id: int | None = None,
    reference: str = "",
) -> CatalogErrorReport:
    """`decision` "correct" (with a correction `action` on an indication, citing the
    `reference` checked, such as the label's URL) or "dismiss"."""
    require(moderator, Capability.MODERATE)
    report = CatalogErrorReport.objects.select_for_update().filter(pk=report_id).first()
    if report is None:
        raise InvalidInput("report", f"report {report_id} does not exist", status=404)
    if report.status != CatalogReportStatus.OPEN:
        raise InvalidInput("report", "this report is already resolved", status=409)
    if decision not in ("correct", "dismiss"):
        raise InvalidInput("decision", "use correct or dismiss")
    note = note.strip()[:500]
    details: dict[str, object] = {"report": report.pk, "decision": decision, "note": note}
    if decision == "correct":
        if action not in CorrectionAction.values:
            raise InvalidInput("action", f"use one of: {', '.join(CorrectionAction.values)}")
        indication = _indication(
            indication_id if indication_id is not None else report.indication_id
        )
        if indication is None:
            raise InvalidInput("indication_id", "name the indication to correct")
        reference = " ".join(reference.split())
        if not 3 <= len(reference) <= REFERENCE_MAX:
            raise InvalidInput("reference", "cite the label or reference you checked")
        correction, _ = CatalogCorrection.objects.update_or_create(
            drug=report.drug,
            indication=indication,
            defaults={
                "action": action,
                "reference": reference,
                "report": report,
                "created_by": moderator,
                "created_at": timezone.now(),
            },
        )
        _apply(correction)
        details.update(action=action, indication=indication.pk, reference=reference)
    report.status = (
        CatalogReportStatus.CORRECTED if decision == "correct" else CatalogReportStatus.DISMISSED
    )
    report.resolved_at, report.resolved_by, report.resolution = timezone.now(), moderator, note
    report.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
    CatalogAudit.objects.create(
        actor=moderator, action=f"resolve:{decision}", drug=report.drug, details=details
    )
    return report
