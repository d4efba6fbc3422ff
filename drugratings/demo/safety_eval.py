"""`make eval-safety`: inject attacks into a copy of the demo data, run the detectors through the
product's own quarantine path, and score them.

Attacks: (a) a ring of 20 colluding accounts giving one drug 5s, with camouflage ratings;
(b) a burst of 30 new accounts from two networks rating one drug 5s within 48 hours;
(c) a competitor-bashing group of 25 established accounts rating three drugs of one
manufacturer 1-2 among their honest ratings. Targets: precision and recall of at least 0.8 per
attack (accounts), honest raters flagged at most 1%, and each target drug's adjusted score within
0.1 of its pre-attack value after quarantine.

It lives with the demo data (the top layer) because, like the demo loader, it fabricates
accounts and ratings directly for speed, on a disposable copy, never on behalf of a user.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from django.db.models import Count
from django.utils import timezone

import ratingstats
from drugratings.accounts.handles import unique_handle
from drugratings.accounts.models import PhysicianProfile, Role, Specialty, User, VerificationStatus
from drugratings.catalog.models import Drug, DrugIndication
from drugratings.ratings.dimensions import DIMENSION_NAMES
from drugratings.ratings.models import Rating, RatingStatus
from drugratings.ratings.queries import scored_ratings
from drugratings.trust.detection import rating_table, run_detection
from drugratings.trust.detectors import run_all
from drugratings.trust.models import QuarantineCase

TARGETS = {"precision": 0.8, "recall": 0.8, "honest_flag_rate": 0.01, "score_shift": 0.1}


@dataclass
class Attack:
    name: str
    accounts: set[int] = field(default_factory=set)
    drugs: set[int] = field(default_factory=set)


def reset_quarantine() -> None:
    """Start from honest data: restore anything the demo's own runs quarantined."""
    Rating.objects.filter(status=RatingStatus.QUARANTINED).update(status=RatingStatus.ACTIVE)
    QuarantineCase.objects.all().delete()


def drug_estimates(dimension: str = "efficacy") -> dict[int, float]:
    rows = np.array(
        list(
            scored_ratings()
            .exclude(**{f"{dimension}__isnull": True})
            .values_list("drug_id", "physician_id", "physician__specialty_id", dimension)
        ),
        dtype=float,
    )
    drugs, item = np.unique(rows[:, 0], return_inverse=True)
    _, rater = np.unique(rows[:, 1], return_inverse=True)
    _, group = np.unique(rows[:, 2], return_inverse=True)
    fit = ratingstats.fit_crossed(item, rater, rows[:, 3], group, method="moments")
    return dict(zip(drugs.astype(int).tolist(), fit.estimate.tolist(), strict=True))


def _indication_of(drug_id: int) -> int:
    return (
        DrugIndication.objects.filter(drug_id=drug_id)
        .values_list("indication_id", flat=True)
        .first()
    )


def _drugs_with(low: int, high: int) -> list[int]:
    counts = (
        scored_ratings()
        .values("drug_id")
        .annotate(n=Count("id"))
        .filter(n__gte=low, n__lte=high)
        .values_list("drug_id", flat=True)
    )
    return sorted(d for d in counts if _indication_of(d))


def _accounts(
    rng: random.Random, count: int, prefix: str, joined, networks: list[str]
) -> list[PhysicianProfile]:
    specialty = Specialty.objects.get(slug="internal-medicine")
    taken = set(PhysicianProfile.objects.values_list("handle", flat=True))
    profiles = []
    for n in range(count):
        user = User.objects.create(
            email=f"{prefix}{n}@attack.eval",
            password="!",
            role=Role.PHYSICIAN,
            date_joined=joined(n),
            email_confirmed_at=joined(n),
            signup_ip=networks[n % len(networks)].format(n % 250 + 2) if networks else None,
            signup_device=f"{prefix}-device-{n % 3}" if networks else "",
        )
        profiles.append(
            PhysicianProfile.objects.create(
                user=user,
                handle=unique_handle(taken),
                specialty=specialty,
                country="US",
                region="US-NV",
                verification_status=VerificationStatus.VERIFIED,
                created_at=user.date_joined,
            )
        )
    return profiles


def _rate(profile: PhysicianProfile, drug_id: int, values: list[int | None], when) -> None:
    Rating.objects.update_or_create(
        physician=profile,
        drug_id=drug_id,
        indication_id=_indication_of(drug_id),
        defaults={
            **dict(zip(DIMENSION_NAMES, values, strict=True)),
            "status": RatingStatus.ACTIVE,
            "created_at": when,
            "updated_at": when,
        },
    )


def _typical(drug_id: int, rng: random.Random) -> list[int | None]:
    sample = list(scored_ratings().filter(drug_id=drug_id).values_list(*DIMENSION_NAMES)[:200])
    return list(rng.choice(sample)) if sample else [3] * 5


def inject(seed: int) -> list[Attack]:
    rng = random.Random(seed)
    now = timezone.now()
    popular = _drugs_with(80, 250)
    medium = [d for d in _drugs_with(40, 150) if d not in popular[:5]]
    ring_target, burst_target = rng.choice(popular), rng.choice(medium)
    camouflage = [d for d in _drugs_with(300, 100000)]
    ring = Attack("ring of 20 colluding accounts", drugs={ring_target})
    for profile in _accounts(rng, 20, "ring", lambda n: now - timedelta(days=60 + 3 * n), []):
        ring.accounts.add(profile.pk)
        _rate(profile, ring_target, [5] * 5, now - timedelta(days=rng.randint(1, 30)))
        for other in rng.sample(camouflage, 3):
            _rate(profile, other, _typical(other, rng), now - timedelta(days=rng.randint(1, 30)))
    burst = Attack("burst of 30 new accounts", drugs={burst_target})
    networks = ["203.0.113.{}", "198.51.100.{}"]
    for profile in _accounts(
        rng, 30, "burst", lambda n: now - timedelta(days=2, minutes=40 * n), networks
    ):
        burst.accounts.add(profile.pk)
        _rate(profile, burst_target, [5] * 5, now - timedelta(hours=rng.randint(1, 47)))
    bashing = _bashing(rng, now, exclude={ring_target, burst_target})
    return [ring, burst, bashing]


def _bashing(rng: random.Random, now, exclude: set[int]) -> Attack:
    """Established accounts giving one manufacturer's drugs 1-2 among their honest ratings."""
    by_maker: dict[str, list[int]] = {}
    candidates = set(_drugs_with(40, 100000)) - exclude
    for drug_id, maker in (
        Drug.objects.filter(pk__in=candidates)
        .exclude(manufacturer="")
        .values_list("pk", "manufacturer")
    ):
        by_maker.setdefault(maker, []).append(drug_id)
    maker = sorted(
        (m for m, d in by_maker.items() if len(d) >= 3), key=lambda m: (len(by_maker[m]), m)
    )[-1]
    drugs = sorted(by_maker[maker])[:3]
    attack = Attack(f"competitor bashing of {maker}", drugs=set(drugs))
    veterans = list(
        PhysicianProfile.objects.filter(
            created_at__lte=now - timedelta(days=400),
            user__email__endswith="physicians.demo.drugratings.org",
        )
        .annotate(n=Count("ratings"))
        .filter(n__gte=10)
        .order_by("pk")
        .values_list("pk", flat=True)[:2000]
    )
    for physician_id in rng.sample(veterans, 25):
        profile = PhysicianProfile.objects.get(pk=physician_id)
        attack.accounts.add(physician_id)
        for drug_id in drugs:
            _rate(
                profile,
                drug_id,
                [rng.choice((1, 2)) for _ in range(5)],
                now - timedelta(days=rng.randint(1, 60)),
            )
    return attack


def flagged_accounts(drugs: set[int] | None = None) -> set[int]:
    cases = QuarantineCase.objects.all()
    ratings = Rating.objects.filter(quarantine_cases__in=cases)
    if drugs is not None:
        ratings = ratings.filter(drug_id__in=drugs)
    return set(ratings.values_list("physician_id", flat=True))


def honest_flags() -> tuple[int, int]:
    flagged: set[int] = set()
    for suspicion in run_all(rating_table()):
        flagged |= set(suspicion.physician_ids.tolist())
    raters = scored_ratings().values("physician_id").distinct().count()
    return len(flagged), raters


@dataclass(frozen=True)
class AttackResult:
    name: str
    precision: float
    recall: float
    score_shift: float

    @property
    def passed(self) -> bool:
        return (
            self.precision >= TARGETS["precision"]
            and self.recall >= TARGETS["recall"]
            and self.score_shift <= TARGETS["score_shift"]
        )


def evaluate(seed: int = 2017, write=print) -> bool:
    """Run the whole evaluation on the current database (a disposable copy); True if it passes."""
    reset_quarantine()
    n_flagged, n_raters = honest_flags()
    honest_rate = n_flagged / max(n_raters, 1)
    write(
        f"honest data: {n_flagged} of {n_raters} raters flagged ({honest_rate:.2%}; "
        f"target at most {TARGETS['honest_flag_rate']:.0%})"
    )
    baseline = drug_estimates()
    attacks = inject(seed)
    attacked = drug_estimates()
    cases = run_detection()
    write(f"detectors opened {len(cases)} quarantine case(s)")
    after = drug_estimates()
    ok = honest_rate <= TARGETS["honest_flag_rate"]
    attackers = set().union(*(a.accounts for a in attacks))
    for attack in attacks:
        flagged = flagged_accounts(attack.drugs)
        caught = flagged & attack.accounts
        shifts = [abs(after[d] - baseline[d]) for d in attack.drugs if d in after and d in baseline]
        moved = [
            abs(attacked[d] - baseline[d]) for d in attack.drugs if d in attacked and d in baseline
        ]
        result = AttackResult(
            attack.name,
            len(caught) / len(flagged) if flagged else 0.0,
            len(caught) / len(attack.accounts),
            max(shifts, default=0.0),
        )
        ok &= result.passed
        write(
            f"  {result.name:<48} precision {result.precision:.2f}  recall {result.recall:.2f}"
            f"  score moved by the attack {max(moved, default=0.0):.3f}, after quarantine "
            f"{result.score_shift:.3f}  {'PASS' if result.passed else 'FAIL'}"
        )
    false_after = flagged_accounts() - attackers
    rate_after = len(false_after) / max(n_raters, 1)
    ok &= rate_after <= TARGETS["honest_flag_rate"]
    write(
        f"honest raters quarantined with the attacks present: {len(false_after)} "
        f"({rate_after:.2%}; target at most {TARGETS['honest_flag_rate']:.0%})"
    )
    return ok
