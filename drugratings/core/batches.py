"""Bulk writes: inserts in short transactions, and rows streamed with COPY.

On SQLite a writer holds the database's one write lock until it commits, so a single
transaction of a fit's scores or of the first release's rows kept sign-ins and rating writes
waiting past the busy timeout (issue 10). Each batch commits on its own; the callers write rows
that no reader sees until a final small transaction makes them current.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import TypeVar

import numpy as np
from django.db import connection, models, transaction

Result = TypeVar("Result")


def in_own_connection(work: Callable[..., Result], *args: object) -> Result:
    """`work(*args)` in a worker thread's own database connection, closed afterwards (Django
    opens one per thread; left open, each would outlive its thread)."""
    try:
        return work(*args)
    finally:
        connection.close()


def insert_in_batches(model: type[models.Model], rows: Sequence[models.Model], size: int) -> None:
    """``bulk_create`` ``rows`` in transactions of at most ``size`` rows each."""
    for start in range(0, len(rows), size):
        with transaction.atomic():
            model.objects.bulk_create(rows[start : start + size])


BATCH = 5000


def copy_available() -> bool:
    """COPY ... FROM STDIN is PostgreSQL's (psycopg 3 `cursor.copy`)."""
    return connection.vendor == "postgresql"


def _one_text(
    sql: str, params: Sequence, fields: list[str], field_separator: str, row_separator: str
) -> tuple[str | None, int]:
    """The rows of a query joined by the server into one text (fields, then rows, by the given
    separators, as SQL literals), and how many rows there were (PostgreSQL only). concat_ws
    leaves a NULL field out: the callers check the number of values they parse."""
    if not copy_available():
        raise ValueError(f"reading rows as one text needs PostgreSQL, not {connection.vendor}")
    joined = f"concat_ws({field_separator}, {', '.join(fields)})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT string_agg({joined}, {row_separator}), count(*) FROM ({sql}) AS q", params
        )
        return cursor.fetchone()


def read_integer_rows(sql: str, params: Sequence, columns: list[str]) -> np.ndarray:
    """The rows of a query of integer `columns` (no NULL) as an (n, len(columns)) int64 array
    (PostgreSQL only). The server joins them into one text of comma-separated numbers and numpy
    parses it: at ten times launch the refit's 2.5 M ratings took 45 s as cursor rows (25 M
    Python objects, a time zone attached to every timestamp), 20 s through COPY TO (one
    message per row) and under 10 s this way. One text value stops at PostgreSQL's 1 GB: about
    20 M rows of ten columns; past that a caller splits its query."""
    fields = [connection.ops.quote_name(c) for c in columns]
    text, rows = _one_text(sql, params, fields, field_separator="','", row_separator="','")
    if not rows:
        return np.zeros((0, len(columns)), dtype=np.int64)
    values = np.fromstring(text, dtype=np.int64, sep=",")
    if values.size != rows * len(columns):  # concat_ws skipped a NULL
        raise ValueError(f"read_integer_rows: {rows} rows gave {values.size} values; a NULL?")
    return values.reshape(rows, len(columns))


#: Column kinds `read_columns` parses: numpy dtype and the pyarrow type it parses into.
COLUMN_KINDS = {"int": "int64", "float": "float64", "str": "string"}


def read_columns(sql: str, params: Sequence, columns: dict[str, str]) -> dict[str, np.ndarray]:
    """The rows of a query as numpy columns (PostgreSQL only), `columns` naming each output
    column's kind: "int" (no NULL), "float" (NULL read as NaN) or "str" (no NULL, no tab or
    line break). As `read_integer_rows`, the server joins the rows into one text, here
    tab-separated, and pyarrow's CSV reader parses it: a release at ten times launch read 2.5 M
    included ratings in 27 s as Django rows (a JSON document and a time zone per row), and in a
    few seconds this way. Same 1 GB limit of one text."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    unknown = sorted(set(columns.values()) - set(COLUMN_KINDS))
    if unknown:
        raise ValueError(f"read_columns: unknown column kind {unknown[0]!r}")
    quote = connection.ops.quote_name
    fields = [
        f"coalesce({quote(name)}::text, 'nan')" if kind == "float" else quote(name)
        for name, kind in columns.items()
    ]
    text, rows = _one_text(sql, params, fields, field_separator="E'\\t'", row_separator="E'\\n'")
    if not rows:
        return {
            name: np.zeros(0, dtype=str if kind == "str" else COLUMN_KINDS[kind])
            for name, kind in columns.items()
        }
    types = {name: getattr(pa, COLUMN_KINDS[kind])() for name, kind in columns.items()}
    try:
        table = pacsv.read_csv(
            pa.py_buffer(text.encode()),
            read_options=pacsv.ReadOptions(column_names=list(columns)),
            parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False),
            convert_options=pacsv.ConvertOptions(
                column_types=types, null_values=[], strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid as error:  # a NULL skipped by concat_ws shifts the columns
        raise ValueError(
            f"read_columns: the rows did not parse ({error}): a NULL, tab or line break?"
        ) from error
    if table.num_rows != rows:
        raise ValueError(
            f"read_columns: {rows} rows gave {table.num_rows}: a NULL, tab or line break?"
        )
    out = {}
    for name, kind in columns.items():
        values = table.column(name).to_numpy(zero_copy_only=False)
        out[name] = values.astype(str) if kind == "str" else values
    return out


def write_rows(
    model: type[models.Model], columns: list[str], rows: Iterable[tuple], *, copy: bool
) -> int:
    """Write `rows` (values in the order of `columns`, already in database form) into the
    model's table; returns how many. `copy` streams them with COPY (PostgreSQL only)."""
    if copy and not copy_available():
        raise ValueError(f"COPY needs PostgreSQL, not {connection.vendor}")
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    written = 0
    with connection.cursor() as cursor:
        if copy:
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as stream:
                for row in rows:
                    stream.write_row(row)
                    written += 1
            return written
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
        for batch in batches(rows, BATCH):
            cursor.executemany(sql, batch)
            written += len(batch)
    return written


def copy_text(value: str) -> str:
    """A string as one field of COPY's text format (backslash, tab and line breaks escaped)."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def write_copy_lines(model: type[models.Model], columns: list[str], lines: Iterable[str]) -> int:
    """Rows already formatted as lines of COPY's text format (fields tab-separated, each
    escaped by `copy_text` where it may need it, a line break at the end) streamed into the
    model's table in one COPY (PostgreSQL only); returns how many. `write_rows` formats each
    row in Python through psycopg: at ten times launch the first release's 2.5 M included
    ratings took 30 s that way."""
    if not copy_available():
        raise ValueError(f"COPY needs PostgreSQL, not {connection.vendor}")
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    written = 0
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({names}) FROM STDIN") as stream,
    ):
        for block in batches(lines, BATCH):
            stream.write("".join(block))
            written += len(block)
    return written


def _plain_text(value: object) -> str:
    """One plain value as a field of COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(int(value))  # an IntegerChoices member as its number
    if isinstance(value, float):
        return repr(float(value))
    if isinstance(value, str):
        return copy_text(str(value))  # a TextChoices member as its text
    if isinstance(value, dict | list):
        return copy_text(json.dumps(value))
    raise ValueError(f"write_plain_rows: {type(value).__name__} is not a plain value")


def write_plain_rows(model: type[models.Model], columns: list[str], rows: Iterable[tuple]) -> int:
    """Rows of plain values (numbers, booleans, text, JSON as dicts and lists, None) in the
    order of `columns`, formatted for COPY here and streamed in one COPY (PostgreSQL only):
    a first release at ten times launch writes 525,000 cell states and versions, and Django's
    per-field preparation took 15 s of it. Any other value is refused by its type's name."""
    lines = ("\t".join(map(_plain_text, row)) + "\n" for row in rows)
    return write_copy_lines(model, columns, lines)


def write_objects(model: type[models.Model], objects: Iterable[models.Model], *, copy: bool) -> int:
    """Unsaved instances written as `write_rows` writes tuples: every concrete field but the
    automatic primary key, prepared as Django's INSERT prepares them (defaults, JSON)."""
    fields = [f for f in model._meta.concrete_fields if f is not model._meta.auto_field]
    rows = (
        tuple(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields)
        for obj in objects
    )
    return write_rows(model, [f.column for f in fields], rows, copy=copy)


def batches(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def analyze(*tables: type[models.Model]) -> None:
    """Refresh PostgreSQL's planner statistics of tables just filled in bulk. Until autovacuum
    gets to them the planner believes them nearly empty: after the ten-times demo load it
    hash-joined all 205,000 comments for every page's unread count (70 ms; 0.3 ms after)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
