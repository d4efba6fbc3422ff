"""Which physicians' ratings differ from what the last release included, found by the database.

A release's events are the ratings whose live state (scores, specialty, region, month) differs
from the included one, and the included ratings no longer live. Comparing them in Python reads
every rating twice: at ten times launch 2.5 M live and 2.5 M included rows through Django, most
of a minute, for a release that carries 10,000 changes. PostgreSQL compares them in one join
and names the physicians with a difference; the release then reads only their rows and finds
the same events among them as among all rows (an event belongs to one physician). Elsewhere
(SQLite, the demo's launch scale) every row is read and compared in Python.
"""

from __future__ import annotations

from django.db import connection

from drugratings.core.batches import copy_available
from drugratings.portal.models import IncludedRating
from drugratings.ratings.dimensions import DIMENSION_NAMES
from drugratings.ratings.queries import scored_ratings

# The live columns, in the order of the comparison below.
LIVE_COLUMNS = (
    "physician_id",
    "drug_id",
    "indication_id",
    "physician__specialty_id",
    "physician__region",
    "physician__country",
    "updated_at",
    *DIMENSION_NAMES,
)


def changed_physicians() -> set[int] | None:
    """Physicians with at least one rating whose live state differs from its included one (or
    that exists on one side only); None where only a full comparison in Python can tell."""
    if not copy_available():
        return None
    sql, params = scored_ratings().values_list(*LIVE_COLUMNS).query.sql_with_params()
    quote = connection.ops.quote_name
    live = ", ".join(f"{quote(name)} AS c{n}" for n, name in enumerate(LIVE_COLUMNS))
    scores = ", ".join(f"l.c{7 + n}" for n in range(len(DIMENSION_NAMES)))
    included = quote(IncludedRating._meta.db_table)
    # The same placement as releases._live: region, or the country when it is blank, cut to
    # 40 characters; the month of the last update in UTC; raw scores as the stored JSON list.
    query = f"""
        SELECT DISTINCT coalesce(l.c0, i.physician_id)
        FROM (SELECT {live} FROM ({sql}) AS rated) AS l
        FULL OUTER JOIN {included} AS i
          ON i.physician_id = l.c0 AND i.drug_id = l.c1 AND i.indication_id = l.c2
        WHERE l.c0 IS NULL OR i.id IS NULL
           OR i.specialty_id IS DISTINCT FROM l.c3
           OR i.region IS DISTINCT FROM left(coalesce(nullif(l.c4, ''), l.c5), 40)
           OR i.month IS DISTINCT FROM to_char(l.c6 AT TIME ZONE 'UTC', 'YYYY-MM')
           OR i.raw IS DISTINCT FROM jsonb_build_array({scores})
    """
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return {row[0] for row in cursor.fetchall()}
