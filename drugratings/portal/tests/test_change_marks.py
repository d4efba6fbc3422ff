"""Change marks (PostgreSQL): every write that can change what a release places marks its
physician, a release compares only the marked physicians and clears what it read, and deferred
changes, marks written meanwhile and failed builds lose no mark."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from drugratings.accounts.models import Specialty
from drugratings.portal import releases
from drugratings.portal.change_marks import EVERYONE, read_marks
from drugratings.portal.models import ChangeMark, IncludedRating
from drugratings.portal.privacy.policy import current_policy
from drugratings.portal.releases import build_release
from drugratings.portal.tests.conftest import add_physicians, rate
from drugratings.portal.tests.test_release_diff import _python_changed, _python_changed_keys
from drugratings.ratings.models import Rating

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the triggers are PostgreSQL's"
)


def _marked() -> set[int]:
    marks = read_marks()
    assert marks is not None and marks.physicians is not None
    return marks.physicians


def test_every_kind_of_change_is_marked_and_the_release_built_from_marks_includes_it(
    world, monkeypatch
):
    build_release()
    assert ChangeMark.objects.count() == 0  # the release cleared what it read
    doctors = [user.physician for user in world.physicians]
    catalog = world.catalog
    (newcomer,) = add_physicians(1, start=900)
    rate(newcomer, catalog.sertraline, catalog.depression, 3)
    edited = doctors[0].ratings.first()
    edited.efficacy = 1 if edited.efficacy != 1 else 2
    edited.save()
    doctors[1].ratings.first().delete()  # withdrawn
    quarantined = doctors[2].ratings.first()
    quarantined.status = "quarantined"
    quarantined.save(update_fields=["status"])
    Rating.objects.filter(pk=doctors[3].ratings.first().pk).update(conflict_of_interest=True)
    doctors[4].specialty = Specialty.objects.exclude(pk=doctors[4].specialty_id).first()
    doctors[4].save(update_fields=["specialty"])
    doctors[5].region = ""  # placed by the country now
    doctors[5].save(update_fields=["region"])
    doctors[6].verification_status = "suspended"
    doctors[6].save(update_fields=["verification_status"])
    moved = doctors[7].ratings.first()
    moved.updated_at = timezone.now() - timedelta(days=62)
    moved.save(update_fields=["updated_at"])
    # Not marked: a physician's handle, a rating's off-label flag.
    doctors[8].handle = "renamed-doctor"
    doctors[8].save(update_fields=["handle"])
    Rating.objects.filter(physician=doctors[9]).update(off_label=True)

    changed = {newcomer.physician.pk, *(d.pk for d in doctors[:8])}
    assert _python_changed() == changed
    assert _marked() == changed
    # The release compares only the marked physicians (not everyone's rows in the database)
    # and includes every changed rating.
    monkeypatch.setattr(releases, "changed_physicians", _fail)
    changed_ratings = len(_python_changed_keys())
    release = build_release()
    assert release.n_events == changed_ratings > len(changed)
    assert _python_changed() == set()
    assert ChangeMark.objects.count() == 0


def _fail(*args):
    raise AssertionError("compared every physician although the marks named the changed ones")


def test_a_bulk_insert_marks_its_physicians_in_one_statement(world):
    build_release()
    newcomers = [user.physician for user in add_physicians(3, start=500)]
    ChangeMark.objects.all().delete()  # their regions' update marked them already
    now = timezone.now()
    Rating.objects.bulk_create(
        [
            Rating(
                physician=p,
                drug=world.catalog.sertraline,
                indication=world.catalog.depression,
                efficacy=4,
                created_at=now,
                updated_at=now,
            )
            for p in newcomers
        ]
    )
    assert _marked() == {p.pk for p in newcomers}
    assert ChangeMark.objects.count() == 3  # one row per physician, not per rating or trigger


def test_a_mark_for_everyone_compares_every_physician(world, monkeypatch):
    build_release()
    doctor = world.physicians[0].physician
    # A change the triggers did not see (as before they existed): a mark for everyone finds it.
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # triggers do not fire
        Rating.objects.filter(physician=doctor).update(efficacy=1, safety=1)
        cursor.execute("SET session_replication_role = DEFAULT")
    assert ChangeMark.objects.count() == 0
    ChangeMark.objects.create(physician_id=EVERYONE)
    compared = []
    original = releases.changed_physicians

    def counting(parts):
        compared.append(parts)
        return original(parts)

    monkeypatch.setattr(releases, "changed_physicians", counting)
    release = build_release()
    assert compared and release.n_events == doctor.ratings.count() > 0
    assert ChangeMark.objects.count() == 0


def test_deferred_changes_stay_marked(world, settings):
    budget = 1.5 * current_policy().rho_per_new_rating  # room for one new rating, not two
    settings.PORTAL_RHO_BUDGET = budget
    release = build_release()
    assert release.n_deferred > 0
    deferred = _python_changed()
    assert deferred and _marked() == deferred
    settings.PORTAL_RHO_BUDGET = 1e6
    build_release()
    assert _python_changed() == set() and ChangeMark.objects.count() == 0


def test_a_mark_written_while_the_release_builds_stays_for_the_next(world, monkeypatch):
    build_release()
    doctor = world.physicians[0].physician
    original = releases._physicians_to_compare

    def then_a_rating_changes(previous, marks):
        found = original(previous, marks)
        Rating.objects.filter(physician=doctor).update(efficacy=1)  # after the marks were read
        return found

    monkeypatch.setattr(releases, "_physicians_to_compare", then_a_rating_changes)
    first = build_release()
    assert first.n_events == 0 and _marked() == {doctor.pk}
    monkeypatch.setattr(releases, "_physicians_to_compare", original)
    assert build_release().n_events == doctor.ratings.count()


def test_a_failed_release_keeps_every_mark(world, monkeypatch):
    build_release()
    rate(add_physicians(1, start=700)[0], world.catalog.sertraline, world.catalog.depression, 2)
    before = _marked()
    included = IncludedRating.objects.count()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(releases, "update_engagement", broken)  # inside the write transaction
    with pytest.raises(RuntimeError):
        build_release()
    assert _marked() == before and IncludedRating.objects.count() == included
