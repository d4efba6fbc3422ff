"""Baselines of the loader benchmarks: the same rows the product wrote, inserted with a bare
`executemany` into bare tables (no indexes, constraints or ORM) -- the floor for any loader.

Rows are captured from the product's SQLite database by rowid range: `snapshot()` before and
after each step, `capture()` reads the rows a step added (every Django table has a rowid).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

Rows = dict[str, tuple[list[str], list[tuple]]]


def _tables(conn: sqlite3.Connection) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]


def snapshot(db: Path) -> dict[str, int]:
    """Highest rowid of every table (0 when empty)."""
    if not db.exists():
        return {}
    conn = sqlite3.connect(db)
    try:
        return {
            t: conn.execute(f'SELECT coalesce(max(rowid), 0) FROM "{t}"').fetchone()[0]
            for t in _tables(conn)
        }
    finally:
        conn.close()


def capture(db: Path, before: dict[str, int], after: dict[str, int]) -> Rows:
    """The rows each table gained between two snapshots, with the table's column names."""
    conn = sqlite3.connect(db)
    out: Rows = {}
    try:
        for table, high in after.items():
            low = before.get(table, 0)
            if high <= low:
                continue
            cur = conn.execute(
                f'SELECT * FROM "{table}" WHERE rowid > ? AND rowid <= ?', (low, high)
            )
            columns = [d[0] for d in cur.description]
            rows = cur.fetchall()
            if rows:
                out[table] = (columns, rows)
    finally:
        conn.close()
    return out


def merge(*parts: Rows) -> Rows:
    out: Rows = {}
    for part in parts:
        for table, (columns, rows) in part.items():
            if table in out:
                out[table] = (columns, out[table][1] + rows)
            else:
                out[table] = (columns, list(rows))
    return out


def describe(rows: Rows) -> dict:
    n = sum(len(r) for _, r in rows.values())
    size = 0
    for _, table_rows in rows.values():
        for row in table_rows[:2000]:
            size += sum(len(v) if isinstance(v, (str, bytes)) else 8 for v in row if v is not None)
    sampled = sum(min(len(r), 2000) for _, r in rows.values())
    return {
        "rows": n,
        "tables": len(rows),
        "avg_row_bytes": round(size / sampled, 1) if sampled else 0,
    }


def sqlite_floor(rows: Rows, path: Path) -> float:
    """Seconds to executemany the rows into bare tables of a fresh SQLite file, in one
    transaction, with the product's pragmas (WAL, synchronous=NORMAL)."""
    if path.exists():
        path.unlink()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        for i, (columns, _) in enumerate(rows.values()):
            conn.execute(f"CREATE TABLE t{i} ({', '.join(f'c{j}' for j in range(len(columns)))})")
        started = time.perf_counter()
        conn.execute("BEGIN")
        for i, (columns, table_rows) in enumerate(rows.values()):
            marks = ", ".join("?" * len(columns))
            conn.executemany(f"INSERT INTO t{i} VALUES ({marks})", table_rows)
        conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _pg_type(values: list) -> str:
    for v in values:
        if v is None:
            continue
        if isinstance(v, (bool, int)):
            return "bigint"
        if isinstance(v, float):
            return "double precision"
        if isinstance(v, bytes):
            return "bytea"
        return "text"
    return "text"


def postgres_floor(rows: Rows, dsn: str, schema: str = "bench_floor") -> float:
    """Seconds to executemany the same rows into bare tables of a scratch schema of the
    benchmark's PostgreSQL database (psycopg 3, one transaction); the schema is dropped after."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            for i, (columns, table_rows) in enumerate(rows.values()):
                cols = ", ".join(
                    f"c{j} {_pg_type([r[j] for r in table_rows[:200]])}"
                    for j in range(len(columns))
                )
                conn.execute(f"CREATE TABLE {schema}.t{i} ({cols})")
            started = time.perf_counter()
            with conn.transaction(), conn.cursor() as cur:
                for i, (columns, table_rows) in enumerate(rows.values()):
                    marks = ", ".join(["%s"] * len(columns))
                    cur.executemany(f"INSERT INTO {schema}.t{i} VALUES ({marks})", table_rows)
            return time.perf_counter() - started
        finally:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
