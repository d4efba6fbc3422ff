"""The physicians whose ratings may have changed since the last release, kept by the database.

A release's events are the ratings whose live state differs from the included one. Comparing
every live rating with its included one (`release_diff.changed_physicians`) is a join of 2.5 M
rows on each side at ten times launch: 10-12 s of every incremental release on a 2-core
machine, for a release that carries 10,000 changes. Instead, PostgreSQL triggers (migration
portal 0010) mark, in the writing transaction, the physician of every rating inserted, edited
or deleted and every physician whose specialty, region, country or standing changed, whatever
wrote it (the product's actions, the admin, the loader's COPY, a raw UPDATE). A release reads
the marks, compares only those physicians' rows (a mark means "may have changed": a
physician marked for nothing the release places differently has no event), and deletes the
marks it read in its write transaction. Marks written meanwhile stay for the next release.
A physician some of whose changes the privacy budget deferred is marked again.

A mark for EVERYONE (written when the triggers were created, and by a TRUNCATE of the ratings)
makes the next release compare every physician's ratings. SQLite keeps no marks: there a
release compares every rating (launch scale, the demo).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from drugratings.portal.models import ChangeMark

EVERYONE = -1


@dataclass(frozen=True)
class Marks:
    ids: list[int]  # the marks read, deleted once the release is written
    physicians: set[int] | None  # None: every physician may have changed


def read_marks() -> Marks | None:
    """The marks written so far; None where the database keeps none (not PostgreSQL)."""
    if connection.vendor != "postgresql":
        return None
    ids, physicians = [], set()
    for pk, physician in ChangeMark.objects.values_list("pk", "physician_id").iterator(10_000):
        ids.append(pk)
        physicians.add(physician)
    return Marks(ids, None if EVERYONE in physicians else physicians)


def clear_marks(marks: Marks | None, deferred: set[int]) -> None:
    """Delete the marks a release read (by id: a mark committed after the read, even with a
    lower id, stays), and mark again the physicians with deferred changes. Called in the
    release's write transaction, so a release that fails leaves every mark in place."""
    if marks is None:
        return
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(ChangeMark._meta.db_table)
        # One array parameter: an IN list of the marks after a bulk load (120,000 at ten
        # times launch) would pass PostgreSQL's 65,535 bind parameters.
        cursor.execute(f"DELETE FROM {table} WHERE id = ANY(%s)", [marks.ids])
    ChangeMark.objects.bulk_create(
        [ChangeMark(physician_id=p) for p in sorted(deferred)], batch_size=5000
    )
