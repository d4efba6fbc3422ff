"""Write generated demo data into the database in bulk, inside one transaction."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from drugratings.accounts.handles import unique_handle
from drugratings.accounts.models import PhysicianProfile, Role, Specialty, User, VerificationStatus
from drugratings.analytics.models import DrugViewDaily
from drugratings.catalog.models import Drug, DrugIndication, Indication
from drugratings.demo import realism
from drugratings.demo.comments import HELD_EXAMPLES, comment_text
from drugratings.demo.extras import declare_interests
from drugratings.demo.fields import specialty_for
from drugratings.demo.generate import CatalogView, DemoRatings, generate
from drugratings.ratings.dimensions import DIMENSION_NAMES
from drugratings.ratings.models import (
    Comment,
    CommentStatus,
    Rating,
    RatingRevision,
    RatingStatus,
    RevisionAction,
)
from drugratings.verification.models import PhysicianIdentity

BATCH = 5000
DEMO_EMAIL_DOMAIN = "physicians.demo.drugratings.org"
FIRST_NAMES = (
    "Alex Sam Maria Wei Priya Omar Lena Tom Aisha Diego Hana Ivan Nora Raj Sofia Ben Yuki Ada"
).split()
LAST_NAMES = (
    "Garcia Chen Patel Smith Kim Novak Okafor Rossi Müller Silva Haddad Johansson Tanaka Brown"
).split()


def catalog_view(rng: np.random.Generator, specialties: list[Specialty]) -> CatalogView:
    """Rateable (drug, indication) pairs with weights shaped like real use (demo/realism.py):
    listed indications, plus off-label uses borrowed from drugs of the same class for drugs
    that list none."""
    slugs = tuple(s.slug for s in specialties)
    index_of = {slug: i for i, slug in enumerate(slugs)}
    indications = {i.pk: i for i in Indication.objects.all()}
    listed = defaultdict(list)
    for drug_id, indication_id in DrugIndication.objects.values_list(
        "drug_id", "indication_id"
    ).order_by("drug_id", "indication_id"):
        listed[drug_id].append(indication_id)
    by_class: dict[int, Counter[int]] = defaultdict(Counter)
    drugs = {
        pk: (class_id, key)
        for pk, class_id, key in Drug.objects.values_list("pk", "drug_class_id", "moiety_key")
    }
    for drug_id, ids in listed.items():
        if drugs[drug_id][0]:
            by_class[drugs[drug_id][0]].update(
                i for i in ids if realism.is_clinical(indications[i].name)
            )
    signals, first_line = realism.read_signals(), realism.read_first_line()
    pairs: list[tuple[int, int, bool]] = []
    weights: list[float] = []
    quality: list[np.ndarray] = []
    for drug_id in sorted(drugs):
        class_id, key = drugs[drug_id]
        if listed.get(drug_id):
            own = [(i, False) for i in listed[drug_id]]
        elif class_id and by_class.get(class_id):
            own = [(i, True) for i, _ in by_class[class_id].most_common(2)]
        else:
            continue
        first = first_line.get(key, set())
        pop = realism.popularity(signals.get(key), bool(first)) * rng.lognormal(0.0, 0.25)
        shift = realism.quality_shift(signals.get(key), bool(first))
        leading = [i for i, _ in own if indications[i].name.lower() in first]
        for indication_id, off_label in own:
            if leading:
                share = (
                    realism.FIRST_LINE_INDICATION_SHARE / len(leading)
                    if indication_id in leading
                    else (1 - realism.FIRST_LINE_INDICATION_SHARE) / max(len(own) - len(leading), 1)
                )
            else:
                share = 1.0 / len(own)
            if not realism.is_clinical(indications[indication_id].name):
                share *= realism.NONCLINICAL_SHARE
            pairs.append((drug_id, indication_id, off_label))
            weights.append(pop * share * (0.5 if off_label else 1.0))
            quality.append(shift)
    fields = [
        index_of.get(
            specialty_for(indications[p[1]].name, indications[p[1]].icd10_codes),
            index_of["internal-medicine"],
        )
        for p in pairs
    ]
    return CatalogView(
        pair_drug=np.array([p[0] for p in pairs]),
        pair_indication=np.array([p[1] for p in pairs]),
        pair_off_label=np.array([p[2] for p in pairs]),
        pair_field=np.array(fields),
        pair_weight=np.array(weights),
        specialty_slugs=slugs,
        pair_quality=np.array(quality),
    )


def _aware(values: np.ndarray) -> list[datetime]:
    seconds = values.astype("datetime64[s]").astype(np.int64)
    return [datetime.fromtimestamp(int(s), tz=UTC) for s in seconds]


@transaction.atomic
def load_demo(
    *, seed: int, n_physicians: int, n_ratings: int, n_comments: int, log=print
) -> dict[str, int]:
    now = timezone.now().replace(microsecond=0)
    rng = np.random.default_rng(seed)
    py_rng = random.Random(seed)
    specialties = list(Specialty.objects.order_by("slug"))
    view = catalog_view(rng, specialties)
    data = generate(view, seed=seed, n_physicians=n_physicians, n_ratings=n_ratings, now=now)
    log(f"generated {data.rating_pair.size:,} ratings by {n_physicians:,} physicians")
    profiles = _physicians(data, specialties, py_rng)
    log("physicians written")
    rating_ids = _ratings(data, view, profiles)
    log("ratings written")
    n_comments_written = _comments(rng, data, view, profiles, rating_ids, n_comments)
    log("comments written")
    _views(rng, view, now)

    declared = declare_interests(profiles, seed)
    log(f"{declared} physicians declared industry interests")
    return {"physicians": len(profiles), "ratings": len(rating_ids), "comments": n_comments_written}


def _physicians(data: DemoRatings, specialties: list[Specialty], rng: random.Random) -> list[int]:
    taken = set(PhysicianProfile.objects.values_list("handle", flat=True))
    joined = _aware(data.physician_joined)
    start = (User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    users = [
        User(
            email=f"dr{start + i}@{DEMO_EMAIL_DOMAIN}",
            password="!",
            role=Role.PHYSICIAN,
            date_joined=joined[i],
            email_confirmed_at=joined[i],
        )
        for i in range(data.physician_specialty.size)
    ]
    User.objects.bulk_create(users, batch_size=BATCH)
    user_ids = list(
        User.objects.filter(email__endswith=DEMO_EMAIL_DOMAIN, pk__gte=start)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    profiles = [
        PhysicianProfile(
            user_id=user_ids[i],
            handle=unique_handle(taken, rng),
            specialty_id=specialties[int(data.physician_specialty[i])].pk,
            country=str(data.physician_country[i]),
            region=str(data.physician_region[i]),
            verification_status=VerificationStatus.VERIFIED,
            verified_at=joined[i],
            created_at=joined[i],
            status_reason="Demo data",
        )
        for i in range(len(user_ids))
    ]
    PhysicianProfile.objects.bulk_create(profiles, batch_size=BATCH)
    profile_ids = list(
        PhysicianProfile.objects.filter(user_id__in=user_ids)
        .order_by("user_id")
        .values_list("pk", flat=True)
    )
    PhysicianIdentity.objects.bulk_create(
        [
            PhysicianIdentity(
                physician_id=pid,
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                license_number=f"DEMO-{pid:07d}",
                license_country="US",
            )
            for pid in profile_ids
        ],
        batch_size=BATCH,
    )
    return profile_ids


def _insert(model, columns: list[str], rows: list[tuple]) -> None:
    """Plain INSERTs in batches: at 250,000 rows, building model instances is most of the time."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[start : start + BATCH])


def _ratings(data: DemoRatings, view: CatalogView, profiles: list[int]) -> list[int]:
    adapt = connection.ops.adapt_datetimefield_value
    created = [adapt(t) for t in _aware(data.created)]
    updated = [adapt(t) for t in _aware(data.updated)]
    scores = [[v or None for v in row] for row in data.scores.tolist()]
    physician = [profiles[p] for p in data.rating_physician.tolist()]
    pair = data.rating_pair.tolist()
    drug, indication = view.pair_drug.tolist(), view.pair_indication.tolist()
    off_label = view.pair_off_label.tolist()
    first = (Rating.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    _insert(
        Rating,
        [
            "physician_id",
            "drug_id",
            "indication_id",
            "off_label",
            *DIMENSION_NAMES,
            "status",
            "conflict_of_interest",
            "created_at",
            "updated_at",
        ],
        [
            (
                physician[r],
                drug[pair[r]],
                indication[pair[r]],
                bool(off_label[pair[r]]),
                *scores[r],
                RatingStatus.ACTIVE.value,
                False,
                created[r],
                updated[r],
            )
            for r in range(len(pair))
        ],
    )
    ids = list(Rating.objects.filter(pk__gte=first).order_by("pk").values_list("pk", flat=True))
    _insert(
        RatingRevision,
        ["rating_id", "physician_id", "drug_id", "indication_id", "action", *DIMENSION_NAMES, "at"],
        [
            (
                rid,
                physician[r],
                drug[pair[r]],
                indication[pair[r]],
                RevisionAction.CREATED.value,
                *scores[r],
                created[r],
            )
            for r, rid in enumerate(ids)
        ],
    )
    return ids


def _comments(
    rng: np.random.Generator,
    data: DemoRatings,
    view: CatalogView,
    profiles: list[int],
    rating_ids: list[int],
    n_comments: int,
) -> int:
    n = len(rating_ids)
    chosen = np.sort(rng.choice(n, size=min(n_comments, n), replace=False))
    updated = _aware(data.updated[chosen])
    helpful = rng.poisson(1.5, size=chosen.size) * (rng.random(chosen.size) < 0.6)
    comments = []
    for k, r in enumerate(chosen.tolist()):
        pair = int(data.rating_pair[r])
        comments.append(
            Comment(
                physician_id=profiles[int(data.rating_physician[r])],
                drug_id=int(view.pair_drug[pair]),
                indication_id=int(view.pair_indication[pair]),
                rating_id=rating_ids[r],
                body=comment_text(rng, data.scores[r]),
                helpful_count=int(helpful[k]),
                created_at=updated[k],
                updated_at=updated[k],
            )
        )
    for k, (body, reasons) in enumerate(HELD_EXAMPLES):
        target = comments[k * 997 % len(comments)]
        target.body, target.status, target.hold_reasons = body, CommentStatus.HELD, reasons
    Comment.objects.bulk_create(comments, batch_size=BATCH)
    return len(comments)


def _views(rng: np.random.Generator, view: CatalogView, now: datetime) -> None:
    drugs, index = np.unique(view.pair_drug, return_inverse=True)
    weight = np.bincount(index, weights=view.pair_weight)
    rate = 40.0 * weight / weight.max()
    today = now.date()
    rows = []
    for day_offset in range(90):
        day = today - timedelta(days=day_offset)
        counts = rng.poisson(rate * (1.0 - day_offset / 180.0))
        rows.extend(
            DrugViewDaily(drug_id=int(d), day=day, views=int(c))
            for d, c in zip(drugs, counts, strict=True)
            if c > 0
        )
    DrugViewDaily.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
