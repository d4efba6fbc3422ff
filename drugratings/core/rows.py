"""One-row reads on the hot request path, in SQL the ORM writes once per process.

Building and compiling a QuerySet costs more than running it: on the 2-core bench machine the
current-fit lookup took 510 µs through the ORM and 87 µs here, a bearer token with its user
1.4 ms against 0.4 ms. Every drug document and page makes a handful of such reads (token or
session user, physician profile, drug, ratings versions, current fit, saved state), so
`one_row` asks the ORM for each lookup's SQL and result converters once per process and
database, then only executes it and builds the instance with `Model.from_db`, as the ORM's
own iterator does. Same rows, same types, same database router (a replica read stays a replica
read); no query text written by hand.

Django has no compiled-query cache (django-cachalot and the like cache results, which here
must never outlive a write), hence this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.sql.compiler import SQLCompiler

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    compiler: SQLCompiler  # applies the converters (SQLite datetimes, JSON, booleans)
    converters: dict
    attnames: list[str]  # of the selected columns, for `Model.from_db`
    params: list[str]  # which lookup fills each parameter slot, in order


# Per process and database alias, not per connection: under ASGI every request runs in a
# thread of its own (asgiref's ThreadSensitiveContext), so with a new connection object each
# time. A compiler keeps the connection that made it only for its converters, which read the
# backend's settings (time zone, JSON decoder), never the database; a race compiles twice.
_compiled_by_alias: dict[tuple, _Compiled] = {}


def one_row(model: type[M], *, fields: Sequence[str] | None = None, **where: Any) -> M | None:
    """The row of `model` whose fields equal `where` (exact lookups on fields, `pk` allowed),
    or None. For unique lookups: with several matches, which one comes back is undefined.
    `fields` limits the columns read (the others are deferred, as with `QuerySet.only`)."""
    alias = router.db_for_read(model)
    connection = connections[alias]
    lookups: dict[str, tuple[Field, Any]] = {}  # by field name ("pk" becomes "id")
    for name, value in where.items():
        field = _field(model, name)
        lookups[field.name] = (field, value.pk if isinstance(value, Model) else value)
    # A boolean lookup compiles to `WHERE flag` or `WHERE NOT flag`: its value is in the SQL.
    constants = tuple(
        sorted((n, v) for n, (f, v) in lookups.items() if f.get_internal_type() == "BooleanField")
    )
    shape = (model, tuple(sorted(lookups)), tuple(fields or ()), constants)
    compiled = _compiled(alias, shape)
    params = [_prep(*lookups[name], connection) for name in compiled.params]
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    if compiled.converters:
        row = next(iter(compiled.compiler.apply_converters([row], compiled.converters)))
    return model.from_db(alias, compiled.attnames, tuple(row))


def _field(model: type[Model], name: str) -> Field:
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    if not isinstance(field, Field) or not field.concrete:
        raise ValueError(f"{model.__name__}.{name}: one_row looks up concrete fields only")
    return field


def _compiled(alias: str, shape: tuple) -> _Compiled:
    key = (alias, *shape)
    found = _compiled_by_alias.get(key)
    if found is None:
        found = _compiled_by_alias[key] = _compile(alias, *shape)
    return found


def _compile(
    alias: str, model: type[Model], names: tuple[str, ...], fields: tuple, constants: tuple
) -> _Compiled:
    queryset = model._base_manager.using(alias).order_by()
    if fields:
        queryset = queryset.only(*fields)
    # Distinct placeholder values of each field's own kind, to tell which parameter slot each
    # lookup fills (the ORM orders them itself); only the SQL is kept, never a value.
    fixed = dict(constants)
    samples = {
        name: fixed[name] if name in fixed else _sample(model._meta.get_field(name), n)
        for n, name in enumerate(names, start=1)
    }
    query = queryset.filter(**samples)[:1].query
    compiler = query.get_compiler(alias)
    sql, sql_params = compiler.as_sql()
    connection = connections[alias]
    field_of = {
        _prep(model._meta.get_field(name), samples[name], connection): name
        for name in names
        if name not in fixed
    }
    if len(sql_params) != len(field_of) or set(sql_params) != set(field_of):
        raise ValueError(f"{model.__name__} {names}: unexpected parameters {sql_params}")
    select_fields = compiler.klass_info["select_fields"]  # type: ignore[index]
    columns = [column for column, _, _ in compiler.select[: compiler.col_count]]
    return _Compiled(
        sql=sql,
        compiler=compiler,
        converters=compiler.get_converters(columns),
        attnames=[compiler.select[i][0].target.attname for i in select_fields],
        params=[field_of[p] for p in sql_params],
    )


def _prep(field: Field, value: Any, connection: BaseDatabaseWrapper) -> Any:
    return field.get_db_prep_value(value, connection, prepared=False)


def _sample(field: Field, n: int) -> Any:
    if field.get_internal_type() in {"CharField", "TextField", "SlugField", "EmailField"}:
        return f"sample-{n}"
    return 7_000_000 + n
