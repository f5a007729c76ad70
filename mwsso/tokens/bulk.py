"""One UPDATE for many rows, each with its own values: what ``rotate-keys`` and ``import-social`` write per batch.

Django's ``bulk_update`` builds a ``Case``/``When`` object per row and value, which costs several times the
statement itself at a few hundred rows (issue 21); this writes the same ``CASE`` on the primary key as SQL,
with every value a parameter prepared by its model field (JSON adapted as the database needs it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper

# Parameters per statement when the database does not say (PostgreSQL's protocol limit).
DEFAULT_MAX_PARAMS = 65535


def _connection(model: type[models.Model]) -> BaseDatabaseWrapper:
    # The database the model's writes are routed to (a site with routers may keep mwsso's tables apart).
    return connections[router.db_for_write(model)]


def max_params(connection: BaseDatabaseWrapper) -> int:
    """How many parameters one statement may have on this connection's database."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        getlimit = getattr(connection.connection, "getlimit", None)  # Python 3.11+
        return getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if getlimit else 999
    return DEFAULT_MAX_PARAMS


def update_by_pk(
    model: type[models.Model],
    values: Mapping[str, Mapping[Any, Any]],
    *,
    only_where: Mapping[str, Mapping[Any, Any]] | None = None,
    constants: Mapping[str, Any] | None = None,
) -> int:
    """``UPDATE`` each row of ``values[field]``'s keys (primary keys) to its value of every field, in one statement.

    ``only_where[field][pk]``: the row is written only if that field still holds this value (a compare-and-set,
    so a concurrent write is never overwritten). ``constants``: fields set to the same value in every row.
    Returns the number of rows written. The primary keys are those of the first field's mapping; a batch too
    large for one statement on this database (SQLite's parameter limit) is split.
    """
    fields = list(values)
    pks = list(values[fields[0]])
    only_where = only_where or {}
    constants = constants or {}
    per_row = 2 * (len(fields) + len(only_where)) + 1
    rows_per_statement = max(1, (max_params(_connection(model)) - len(constants)) // per_row)
    written = 0
    for start in range(0, len(pks), rows_per_statement):
        written += _update(model, pks[start : start + rows_per_statement], values, only_where, constants)
    return written


def _update(
    model: type[models.Model],
    pks: list[Any],
    values: Mapping[str, Mapping[Any, Any]],
    only_where: Mapping[str, Mapping[Any, Any]],
    constants: Mapping[str, Any],
) -> int:
    if not pks:
        return 0
    connection = _connection(model)
    quote = connection.ops.quote_name
    opts = model._meta
    pk_column = quote(opts.pk.column)
    cases = " ".join(["WHEN %s THEN %s"] * len(pks))

    def concrete(name: str) -> models.Field[Any, Any]:
        # Only concrete columns are written here; a relation's reverse side or a generic key is a caller's mistake.
        field = opts.get_field(name)
        if not isinstance(field, models.Field):
            raise TypeError(f"{model.__name__}.{name} is not a column")
        return field

    def column(name: str) -> str:
        return quote(str(concrete(name).column))

    def prepared(name: str, value: Any) -> Any:
        return concrete(name).get_db_prep_value(value, connection, prepared=False)

    def case(name: str, by_pk: Mapping[Any, Any]) -> tuple[str, list[Any]]:
        params = [x for pk in pks for x in (pk, prepared(name, by_pk[pk]))]
        return f"CASE {pk_column} {cases} END", params

    assignments, params = [], []
    for name, by_pk in values.items():
        sql, case_params = case(name, by_pk)
        assignments.append(f"{column(name)} = {sql}")
        params += case_params
    for name, value in constants.items():
        assignments.append(f"{column(name)} = %s")
        params.append(prepared(name, value))
    conditions = [f"{pk_column} IN ({', '.join(['%s'] * len(pks))})"]
    params += pks
    for name, by_pk in only_where.items():
        sql, case_params = case(name, by_pk)
        conditions.append(f"{column(name)} = {sql}")
        params += case_params
    # Only quoted identifiers and placeholders go into the text; every value is a parameter.
    statement = f"UPDATE {quote(opts.db_table)} SET {', '.join(assignments)} WHERE {' AND '.join(conditions)}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return int(cursor.rowcount)


def insert_rows(model: type[models.Model], rows: list[dict[str, Any]], constants: Mapping[str, Any]) -> int:
    """INSERT one row per dict of ``rows`` (field name: value), every row also with ``constants``; returns the count.

    What ``bulk_create`` does without building a model instance and preparing every value of every row (most
    of an import's time besides the encryption): a field neither in a row nor in ``constants`` gets its
    default, the constants and defaults are prepared once, each row's own values one by one; then
    multi-row INSERTs, as few as the database's parameter limit allows. No primary key is returned.
    """
    if not rows:
        return 0
    connection = _connection(model)
    opts = model._meta
    fields = [field for field in opts.concrete_fields if not field.primary_key]
    own = [field for field in fields if field.name in rows[0] or field.attname in rows[0]]
    fixed = {}
    for field in fields:
        if field in own:
            continue
        value = constants[field.name] if field.name in constants else field.get_default()
        fixed[field.attname] = field.get_db_prep_save(value, connection)
    quote = connection.ops.quote_name
    ordered = own + [field for field in fields if field not in own]
    columns = ", ".join(quote(field.column) for field in ordered)
    head = f"INSERT INTO {quote(opts.db_table)} ({columns}) VALUES "  # noqa: S608 (identifiers only)
    placeholders = "(" + ", ".join(["%s"] * len(ordered)) + ")"
    tail = [fixed[field.attname] for field in ordered[len(own) :]]
    rows_per_statement = max(1, max_params(connection) // len(ordered))
    inserted = 0
    for start in range(0, len(rows), rows_per_statement):
        chunk = rows[start : start + rows_per_statement]
        params: list[Any] = []
        for row in chunk:
            for field in own:
                value = row[field.name] if field.name in row else row[field.attname]
                params.append(field.get_db_prep_save(value, connection))
            params += tail
        with connection.cursor() as cursor:
            cursor.execute(head + ", ".join([placeholders] * len(chunk)), params)
            inserted += cursor.rowcount
    return inserted
