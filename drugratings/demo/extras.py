"""Finishing touches for the demo: a few ratings of the demo physician and some declared
industry interests among the synthetic physicians, so every screen has something to show."""

from __future__ import annotations

import random
from datetime import date

from drugratings.accounts.models import User
from drugratings.catalog.models import Drug, DrugIndication
from drugratings.ratings.actions import RatingInput, upsert_rating
from drugratings.trust.conflicts import Makers, reflag_physician
from drugratings.trust.models import InterestDeclaration, InterestKind

DEMO_RATINGS = (
    ("atorvastatin calcium", 4, 4, 3, 5, 4, "Reliable LDL lowering; myalgia in a minority."),
    ("metformin hydrochloride", 4, 5, 3, 5, 3, "First line; GI upset settles with slow titration."),
    ("lisinopril", 4, 4, 4, 5, 4, ""),
)


def rate_as_demo_physician(email: str) -> int:
    user = User.objects.filter(email=email).first()
    if user is None or user.physician.ratings.exists():
        return 0
    done = 0
    for generic, *scores, comment in DEMO_RATINGS:
        drug = Drug.objects.filter(generic_name=generic).first()
        link = DrugIndication.objects.filter(drug=drug).first() if drug else None
        if link is None:
            continue
        values = dict(
            zip(
                ("efficacy", "safety", "tolerability", "accessibility", "adherence"),
                scores,
                strict=True,
            )
        )
        upsert_rating(user, drug.pk, RatingInput(link.indication_id, values, comment or None))
        done += 1
    return done


def declare_interests(physician_ids: list[int], seed: int, share: float = 0.02) -> int:
    """Give about 2% of physicians a declared relationship with a real manufacturer."""
    rng = random.Random(seed)
    makers = sorted(
        set(Drug.objects.exclude(manufacturer="").values_list("manufacturer", flat=True))
    )
    chosen = rng.sample(physician_ids, max(1, int(len(physician_ids) * share)))
    kinds = list(InterestKind.values)
    InterestDeclaration.objects.bulk_create(
        [
            InterestDeclaration(
                physician_id=p,
                company=rng.choice(makers),
                kind=rng.choice(kinds),
                starts_on=date(2020 + rng.randint(0, 4), rng.randint(1, 12), 1),
            )
            for p in chosen
        ]
    )
    makers = Makers()
    for physician_id in chosen:
        reflag_physician(physician_id, makers)
    return len(chosen)
