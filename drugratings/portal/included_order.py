"""Included ratings kept in drug order on disk (PostgreSQL).

A release reads the included ratings of a chunk of drugs at a time (`releases._stored_rows`).
When each drug's rows lie side by side the read is a range of pages; spread over the table, it
reads most pages of the table for every chunk. At ten times launch the incremental release took
23.2-23.6 s on rows in drug order and 28.4 s on rows in rating order (880,000 rows of 25 drugs:
1.1 s against 2.0 s). The first release writes its rows in drug order; the rows later releases
add or update land wherever there is room, so the order decays, and the worker restores it
with CLUSTER once PostgreSQL's statistics say it has decayed. Only releases read this table,
and they run under the same lease as this, so CLUSTER's exclusive lock (11 s for 2.5 M rows)
holds no reader up.
"""

from __future__ import annotations

from django.db import connection

from drugratings.core.batches import analyze, copy_available
from drugratings.portal.models import IncludedRating

#: The correlation of the rows' order on disk with drug_id (pg_stats, refreshed by ANALYZE and
#: autovacuum) under which the table is put back in order.
MIN_DRUG_ORDER = 0.9


def drug_order() -> float | None:
    """How closely the included ratings' order on disk follows drug_id (1: exactly), as the
    planner's statistics last saw it; None where there are none (SQLite, or never analysed)."""
    if not copy_available():
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT correlation FROM pg_stats WHERE schemaname = current_schema() "
            "AND tablename = %s AND attname = 'drug_id'",
            [IncludedRating._meta.db_table],
        )
        row = cursor.fetchone()
    return None if row is None or row[0] is None else float(row[0])


def keep_in_drug_order() -> bool:
    """Put the included ratings back in drug order if it has decayed; True if it did."""
    order = drug_order()
    if order is None or order >= MIN_DRUG_ORDER:
        return False
    table = IncludedRating._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = %s AND indexdef LIKE %s",
            [table, "%(drug_id)"],
        )
        row = cursor.fetchone()
        if row is None:
            return False  # no index on drug_id alone: nothing to order by
        cursor.execute(f"CLUSTER {quote(table)} USING {quote(row[0])}")
    analyze(IncludedRating)  # the order just restored, for the next check
    return True
