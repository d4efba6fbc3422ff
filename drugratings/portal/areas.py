"""What an organisation's areas cover, how drugs and indications are named in reports, and the
portal's search over indications, classes and drugs."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from drugratings.catalog import access as catalog
from drugratings.catalog import search as catalog_search
from drugratings.catalog.models import Drug, DrugIndication, Indication
from drugratings.portal.models import PharmaOrganization

SEARCH_LIMIT = 20


@dataclass(frozen=True)
class DrugLabel:
    """How every report row names a drug."""

    drug_id: int
    drug_name: str
    brand_names: tuple[str, ...]
    manufacturer: str
    drug_class_id: int | None

    @property
    def title(self) -> str:
        brands = ", ".join(b.title() for b in self.brand_names[:3])
        return f"{self.drug_name} ({brands})" if brands else self.drug_name


def drug_labels(drug_ids) -> dict[int, DrugLabel]:
    rows = Drug.objects.filter(pk__in=list(drug_ids)).values_list(
        "pk", "generic_name", "brand_names", "manufacturer", "drug_class_id"
    )
    return {
        pk: DrugLabel(pk, name, tuple(brands or ()), manufacturer or "", class_id)
        for pk, name, brands, manufacturer, class_id in rows
    }


def indication_names(indication_ids) -> dict[int, str]:
    ids = [i for i in indication_ids if i]
    return dict(Indication.objects.filter(pk__in=ids).values_list("pk", "name"))


def subscribed_areas(org: PharmaOrganization) -> tuple[set[int], set[int]]:
    """Indications and classes the organisation subscribes to today."""
    today = timezone.localdate()
    rows = org.subscriptions.filter(starts_on__lte=today).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )
    return (
        set(rows.exclude(indication=None).values_list("indication_id", flat=True)),
        set(rows.exclude(drug_class=None).values_list("drug_class_id", flat=True)),
    )


def visible_drug_ids(org: PharmaOrganization) -> set[int] | None:
    """Drugs whose cells the organisation may read (None: every drug), the same rule as the
    scorecard check: the drug's class, or one of its listed indications, is subscribed."""
    if org.all_areas:
        return None
    indications, classes = subscribed_areas(org)
    in_class = set(Drug.objects.filter(drug_class_id__in=classes).values_list("pk", flat=True))
    listed = set(
        DrugIndication.objects.filter(indication_id__in=indications).values_list(
            "drug_id", flat=True
        )
    )
    return in_class | listed


def may_see_indication(org: PharmaOrganization, indication_id: int) -> bool:
    if org.all_areas:
        return True
    return indication_id in subscribed_areas(org)[0]


def may_see_class(org: PharmaOrganization, class_id: int) -> bool:
    if org.all_areas:
        return True
    return class_id in subscribed_areas(org)[1]


def _drug_hits(q: str) -> list[int]:
    """Drug ids matching by generic or brand name, through the catalogue's own search so that
    synonyms the catalogue learns (common terms, misspellings) reach the portal too."""

    return [hit.drug_id for hit in catalog_search.search(q, limit=SEARCH_LIMIT)]


def search_areas(org: PharmaOrganization, q: str) -> dict:
    """Indications, classes and drugs matching `q`, each marked with whether the organisation
    may open its report."""

    q = q.strip()
    drug_ids = _drug_hits(q)
    drugs = list(Drug.objects.filter(pk__in=drug_ids).select_related("drug_class"))
    drugs.sort(key=lambda d: drug_ids.index(d.pk))
    class_rows = catalog.list_drug_classes(q, limit=SEARCH_LIMIT)[0]
    # A drug found by name brings its class: "Lipitor" finds the statins too.
    seen = {c.pk for c in class_rows}
    for drug in drugs:
        if drug.drug_class and drug.drug_class_id not in seen:
            class_rows.append(drug.drug_class)
            seen.add(drug.drug_class_id)
    indications = catalog.list_indications(q, limit=SEARCH_LIMIT)[0]
    visible = visible_drug_ids(org)
    labels = drug_labels(d.pk for d in drugs)
    return {
        "q": q,
        "drugs": [
            {
                "id": d.pk,
                "drug_name": d.generic_name,
                "brand_names": list(labels[d.pk].brand_names),
                "manufacturer": d.manufacturer,
                "drug_class": d.drug_class.name if d.drug_class else None,
                "subscribed": visible is None or d.pk in visible,
                "report_url": f"/api/v1/portal/reports/drugs/{d.pk}",
            }
            for d in drugs
        ],
        "drug_classes": [
            {
                "id": c.pk,
                "name": c.name,
                "subscribed": may_see_class(org, c.pk),
                "report_url": f"/api/v1/portal/reports/drug-classes/{c.pk}",
            }
            for c in class_rows
        ],
        "indications": [
            {
                "id": i.pk,
                "name": i.name,
                "subscribed": may_see_indication(org, i.pk),
                "report_url": f"/api/v1/portal/reports/indications/{i.pk}",
            }
            for i in indications
        ],
    }
