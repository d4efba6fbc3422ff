"""Write generated demo data into the database in bulk, inside one transaction: COPY on
PostgreSQL, batched INSERTs on SQLite (demo/bulk.py)."""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from drugratings.accounts.handles import unique_handle
from drugratings.accounts.models import PhysicianProfile, Role, Specialty, User, VerificationStatus
from drugratings.analytics.models import DrugViewDaily
from drugratings.catalog.models import Drug, DrugIndication, Indication
from drugratings.core.batches import analyze, copy_available, write_objects, write_rows
from drugratings.demo import realism
from drugratings.demo.bulk import keys_and_indexes_built_after
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
ROW_CHUNK = 50_000  # ratings converted to Python values at a time
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
    *,
    seed: int,
    n_physicians: int,
    n_ratings: int,
    n_comments: int,
    log=print,
    now: datetime | None = None,
    copy: bool | None = None,
) -> dict[str, int]:
    """Generate and write the demo. `copy` streams the big tables with COPY (PostgreSQL; the
    default there) instead of batched INSERTs; the rows are the same either way."""
    now = (now or timezone.now()).replace(microsecond=0)
    copy = copy_available() if copy is None else copy
    started = time.monotonic()

    def done(what: str) -> None:
        log(f"{what} ({time.monotonic() - started:.1f} s)")

    rng = np.random.default_rng(seed)
    py_rng = random.Random(seed)
    specialties = list(Specialty.objects.order_by("slug"))
    view = catalog_view(rng, specialties)
    data = generate(view, seed=seed, n_physicians=n_physicians, n_ratings=n_ratings, now=now)
    done(f"generated {data.rating_pair.size:,} ratings by {n_physicians:,} physicians")
    profiles = _physicians(data, specialties, py_rng, copy)
    done(f"physicians written{' with COPY' if copy else ''}")
    with keys_and_indexes_built_after(Rating, RatingRevision, Comment) if copy else nullcontext():
        rating_ids = _ratings(data, view, profiles, copy)
        done("ratings and their revisions written")
        n_comments_written = _comments(rng, data, view, profiles, rating_ids, n_comments, copy)
        done("comments written")
    if copy:
        done("keys and indexes built")
    _views(rng, view, now)

    declared = declare_interests(profiles, seed)
    done(f"{declared} physicians declared industry interests")
    if copy:
        analyze(User, PhysicianProfile, PhysicianIdentity, Rating, RatingRevision, Comment)
        done("planner statistics refreshed")
    return {"physicians": len(profiles), "ratings": len(rating_ids), "comments": n_comments_written}


def _physicians(
    data: DemoRatings, specialties: list[Specialty], rng: random.Random, copy: bool
) -> list[int]:
    taken = set(PhysicianProfile.objects.values_list("handle", flat=True))
    joined = _aware(data.physician_joined)
    start = (User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    users = (
        User(
            email=f"dr{start + i}@{DEMO_EMAIL_DOMAIN}",
            password="!",
            role=Role.PHYSICIAN,
            date_joined=joined[i],
            email_confirmed_at=joined[i],
        )
        for i in range(data.physician_specialty.size)
    )
    write_objects(User, users, copy=copy)
    user_ids = list(
        User.objects.filter(email__endswith=DEMO_EMAIL_DOMAIN, pk__gte=start)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    profiles = (
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
    )
    write_objects(PhysicianProfile, profiles, copy=copy)
    profile_ids = list(
        PhysicianProfile.objects.filter(user_id__in=user_ids)
        .order_by("user_id")
        .values_list("pk", flat=True)
    )
    identities = (
        PhysicianIdentity(
            physician_id=pid,
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(LAST_NAMES),
            license_number=f"DEMO-{pid:07d}",
            license_country="US",
        )
        for pid in profile_ids
    )
    write_objects(PhysicianIdentity, identities, copy=copy)
    return profile_ids


RATING_COLUMNS = [
    "physician_id",
    "drug_id",
    "indication_id",
    "off_label",
    *DIMENSION_NAMES,
    "status",
    "conflict_of_interest",
    "created_at",
    "updated_at",
]


def _rating_rows(data: DemoRatings, view: CatalogView, profiles: list[int]) -> Iterator[tuple]:
    """The ratings as database rows, converted a chunk at a time: Python lists of every rating's
    scores and datetimes cost gigabytes at ten times launch scale."""
    adapt = connection.ops.adapt_datetimefield_value
    drug, indication = view.pair_drug.tolist(), view.pair_indication.tolist()
    off_label = view.pair_off_label.tolist()
    active = RatingStatus.ACTIVE.value
    for start in range(0, data.rating_pair.size, ROW_CHUNK):
        part = slice(start, start + ROW_CHUNK)
        created = [adapt(t) for t in _aware(data.created[part])]
        updated = [adapt(t) for t in _aware(data.updated[part])]
        scores = data.scores[part].tolist()
        physician = data.rating_physician[part].tolist()
        for k, pair in enumerate(data.rating_pair[part].tolist()):
            yield (
                profiles[physician[k]],
                drug[pair],
                indication[pair],
                bool(off_label[pair]),
                *[v or None for v in scores[k]],
                active,
                False,
                created[k],
                updated[k],
            )


def _ratings(data: DemoRatings, view: CatalogView, profiles: list[int], copy: bool) -> list[int]:
    first = (Rating.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    write_rows(Rating, RATING_COLUMNS, _rating_rows(data, view, profiles), copy=copy)
    # Each new rating's first revision is a copy of it: one statement inside the database.
    revisions = connection.ops.quote_name(RatingRevision._meta.db_table)
    ratings = connection.ops.quote_name(Rating._meta.db_table)
    scores = ", ".join(connection.ops.quote_name(d) for d in DIMENSION_NAMES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {revisions} (rating_id, physician_id, drug_id, indication_id, action, "
            f"{scores}, at) SELECT id, physician_id, drug_id, indication_id, %s, {scores}, "
            f"created_at FROM {ratings} WHERE id >= %s ORDER BY id",
            [RevisionAction.CREATED.value, first],
        )
    return list(Rating.objects.filter(pk__gte=first).order_by("pk").values_list("pk", flat=True))


def _comments(
    rng: np.random.Generator,
    data: DemoRatings,
    view: CatalogView,
    profiles: list[int],
    rating_ids: list[int],
    n_comments: int,
    copy: bool,
) -> int:
    n = len(rating_ids)
    chosen = np.sort(rng.choice(n, size=min(n_comments, n), replace=False))
    updated = _aware(data.updated[chosen])
    helpful = rng.poisson(1.5, size=chosen.size) * (rng.random(chosen.size) < 0.6)
    # A few comments held for moderation, so the moderation queue has something in it.
    held = {k * 997 % chosen.size: example for k, example in enumerate(HELD_EXAMPLES)}

    def comments() -> Iterator[Comment]:
        for k, r in enumerate(chosen.tolist()):
            pair = int(data.rating_pair[r])
            comment = Comment(
                physician_id=profiles[int(data.rating_physician[r])],
                drug_id=int(view.pair_drug[pair]),
                indication_id=int(view.pair_indication[pair]),
                rating_id=rating_ids[r],
                body=comment_text(rng, data.scores[r]),
                helpful_count=int(helpful[k]),
                created_at=updated[k],
                updated_at=updated[k],
            )
            if k in held:
                comment.body, comment.hold_reasons = held[k]
                comment.status = CommentStatus.HELD
            yield comment

    return write_objects(Comment, comments(), copy=copy)


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
