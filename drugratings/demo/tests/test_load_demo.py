"""Demo data: deterministic for a seed, realistic in shape, and reusable on a second run."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from drugratings.accounts.models import ApiToken, PhysicianProfile, User
from drugratings.core.batches import write_rows
from drugratings.demo.accounts import API_KEY, LOGINS, TOTP_SECRET
from drugratings.demo.generate import CatalogView, generate
from drugratings.demo.load import DEMO_EMAIL_DOMAIN, load_demo
from drugratings.ratings.dimensions import DIMENSION_NAMES
from drugratings.ratings.models import (
    Comment,
    CommentStatus,
    Rating,
    RatingRevision,
    RevisionAction,
)
from drugratings.verification.models import PhysicianIdentity


def small_view() -> CatalogView:
    return CatalogView(
        pair_drug=np.array([1, 1, 2, 3, 4]),
        pair_indication=np.array([10, 11, 10, 12, 13]),
        pair_off_label=np.array([False, False, False, True, False]),
        pair_field=np.array([0, 1, 0, 1, 2]),
        pair_weight=np.array([5.0, 1.0, 3.0, 1.0, 2.0]),
        specialty_slugs=("cardiology", "family-medicine", "psychiatry"),
    )


def test_generation_is_deterministic_for_a_seed():
    now = datetime(2026, 11, 1, tzinfo=UTC)
    a = generate(small_view(), seed=7, n_physicians=50, n_ratings=150, now=now)
    b = generate(small_view(), seed=7, n_physicians=50, n_ratings=150, now=now)
    c = generate(small_view(), seed=8, n_physicians=50, n_ratings=150, now=now)
    assert np.array_equal(a.scores, b.scores) and np.array_equal(a.rating_pair, b.rating_pair)
    assert not np.array_equal(a.scores, c.scores)


def test_generated_ratings_are_valid_and_one_per_physician_and_pair():
    now = datetime(2026, 11, 1, tzinfo=UTC)
    data = generate(small_view(), seed=3, n_physicians=80, n_ratings=300, now=now)
    assert ((data.scores >= 0) & (data.scores <= 5)).all()
    assert (data.scores > 0).any(axis=1).all()
    keys = data.rating_physician * 100 + data.rating_pair
    assert np.unique(keys).size == keys.size
    assert (data.created <= data.updated).all()
    assert (data.updated <= np.datetime64(now.replace(tzinfo=None), "s")).all()


@pytest.mark.django_db
def test_load_demo_creates_the_logins_and_data_and_reuses_them():
    call_command("import_catalog", "--no-progress", verbosity=0)
    out = StringIO()
    call_command(
        "load_demo",
        "--physicians",
        "60",
        "--ratings",
        "900",
        "--comments",
        "40",
        stdout=out,
        stderr=StringIO(),
    )
    assert "demo-password-2017" in out.getvalue()
    for login in LOGINS:
        assert User.objects.filter(email=login.email).exists()
    analyst = User.objects.get(email="analyst@demo.drugratings.org")
    assert analyst.totp_secret == TOTP_SECRET and analyst.has_two_factor
    assert ApiToken.objects.get(digest=ApiToken.digest_of(API_KEY)).user == analyst
    # The demo organisation stands for a real manufacturer, whose drugs are its portfolio.
    from drugratings.portal.portfolio import portfolio_drug_ids

    organization = analyst.pharma_analyst.organization
    assert organization.manufacturers == ["Pfizer"]
    assert len(portfolio_drug_ids(organization)) >= 3
    assert User.objects.get(email="physician@demo.drugratings.org").physician.is_verified
    assert PhysicianProfile.objects.count() == 62
    ratings, comments = Rating.objects.count(), Comment.objects.count()
    demo_doctor = User.objects.get(email="physician@demo.drugratings.org").physician
    assert demo_doctor.ratings.count() == 3  # so "My ratings" has something to show
    assert 800 <= ratings - 3 <= 900 and comments == 40 + 2
    from drugratings.trust.models import InterestDeclaration

    assert InterestDeclaration.objects.count() == 1  # 2% of 60 physicians, at least one
    assert Comment.objects.filter(status=CommentStatus.HELD).count() == 3
    assert Rating.objects.filter(off_label=True).exists()
    again = StringIO()
    call_command("load_demo", stdout=again, stderr=StringIO())
    assert "already loaded" in again.getvalue()
    assert (Rating.objects.count(), Comment.objects.count(), User.objects.count()) == (
        ratings,
        comments,
        60 + len(LOGINS),
    )


@pytest.mark.django_db
def test_load_demo_needs_the_catalogue_first():
    with pytest.raises(CommandError, match="import_catalog"):
        call_command("load_demo", stdout=StringIO())


@pytest.mark.django_db
def test_load_demo_refuses_production_mode(settings):
    call_command("import_catalog", "--no-progress", verbosity=0)
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("load_demo", "--logins-only", stdout=StringIO())
    assert not User.objects.exists()


def _loaded_rows() -> dict:
    """Counts and checksums of what a load wrote, free of primary keys (a second load in the
    same database gets new ones): physicians by rank, ratings and comments by content."""
    physicians = sorted(
        PhysicianProfile.objects.filter(user__email__endswith=DEMO_EMAIL_DOMAIN).values_list(
            "pk", flat=True
        )
    )
    rank = {pk: i for i, pk in enumerate(physicians)}
    columns = ("physician_id", "drug_id", "indication_id", *DIMENSION_NAMES)
    ratings = Rating.objects.filter(physician_id__in=physicians).order_by("pk")
    rating_rows = [
        (rank[r[0]], *r[1:-2], r[-2].isoformat(), r[-1].isoformat())
        for r in ratings.values_list(
            *columns, "off_label", "status", "conflict_of_interest", "created_at", "updated_at"
        )
    ]
    revisions = RatingRevision.objects.filter(physician_id__in=physicians).order_by("pk")
    revision_rows = [
        (rank[r[0]], *r[1:-1], r[-1].isoformat())
        for r in revisions.values_list(*columns, "action", "at")
    ]
    comments = Comment.objects.filter(physician_id__in=physicians).order_by("pk")
    comment_rows = [
        (rank[c[0]], *c[1:-1], c[-1].isoformat())
        for c in comments.values_list(
            "physician_id",
            "drug_id",
            "body",
            "status",
            "hold_reasons",
            "helpful_count",
            "rating__drug_id",
            "created_at",
        )
    ]

    def digest(rows: list) -> str:
        return hashlib.sha256(repr(rows).encode()).hexdigest()

    return {
        "physicians": len(physicians),
        "identities": PhysicianIdentity.objects.filter(physician_id__in=physicians).count(),
        "ratings": len(rating_rows),
        "ratings_sha256": digest(rating_rows),
        "revisions_sha256": digest(revision_rows),
        "comments": len(comment_rows),
        "comments_sha256": digest(comment_rows),
        "handles": sorted(
            PhysicianProfile.objects.filter(pk__in=physicians).values_list("handle", flat=True)
        ),
    }


def _ratings_schema() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid::regclass::text LIKE %s UNION ALL "
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename LIKE %s ORDER BY 1, 2",
            ["ratings_%", "ratings_%"],
        )
        return cursor.fetchall()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_copy_and_batched_inserts_load_the_same_rows():
    call_command("import_catalog", "--no-progress", verbosity=0)
    schema = _ratings_schema()
    loaded = {}
    for copy in (False, True):
        with transaction.atomic():
            load_demo(
                seed=11,
                n_physicians=80,
                n_ratings=1500,
                n_comments=60,
                log=lambda _m: None,
                now=datetime(2026, 11, 1, 12, tzinfo=UTC),
                copy=copy,
            )
            loaded[copy] = _loaded_rows()
            after = _ratings_schema()
            with connection.cursor() as cursor:
                cursor.execute(  # column statistics: only ANALYZE writes them
                    "SELECT tablename, count(*) FROM pg_stats WHERE tablename = ANY(%s) "
                    "GROUP BY tablename",
                    [["ratings_rating", "ratings_comment"]],
                )
                analysed = dict(cursor.fetchall())
            transaction.set_rollback(True)
    assert loaded[True] == loaded[False]
    # The COPY path drops keys and indexes while it writes: all are back, as they were.
    assert after == schema and len(schema) > 20
    assert loaded[True]["physicians"] == loaded[True]["identities"] == 80
    assert 1300 <= loaded[True]["ratings"] <= 1500 and loaded[True]["comments"] == 60
    # COPY leaves the planner's statistics stale: the loader refreshes them (ANALYZE).
    assert analysed.get("ratings_rating", 0) > 5 and analysed.get("ratings_comment", 0) > 5


@pytest.mark.django_db
def test_each_loaded_rating_has_its_created_revision():
    call_command("import_catalog", "--no-progress", verbosity=0)
    load_demo(seed=3, n_physicians=30, n_ratings=400, n_comments=10, log=lambda _m: None)
    pairs = set(Rating.objects.values_list("pk", "drug_id", *DIMENSION_NAMES, "created_at"))
    revisions = set(
        RatingRevision.objects.filter(action=RevisionAction.CREATED).values_list(
            "rating_id", "drug_id", *DIMENSION_NAMES, "at"
        )
    )
    assert pairs == revisions and len(pairs) > 300


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor == "postgresql", reason="checks the other databases")
def test_copy_is_refused_outside_postgresql():
    with pytest.raises(ValueError, match="COPY needs PostgreSQL"):
        write_rows(Rating, ["drug_id"], [(1,)], copy=True)
