"""The database names the physicians whose ratings changed since the last release (PostgreSQL):
the same ones a comparison of every live and included rating in Python finds."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.db import connection
from django.utils import timezone

from drugratings.accounts.models import Specialty
from drugratings.portal import release_diff, releases
from drugratings.portal.release_diff import changed_physicians
from drugratings.portal.releases import build_release
from drugratings.portal.tests.conftest import add_physicians, rate


def _python_changed_keys() -> set[tuple[int, int, int]]:
    """Every live and included rating compared in Python, as releases did for every release."""
    live, included = releases._live(), releases._included()
    keys = {k for k, placed in live.items() if k not in included or included[k][1] != placed}
    return keys | (included.keys() - live.keys())


def _python_changed() -> set[int]:
    return {key[0] for key in _python_changed_keys()}


def test_with_no_change_no_physician_is_named(world):
    build_release()
    assert _python_changed() == set()
    if connection.vendor == "postgresql":
        assert changed_physicians() == set()
    else:
        assert changed_physicians() is None  # SQLite: the release compares every row itself


def test_every_kind_of_change_names_its_physician_as_python_does(world):
    if connection.vendor != "postgresql":
        pytest.skip("the comparison in the database is PostgreSQL's")
    build_release()
    doctors = [user.physician for user in world.physicians]
    catalog = world.catalog
    # a new rating
    (newcomer,) = add_physicians(1, start=900)
    rate(newcomer, catalog.sertraline, catalog.depression, 3)
    # a score edited, and a score changed to no opinion
    edited = doctors[0].ratings.first()
    edited.efficacy = 1 if edited.efficacy != 1 else 2
    edited.save()
    to_none = doctors[1].ratings.first()
    to_none.safety = None
    to_none.save()
    # withdrawn; quarantined (leaves the scored ratings)
    doctors[2].ratings.first().delete()
    quarantined = doctors[3].ratings.first()
    quarantined.status = "quarantined"
    quarantined.save(update_fields=["status"])
    # moved to another specialty; to another region; to a blank region (the country counts)
    doctors[4].specialty = Specialty.objects.exclude(pk=doctors[4].specialty_id).first()
    doctors[4].save(update_fields=["specialty"])
    doctors[5].region = "US-TX"
    doctors[5].save(update_fields=["region"])
    doctors[6].region = ""
    doctors[6].save(update_fields=["region"])
    # updated in another month, scores the same
    month_moved = doctors[7].ratings.first()
    month_moved.updated_at = timezone.now() - timedelta(days=62)
    month_moved.save(update_fields=["updated_at"])
    # updated again within the same month with the same scores: not a change
    same = doctors[8].ratings.first()
    same.save(update_fields=["updated_at"])

    expected = {newcomer.physician.pk, *(d.pk for d in doctors[:8])}
    assert _python_changed() == expected
    assert changed_physicians() == expected
    # Split by physician (parts run side by side outside a transaction), the same physicians.
    parts = [release_diff._changed_in_part(part, 3) for part in range(3)]
    assert set().union(*parts) == expected
    assert all(physician % 3 == part for part in range(3) for physician in parts[part])
    # The release built from those physicians' rows includes exactly the changed ratings (a
    # physician who moved moves every rating of theirs).
    changed_ratings = len(_python_changed_keys())
    assert changed_ratings > len(expected)
    release = build_release()
    assert release.n_events == changed_ratings
    assert changed_physicians() == _python_changed() == set()


def test_stored_rows_read_as_one_text_equal_djangos_rows(world, monkeypatch):
    """A release reads a drug's included ratings on PostgreSQL as one text: the same columns,
    NaN for no opinion and inclusion times to the microsecond, as Django's rows give."""
    if connection.vendor != "postgresql":
        pytest.skip("the one-text read is PostgreSQL's")
    build_release()
    rating = world.physicians[0].physician.ratings.first()
    rating.safety = None  # a no-opinion value among the adjusted ones
    rating.save()
    build_release()
    drugs = sorted(set(releases.IncludedRating.objects.values_list("drug_id", flat=True)))
    text = releases._stored_rows(drugs)
    monkeypatch.setattr(releases, "copy_available", lambda: False)
    rows = releases._stored_rows(drugs)
    order_text, order_rows = np.argsort(text["pk"]), np.argsort(rows["pk"])
    assert text["pk"].size == rows["pk"].size > 60
    assert np.isnan(rows["adjusted"]).any()
    for name in rows:
        a, b = text[name][order_text], rows[name][order_rows]
        if a.dtype.kind == "f":
            np.testing.assert_array_equal(a, b)  # NaN where NaN, bit-equal elsewhere
        else:
            assert a.tolist() == b.tolist(), name


def test_live_ratings_read_as_one_text_are_placed_as_djangos_rows_place_them(world, monkeypatch):
    """On PostgreSQL a release reads live ratings placed by the database: the same keys,
    scores (None for no opinion), specialty, place (the country for a blank region) and month
    as Django's rows give."""
    if connection.vendor != "postgresql":
        pytest.skip("the one-text read is PostgreSQL's")
    doctor = world.physicians[0].physician
    doctor.region = ""  # placed by the country
    doctor.save(update_fields=["region"])
    rating = doctor.ratings.first()
    rating.safety = None
    rating.updated_at = timezone.now() - timedelta(days=40)
    rating.save()
    text = releases._live()
    monkeypatch.setattr(releases, "copy_available", lambda: False)
    rows = releases._live()
    assert len(text) == len(rows) > 60
    assert text == rows
    assert rows[(doctor.pk, rating.drug_id, rating.indication_id)].raw[1] is None
    assert rows[(doctor.pk, rating.drug_id, rating.indication_id)].region == doctor.country


@pytest.mark.django_db
def test_included_rows_written_as_copy_lines_store_what_row_by_row_writes_store(monkeypatch):
    """The first release writes its included ratings as lines of COPY text (PostgreSQL): the
    stored rows equal those that the row-by-row write stores, escapes and no-opinion values
    included."""
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    now = timezone.now()
    rows = [
        releases.PlannedRow(
            1,
            10,
            100,
            7,
            "US-CA",
            "2025-03",
            (1, None, 3, 4, 5),
            (-2.0, np.nan, 0.1234567, -0.0, 2.0),
            now,
        ),
        releases.PlannedRow(
            2,
            10,
            100,
            8,
            "odd\tplace\\x",
            "2025-04",
            (5, 5, 5, 5, 5),
            (1 / 3, 0.5, 1e-7, -1e-9, 1.5),
            now,
        ),
    ]

    def stored() -> list[tuple]:
        fields = ("physician_id", "drug_id", "indication_id", "specialty_id", "region", "month")
        return sorted(
            releases.IncludedRating.objects.values_list(*fields, "raw", "adjusted", "included_at")
        )

    releases.write_new_rows(rows)
    as_lines = stored()
    releases.IncludedRating.objects.all().delete()
    monkeypatch.setattr(releases, "copy_available", lambda: False)
    releases.write_new_rows(rows)
    assert stored() == as_lines
    assert as_lines[1][4] == "odd\tplace\\x" and as_lines[0][7][1] is None
