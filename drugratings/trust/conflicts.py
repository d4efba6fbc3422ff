"""Conflict-of-interest flagging: a rating is flagged when its rater has a relationship, declared
or paid (CMS Open Payments), with the drug's manufacturer or with the maker of a direct
competitor (another drug of the same class), active within the look-back window of the rating.
Flagged ratings are excluded from scores by default; pages show the sensitivity figure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from drugratings.catalog.models import Drug
from drugratings.ratings.actions import set_conflict_of_interest
from drugratings.ratings.models import Rating
from drugratings.trust.companies import same_company
from drugratings.trust.models import InterestDeclaration, OpenPayment
from drugratings.verification.access import npi_of

# A payment counts as a relationship for this long after it was made.
PAYMENT_LOOKBACK = timedelta(days=730)


@dataclass(frozen=True)
class Conflict:
    company: str
    source: str  # "declared" or "open payments"
    relation: str  # "manufacturer" or "competitor"


def drug_makers(drug: Drug) -> list[str]:
    names = list(drug.manufacturers or [])
    if drug.manufacturer:
        names.append(drug.manufacturer)
    names += [b.application_holder for b in drug.brand_products.all()]
    return [n for n in dict.fromkeys(names) if n]


def competitor_makers(drug: Drug) -> list[str]:
    if drug.drug_class_id is None:
        return []
    rivals = (
        Drug.objects.filter(drug_class_id=drug.drug_class_id)
        .exclude(pk=drug.pk)
        .prefetch_related("brand_products")
    )
    return list(dict.fromkeys(name for other in rivals for name in drug_makers(other)))


def _companies_of(physician_id: int, on: date) -> list[tuple[str, str]]:
    companies = [
        (d.company, "declared")
        for d in InterestDeclaration.objects.filter(physician_id=physician_id, starts_on__lte=on)
        if d.ends_on is None or d.ends_on >= on
    ]

    npi = npi_of(physician_id)
    if npi:
        paid = OpenPayment.objects.filter(
            npi=npi, paid_on__lte=on, paid_on__gte=on - PAYMENT_LOOKBACK
        )
        companies += [
            (name, "open payments")
            for name in paid.values_list("manufacturer", flat=True).distinct()
        ]
    return companies


def conflicts_of(rating: Rating) -> list[Conflict]:
    companies = _companies_of(rating.physician_id, rating.updated_at.date())
    if not companies:
        return []
    drug = rating.drug
    makers, rivals = drug_makers(drug), None
    found = []
    for company, source in companies:
        if any(same_company(company, m) for m in makers):
            found.append(Conflict(company, source, "manufacturer"))
            continue
        rivals = competitor_makers(drug) if rivals is None else rivals
        if any(same_company(company, m) for m in rivals):
            found.append(Conflict(company, source, "competitor"))
    return found


def flag_conflict_of_interest(rating: Rating) -> bool:
    """Set `conflict_of_interest` on the rating from the rater's relationships; returns it."""
    flagged = bool(conflicts_of(rating))
    set_conflict_of_interest(rating, flagged)
    return flagged


def reflag_physician(physician_id: int) -> int:
    """Re-evaluate every rating of a physician (after a declaration or a payment import)."""
    changed = 0
    for rating in Rating.objects.filter(physician_id=physician_id).select_related("drug"):
        before = rating.conflict_of_interest
        if flag_conflict_of_interest(rating) != before:
            changed += 1
    return changed
