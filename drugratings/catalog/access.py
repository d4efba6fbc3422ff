"""Reads of the catalogue: drug lookup, search with filters, indication and class lookups."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404

from drugratings.catalog import search as name_search
from drugratings.catalog.models import (
    CatalogErrorReport,
    CatalogReportStatus,
    Drug,
    DrugClass,
    DrugIndication,
    Indication,
)
from drugratings.core.rows import one_row
from drugratings.errors import InvalidInput


def drugs_with_relations() -> QuerySet[Drug]:
    return Drug.objects.select_related("drug_class").prefetch_related(
        Prefetch("indications", queryset=Indication.objects.order_by("name")),
        Prefetch("drug_indications", queryset=DrugIndication.objects.select_related("indication")),
    )


def _one(queryset: QuerySet, message: str, **lookup):
    found = queryset.filter(**lookup).first()
    if found is None:
        raise Http404(message)
    return found


def get_drug(drug_id: int) -> Drug:
    return _one(drugs_with_relations(), f"Drug {drug_id} does not exist.", pk=drug_id)


def get_drug_by_slug(slug: str) -> Drug:
    return _one(drugs_with_relations(), f"No drug '{slug}'.", slug=slug)


# The drug's id, slug and name only: what a page or document stored elsewhere needs to be
# found (one compiled read, core/rows.py); `get_drug` reads the rest when one is built.
_NAME_FIELDS = ("id", "slug", "generic_name")


def get_drug_ref(drug_id: int) -> Drug:
    return _found(one_row(Drug, pk=drug_id, fields=_NAME_FIELDS), f"Drug {drug_id} does not exist.")


def get_drug_name(slug: str) -> Drug:
    return _found(one_row(Drug, slug=slug, fields=_NAME_FIELDS), f"No drug '{slug}'.")


def _found(drug: Drug | None, message: str) -> Drug:
    if drug is None:
        raise Http404(message)
    return drug


def get_indication(indication_id: int) -> Indication:
    return _one(Indication.objects, f"Indication {indication_id} does not exist.", pk=indication_id)


def get_indication_by_slug(slug: str) -> Indication:
    return _one(Indication.objects, f"No indication '{slug}'.", slug=slug)


def get_drug_class(class_id: int) -> DrugClass:
    return _one(DrugClass.objects, f"Drug class {class_id} does not exist.", pk=class_id)


def get_drug_class_by_slug(slug: str) -> DrugClass:
    return _one(DrugClass.objects, f"No drug class '{slug}'.", slug=slug)


@dataclass(frozen=True)
class DrugPage:
    drugs: list[Drug]
    total: int
    page: int
    page_size: int
    typo_matches: bool

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def search_drugs(
    q: str = "",
    *,
    drug_class_id: int | None = None,
    indication_id: int | None = None,
    page: int = 1,
    page_size: int = 20,
) -> DrugPage:
    """Drugs matching a name query (ranked by match quality) and filters, one page of them."""
    if page < 1:
        raise InvalidInput("page", "must be 1 or more")
    if not 1 <= page_size <= 100:
        raise InvalidInput("page_size", "must be between 1 and 100")
    if drug_class_id is not None and not DrugClass.objects.filter(pk=drug_class_id).exists():
        raise InvalidInput("drug_class", f"drug class {drug_class_id} does not exist")
    if indication_id is not None and not Indication.objects.filter(pk=indication_id).exists():
        raise InvalidInput("indication", f"indication {indication_id} does not exist")
    base = Drug.objects.all()
    if drug_class_id is not None:
        base = base.filter(drug_class_id=drug_class_id)
    if indication_id is not None:
        base = base.filter(drug_indications__indication_id=indication_id)
    start = (page - 1) * page_size
    q = q.strip()
    if not q:
        total = base.count()
        ids = list(
            base.order_by("generic_name").values_list("pk", flat=True)[start : start + page_size]
        )
        typo = False
    else:
        hits = name_search.search(q)
        allowed = (
            set(base.filter(pk__in=[h.drug_id for h in hits]).values_list("pk", flat=True))
            if (drug_class_id or indication_id)
            else None
        )
        ranked = [h for h in hits if allowed is None or h.drug_id in allowed]
        total = len(ranked)
        ids = [h.drug_id for h in ranked[start : start + page_size]]
        typo = any(h.kind == name_search.MatchKind.TYPO for h in ranked[start : start + page_size])
    by_id = {d.pk: d for d in drugs_with_relations().filter(pk__in=ids)}
    return DrugPage([by_id[i] for i in ids if i in by_id], total, page, page_size, typo)


def list_indications(q: str = "", limit: int = 50, offset: int = 0) -> tuple[list[Indication], int]:
    """Indications by name or ICD-10 code; the most used (by drugs and ratings) first."""
    qs = Indication.objects.all()
    q = q.strip().lower()
    if q:
        qs = qs.filter(search_text__contains=q)
    qs = qs.annotate(n_drugs=Count("drug_indications", distinct=True)).order_by("-n_drugs", "name")
    return list(qs[offset : offset + limit]), qs.count()


def list_drug_classes(
    q: str = "", limit: int = 100, offset: int = 0
) -> tuple[list[DrugClass], int]:
    qs = DrugClass.objects.annotate(n_drugs=Count("drugs")).filter(n_drugs__gt=0)
    if q.strip():
        qs = qs.filter(name__icontains=q.strip())
    qs = qs.order_by("-n_drugs", "name")
    return list(qs[offset : offset + limit]), qs.count()


def drugs_in_class(drug_class: DrugClass) -> list[Drug]:
    return list(drugs_with_relations().filter(drug_class=drug_class).order_by("generic_name"))


def indications_by_id(ids: list[int]) -> dict[int, Indication]:
    return Indication.objects.in_bulk(ids)


def indication_named(text: str) -> Indication | None:
    """The indication whose name is exactly `text` (any case), if there is one."""
    return Indication.objects.filter(name__iexact=text.strip()).first()


def open_reports() -> QuerySet[CatalogErrorReport]:
    """The moderators' queue of catalogue error reports, oldest first."""
    return CatalogErrorReport.objects.filter(status=CatalogReportStatus.OPEN).select_related(
        "drug", "indication", "reporter"
    )
