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

from concurrent.futures import ThreadPoolExecutor

from django.db import connection
from django.db.models import QuerySet

from drugratings.core.batches import copy_available, in_own_connection
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


def placed_live_sql(query: QuerySet) -> tuple[str, list]:
    """SQL of these live ratings placed as a release places them (releases._live): physician,
    drug, indication, specialty, place (the region, or the country when it is blank, cut to
    40 characters), month of the last update in UTC, and the five scores (NULL: no opinion)."""
    sql, params = query.values_list(*LIVE_COLUMNS).query.sql_with_params()
    quote = connection.ops.quote_name
    live = ", ".join(f"{quote(name)} AS c{n}" for n, name in enumerate(LIVE_COLUMNS))
    scores = ", ".join(f"c{7 + n} AS score_{n}" for n in range(len(DIMENSION_NAMES)))
    return (
        "SELECT c0 AS physician_id, c1 AS drug_id, c2 AS indication_id, c3 AS specialty_id, "
        "left(coalesce(nullif(c4, ''), c5), 40) AS place, "
        f"to_char(c6 AT TIME ZONE 'UTC', 'YYYY-MM') AS month, {scores} "
        f"FROM (SELECT {live} FROM ({sql}) AS rated) AS l",
        list(params),
    )


def changed_physicians(parts: int = 1) -> set[int] | None:
    """Physicians with at least one rating whose live state differs from its included one (or
    that exists on one side only); None where only a full comparison in Python can tell.

    `parts` > 1 splits the comparison by physician into that many queries, run side by side on
    their own connections: at ten times launch the one join took 9.5 s on this 2-core machine,
    two halves 6.2 s. They see only committed rows, so inside a transaction (a test's) the
    comparison runs in this connection, in one part."""
    if not copy_available():
        return None
    if parts <= 1 or connection.in_atomic_block:
        return _changed_in_part(0, 1)
    with ThreadPoolExecutor(parts) as pool:
        found = pool.map(
            in_own_connection, [_changed_in_part] * parts, range(parts), [parts] * parts
        )
        return set().union(*found)


def _changed_in_part(part: int, parts: int) -> set[int]:
    """changed_physicians among those whose id is `part` modulo `parts`."""
    sql, params = placed_live_sql(scored_ratings())
    scores = ", ".join(f"l.score_{n}" for n in range(len(DIMENSION_NAMES)))
    included = connection.ops.quote_name(IncludedRating._meta.db_table)
    query = f"""
        SELECT DISTINCT coalesce(l.physician_id, i.physician_id)
        FROM (SELECT * FROM ({sql}) AS placed WHERE physician_id %% %s = %s) AS l
        FULL OUTER JOIN (SELECT * FROM {included} WHERE physician_id %% %s = %s) AS i
          ON i.physician_id = l.physician_id AND i.drug_id = l.drug_id
         AND i.indication_id = l.indication_id
        WHERE l.physician_id IS NULL OR i.id IS NULL
           OR i.specialty_id IS DISTINCT FROM l.specialty_id
           OR i.region IS DISTINCT FROM l.place
           OR i.month IS DISTINCT FROM l.month
           OR i.raw IS DISTINCT FROM jsonb_build_array({scores})
    """
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, parts, part, parts, part])
        return {row[0] for row in cursor.fetchall()}
