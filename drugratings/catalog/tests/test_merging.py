"""Merging the salt forms of one moiety keeps every rating and every revision."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from drugratings.catalog.merging import merge_all
from drugratings.catalog.models import Drug, Indication
from drugratings.ratings.models import Comment, Rating, RatingRevision, RevisionAction
from drugratings.testing.personas import make_physician


def _drug(source_id: str, key: str, brands: list[str]) -> Drug:
    return Drug.objects.create(
        source_id=source_id,
        generic_name="dapagliflozin",
        slug=source_id.lower(),
        moiety_key=key,
        brand_names=brands,
        search_text="dapagliflozin",
    )


def _rate(physician, drug, indication, score: int, when) -> Rating:
    rating = Rating.objects.create(
        physician=physician,
        drug=drug,
        indication=indication,
        efficacy=score,
        created_at=when,
        updated_at=when,
    )
    RatingRevision.objects.create(
        rating=rating,
        physician=physician,
        drug=drug,
        indication=indication,
        action=RevisionAction.CREATED,
        efficacy=score,
        at=when,
    )
    return rating


@pytest.mark.django_db
def test_merge_moves_every_rating_and_keeps_the_most_recent_of_a_duplicate():
    plain = _drug("NDC2019-00600", "dapagliflozin", [])
    salt = _drug("NDC2019-00601", "dapagliflozin propanediol", ["FARXIGA"])
    t2d = Indication.objects.create(name="Type 2 Diabetes Mellitus", slug="t2d")
    hf = Indication.objects.create(name="Heart Failure", slug="hf")
    a, b, c = (make_physician(f"{n}@example.org").physician for n in "abc")
    now = timezone.now()
    _rate(a, plain, t2d, 2, now - timedelta(days=30))  # older duplicate: folded in
    newest = _rate(a, salt, t2d, 5, now - timedelta(days=1))
    Comment.objects.create(
        physician=a,
        drug=plain,
        indication=t2d,
        body="old view",
        rating=Rating.objects.get(drug=plain, physician=a),
    )
    _rate(b, salt, hf, 4, now)  # only on the salt form: moved
    _rate(c, salt, t2d, 3, now)
    _rate(c, plain, hf, 3, now)
    # The salt form has more ratings, so it is kept and the plain row merged into it.
    assert merge_all(apps) == 1
    drug = Drug.objects.get()
    assert drug.pk == salt.pk and drug.moiety_key == "dapagliflozin"
    assert "NDC2019-00600" in drug.aliases and drug.brand_names == ["FARXIGA"]
    assert Rating.objects.count() == 4
    kept = Rating.objects.get(physician=a)
    assert kept.pk == newest.pk and kept.efficacy == 5
    # Both revisions of physician a survive, now on the kept rating.
    assert list(
        RatingRevision.objects.filter(physician=a).order_by("at").values_list("efficacy", flat=True)
    ) == [2, 5]
    assert set(RatingRevision.objects.filter(physician=a).values_list("rating_id", flat=True)) == {
        kept.pk
    }
    assert RatingRevision.objects.count() == 5
    assert not RatingRevision.objects.exclude(drug=drug).exists()
    assert Comment.objects.get().rating_id == kept.pk and Comment.objects.get().drug_id == drug.pk
    assert Rating.objects.filter(physician=b, drug=drug, indication=hf).exists()
    assert Rating.objects.filter(physician=c, drug=drug).count() == 2


@pytest.mark.django_db
def test_merge_leaves_distinct_moieties_alone():
    _drug("X-1", "potassium chloride", [])
    _drug("X-2", "potassium citrate", [])
    assert merge_all(apps) == 0
    assert Drug.objects.count() == 2
