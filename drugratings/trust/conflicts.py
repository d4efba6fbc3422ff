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


@dataclass(frozen=True)
class Relationships:
    """A physician's declared interests and Open Payments, read once: re-flagging all of a
    physician's ratings asks for them at every rating's date."""

    declared: list[InterestDeclaration]
    payments: list[tuple[str, date]]  # (manufacturer, paid on)

    def companies_on(self, on: date) -> list[tuple[str, str]]:
        companies = [
            (d.company, "declared")
            for d in self.declared
            if d.starts_on <= on and (d.ends_on is None or d.ends_on >= on)
        ]
        paid = (m for m, paid_on in self.payments if on - PAYMENT_LOOKBACK <= paid_on <= on)
        return companies + [(name, "open payments") for name in dict.fromkeys(paid)]


def relationships_of(physician_id: int) -> Relationships:
    npi = npi_of(physician_id)
    payments = (
        OpenPayment.objects.filter(npi=npi).order_by("manufacturer", "paid_on")
        if npi
        else OpenPayment.objects.none()
    )
    return Relationships(
        declared=list(InterestDeclaration.objects.filter(physician_id=physician_id)),
        payments=list(payments.values_list("manufacturer", "paid_on")),
    )


class Makers:
    """Makers of each drug and of its class competitors, each looked up once per use: a
    physician's ratings, or a payments import's physicians, meet the same drugs again and
    again (the demo's 2,400 declarations took minutes at one lookup per rating)."""

    def __init__(self) -> None:
        self._own: dict[int, list[str]] = {}
        self._rivals: dict[int, list[str]] = {}

    def of(self, drug: Drug) -> list[str]:
        if drug.pk not in self._own:
            self._own[drug.pk] = drug_makers(drug)
        return self._own[drug.pk]

    def rivals_of(self, drug: Drug) -> list[str]:
        if drug.pk not in self._rivals:
            self._rivals[drug.pk] = competitor_makers(drug)
        return self._rivals[drug.pk]


def conflicts_of(
    rating: Rating, relationships: Relationships | None = None, makers: Makers | None = None
) -> list[Conflict]:
    relationships = relationships or relationships_of(rating.physician_id)
    companies = relationships.companies_on(rating.updated_at.date())
    if not companies:
        return []
    makers = makers or Makers()
    drug = rating.drug
    found = []
    for company, source in companies:
        if any(same_company(company, m) for m in makers.of(drug)):
            found.append(Conflict(company, source, "manufacturer"))
        elif any(same_company(company, m) for m in makers.rivals_of(drug)):
            found.append(Conflict(company, source, "competitor"))
    return found


def flag_conflict_of_interest(
    rating: Rating, relationships: Relationships | None = None, makers: Makers | None = None
) -> bool:
    """Set `conflict_of_interest` on the rating from the rater's relationships; returns it."""
    flagged = bool(conflicts_of(rating, relationships, makers))
    set_conflict_of_interest(rating, flagged)
    return flagged


def reflag_physician(physician_id: int, makers: Makers | None = None) -> int:
    """Re-evaluate every rating of a physician (after a declaration or a payment import);
    returns how many changed. Pass one `Makers` when re-flagging many physicians."""
    relationships, makers = relationships_of(physician_id), makers or Makers()
    changed = 0
    for rating in Rating.objects.filter(physician_id=physician_id).select_related("drug"):
        before = rating.conflict_of_interest
        if flag_conflict_of_interest(rating, relationships, makers) != before:
            changed += 1
    return changed
