"""Demo data: deterministic for a seed, realistic in shape, and reusable on a second run."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from drugratings.accounts.models import ApiToken, PhysicianProfile, User
from drugratings.demo.accounts import API_KEY, LOGINS, TOTP_SECRET
from drugratings.demo.generate import CatalogView, generate
from drugratings.ratings.models import Comment, CommentStatus, Rating


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
